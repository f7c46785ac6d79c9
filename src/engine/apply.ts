// The transaction: parse, merge, validate, plan, checkpoint, execute, verify, commit — or
// roll back and prove the host is exactly as it was. The only place that sequences a change.
import { type ChangeRequest, type Config, emptyConfig } from '../model/config.ts';
import { canonicalizeLenient } from '../model/canonicalize.ts';
import { ErrorCode, NetswitchError, invalid } from '../model/errors.ts';
import { mergeRequest } from '../model/merge.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { diffSnapshots } from '../host/compare.ts';
import { readSnapshot } from '../host/snapshot.ts';
import { existsSync } from 'node:fs';
import type { OvsSnapshot } from '../model/ovs.ts';
import type { OvsdbClient } from '../ovsdb/index.ts';
import { layoutFromSnapshot, layoutOf, sourceRouteTable } from '../plan/layout.ts';
import { planLinuxPhases } from '../plan/linux.ts';
import { ovsLayoutOf, planOvs } from '../plan/ovs.ts';
import { type Step, commandsOf, describeStep, undo } from '../plan/steps.ts';
import { connectOvs, defaultDatapath, ovsdbTarget, readOvs } from '../switch/ovs/state.ts';
import { validateConfig } from '../validate/validate.ts';
import { announceAddresses } from '../ip/announce.ts';
import { runPlan } from './execute.ts';
import { type Log, silentLog } from '../sys/log.ts';
import { StateDir } from './state.ts';

export interface EngineOptions {
  stateDir: string;
  log?: Log;
  /** The request is the whole desired config: what it does not name is removed. */
  replace?: boolean;
  /** datapath_type of the OVS bridges netswitch creates (default $NETSWITCH_OVS_DATAPATH or system). */
  ovsDatapath?: string;
}

export interface PlannedChange {
  request: ChangeRequest;
  running: Config;
  desired: Config;
  snapshot: Snapshot;
  owned: Set<string>;
  steps: Step[];
  datapath: string;
}

export interface ApplyResult {
  status: 'applied' | 'unchanged';
  steps: Step[];
  config: Config;
  /** Milliseconds per phase. */
  timings: Record<string, number>;
}

interface Journal {
  startedAt: string;
  pid: number;
  steps: Step[];
  checkpoint: Snapshot;
}

/**
 * Connects to OVSDB when its socket is there. Without it the host is legacy-only; a request
 * that needs OVS is then refused by validation, with the reason.
 */
export async function openOvs(): Promise<OvsdbClient | undefined> {
  const target = ovsdbTarget();
  if (target.startsWith('unix:') && !existsSync(target.slice(5))) return undefined;
  try {
    return await connectOvs();
  } catch {
    return undefined;
  }
}

/** The host as it is now: the kernel's view, and OVSDB's when a client is given. */
export function readHost(ovs?: OvsdbClient, options: { stats?: boolean } = {}): Promise<Snapshot> {
  return readSnapshot({ ...options, readOvs: ovs ? async () => toOvsSnapshot(await readOvs(ovs)) : undefined });
}

function toOvsSnapshot(state: OvsSnapshot): OvsSnapshot {
  return { layout: state.layout, bridges: state.bridges, ports: state.ports, interfaces: state.interfaces };
}

/** Parse, merge, read the host, validate and plan. Changes nothing. */
export async function planChange(input: unknown, options: EngineOptions): Promise<PlannedChange> {
  const ovs = await openOvs();
  try {
    return await planWith(input, options, ovs);
  } finally {
    await ovs?.close();
  }
}

/** planChange with the caller's OVSDB connection (left open). */
async function planWith(input: unknown, options: EngineOptions, ovs: OvsdbClient | undefined): Promise<PlannedChange> {
  const state = new StateDir(options.stateDir);
  const { request, issues } = canonicalizeLenient(input);
  {
    const [running, owned, snapshot] = await Promise.all([state.running(), state.owned(), readHost(ovs)]);
    const { config: desired, issues: mergeIssues } = mergeRequest(running, request, options.replace ?? false);
    issues.push(
      ...mergeIssues,
      ...validateConfig(desired, {
        snapshot,
        running,
        owned,
        switchTypes: new Set(ovs ? ['legacy', 'ovs'] : ['legacy']),
        unavailableHint: `start Open vSwitch (no OVSDB server answers at ${ovsdbTarget()}; NETSWITCH_OVSDB sets where to look)`,
        named: { networks: new Set(Object.keys(request.networks)), bondings: new Set(Object.keys(request.bondings)) },
      }),
    );
    if (issues.length) throw invalid(issues);
    const datapath = options.ovsDatapath ?? defaultDatapath();
    return { request, running, desired, snapshot, owned, datapath, steps: planFor(snapshot, running, desired, owned, datapath) };
  }
}

/**
 * The steps that take the host from what it has to what `desired` needs: the Linux teardown,
 * the OVS changes (one transaction), then the Linux build-up.
 */
export function planFor(snapshot: Snapshot, running: Config, desired: Config, owned: ReadonlySet<string>, datapath: string): Step[] {
  const want = layoutOf(desired, running);
  const scope = new Set([...Object.keys(want.links), ...Object.keys(layoutOf(running, emptyConfig()).links), ...owned]);
  const takeDefault = new Set(want.routes.filter((r) => r.dst === 'default' && r.table === 'main').map((r) => r.family));
  const tables = new Set([...Object.keys(desired.networks), ...Object.keys(running.networks)].map(sourceRouteTable));
  const { teardown, build } = planLinuxPhases(layoutFromSnapshot(snapshot, scope, takeDefault, tables), want);
  const ovsSteps = planOvs(snapshot.ovs?.layout ?? { bridges: {} }, ovsLayoutOf(desired, datapath));
  return [...teardown, ...ovsSteps, ...build];
}

export async function applyChange(input: unknown, options: EngineOptions): Promise<ApplyResult> {
  const state = new StateDir(options.stateDir);
  try {
    const result = await transact(input, options);
    await state.writeJson('status.json', { Success: { message: result.status === 'applied' ? `applied ${result.steps.length} steps` : 'unchanged' } });
    return result;
  } catch (e) {
    if (!(e instanceof NetswitchError) || e.code !== ErrorCode.Busy) {
      await state.writeJson('status.json', { Failed: { message: (e as Error).message, reason: (e as NetswitchError).code ?? ErrorCode.Internal } });
    }
    throw e;
  }
}

async function transact(input: unknown, options: EngineOptions): Promise<ApplyResult> {
  const log = options.log ?? silentLog;
  const state = new StateDir(options.stateDir);
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  const unlock = await state.lock();
  let ovs: OvsdbClient | undefined;
  try {
    await recover(state, log);
    ovs = await openOvs();
    const change = await planWith(input, options, ovs);
    lap('plan');
    if (change.steps.length === 0) {
      await commit(state, change);
      log.debug('nothing to change: the host already has this config');
      return { status: 'unchanged', steps: [], config: change.desired, timings };
    }
    const journal: Journal = { startedAt: new Date().toISOString(), pid: process.pid, steps: change.steps, checkpoint: change.snapshot };
    await state.writeJson('journal.json', journal);
    lap('checkpoint');
    // The audit log: every change as the command that would do the same, one per line, with why.
    const lines = change.steps.flatMap((step, i) => commandsOf(step).map((c) => `${c}  # step ${i + 1}: ${describeStep(step)}`));
    for (const line of lines) log.debug(line);
    await state.appendLog([`# ${journal.startedAt} apply by pid ${process.pid}: ${change.steps.length} steps`, ...lines]);
    const faultAt = process.env.NETSWITCH_FAULT_STEP ? Number(process.env.NETSWITCH_FAULT_STEP) - 1 : undefined;
    const result = await runPlan(change.steps, { ovs, log, faultAt });
    lap('execute');
    if (result.error) return await rollback(state, change.steps.slice(0, result.completed + 1), change.snapshot, result.error, log, ovs);
    const after = await readHost(ovs);
    const remaining = planFor(after, change.running, change.desired, change.owned, change.datapath);
    lap('verify');
    if (remaining.length) {
      const error = new NetswitchError(ErrorCode.Host, `verification failed: the host does not have what was applied (${remaining.map(describeStep).join('; ')})`);
      return await rollback(state, change.steps, change.snapshot, error, log, ovs);
    }
    await commit(state, change);
    announceAddresses(change.steps.flatMap((s) => (s.op === 'addr.add' ? [{ dev: s.dev, cidr: s.cidr }] : [])));
    lap('commit');
    log.debug(`applied ${change.steps.length} steps`);
    return { status: 'applied', steps: change.steps, config: change.desired, timings };
  } finally {
    await ovs?.close();
    await unlock();
  }
}

async function commit(state: StateDir, change: PlannedChange): Promise<void> {
  const owned = Object.values(layoutOf(change.desired, change.running).links)
    .filter((l) => l.kind !== 'nic')
    .map((l) => l.name)
    .sort();
  await state.writeJson('running.json', change.desired);
  await state.writeJson('owned.json', owned);
  if (change.request.options.commitOnSuccess) await state.writeJson('safe.json', change.desired);
  await state.remove('journal.json');
}

/**
 * Undo the steps that took effect (the failing one included: it may have half happened),
 * then prove the host equals the checkpoint. Always throws: the apply failed.
 */
async function rollback(state: StateDir, done: Step[], checkpoint: Snapshot, cause: NetswitchError, log: Log, ovs?: OvsdbClient): Promise<never> {
  log.info(`apply failed: ${cause.message}`);
  log.info(`rolling back ${done.length} steps`);
  await runPlan(undo(done), { ovs, log, force: true });
  const after = await readHost(ovs);
  const differences = diffSnapshots(checkpoint, after);
  await state.remove('journal.json');
  if (differences.length === 0) {
    throw new NetswitchError(ErrorCode.RolledBack, `apply failed and was rolled back: ${cause.message}`, {
      hint: cause.hint ?? 'the host is as it was before the apply; fix the request or the host and try again',
      cause,
      context: { failed: cause.context.step },
    });
  }
  throw new NetswitchError(ErrorCode.RollbackFailed, `apply failed (${cause.message}) and the rollback left differences: ${differences.join('; ')}`, {
    hint: 'inspect the host with `netswitch show`; `netswitch apply` of the previous config repairs it',
    cause,
    context: { differences },
  });
}

/** An apply that died half-way left its journal: undo its steps before anything else. */
async function recover(state: StateDir, log: Log): Promise<void> {
  const journal = await state.readJson<Journal | undefined>('journal.json', undefined);
  if (!journal) return;
  log.info(`recovering from an interrupted apply (started ${journal.startedAt} by pid ${journal.pid})`);
  const ovs = journal.steps.some((s) => s.op.startsWith('ovs.')) ? await openOvs() : undefined;
  try {
    await runPlan(undo(journal.steps), { ovs, log, force: true });
    const differences = diffSnapshots(journal.checkpoint, await readHost(ovs));
    if (differences.length) log.warn(`after recovery the host still differs from the checkpoint: ${differences.join('; ')}`);
  } finally {
    await ovs?.close();
  }
  await state.remove('journal.json');
}
