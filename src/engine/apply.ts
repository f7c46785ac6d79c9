// The transaction: parse, merge, validate, plan, checkpoint, execute, verify, commit — or
// roll back and prove the host is exactly as it was. The only place that sequences a change.
import { type ChangeRequest, type Config, emptyConfig } from '../model/config.ts';
import { canonicalizeLenient } from '../model/canonicalize.ts';
import { ErrorCode, NetswitchError, invalid } from '../model/errors.ts';
import { mergeRequest } from '../model/merge.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { diffSnapshots } from '../host/compare.ts';
import { readSnapshot } from '../host/snapshot.ts';
import { layoutFromSnapshot, layoutOf } from '../plan/layout.ts';
import { planLinux } from '../plan/linux.ts';
import { type Step, describeStep, ipCommands, undo } from '../plan/steps.ts';
import { executeLinux } from '../switch/linux/execute.ts';
import { validateConfig } from '../validate/validate.ts';
import { type Log, silentLog } from '../sys/log.ts';
import { StateDir } from './state.ts';

export interface EngineOptions {
  stateDir: string;
  log?: Log;
  /** The request is the whole desired config: what it does not name is removed. */
  replace?: boolean;
}

export interface PlannedChange {
  request: ChangeRequest;
  running: Config;
  desired: Config;
  snapshot: Snapshot;
  owned: Set<string>;
  steps: Step[];
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

export const SWITCH_TYPES: ReadonlySet<string> = new Set(['legacy']);

/** Parse, merge, read the host, validate and plan. Changes nothing. */
export async function planChange(input: unknown, options: EngineOptions): Promise<PlannedChange> {
  const state = new StateDir(options.stateDir);
  const { request, issues } = canonicalizeLenient(input);
  const [running, owned, snapshot] = await Promise.all([state.running(), state.owned(), readSnapshot()]);
  const { config: desired, issues: mergeIssues } = mergeRequest(running, request, options.replace ?? false);
  issues.push(
    ...mergeIssues,
    ...validateConfig(desired, {
      snapshot,
      running,
      owned,
      switchTypes: SWITCH_TYPES,
      named: { networks: new Set(Object.keys(request.networks)), bondings: new Set(Object.keys(request.bondings)) },
    }),
  );
  if (issues.length) throw invalid(issues);
  return { request, running, desired, snapshot, owned, steps: planFor(snapshot, running, desired, owned) };
}

/** The steps that take the host from what it has to what `desired` needs. */
export function planFor(snapshot: Snapshot, running: Config, desired: Config, owned: ReadonlySet<string>): Step[] {
  const want = layoutOf(desired, running);
  const scope = new Set([...Object.keys(want.links), ...Object.keys(layoutOf(running, emptyConfig()).links), ...owned]);
  const takeDefault = new Set(want.routes.filter((r) => r.dst === 'default').map((r) => r.family));
  return planLinux(layoutFromSnapshot(snapshot, scope, takeDefault), want);
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
  try {
    await recover(state, log);
    const change = await planChange(input, options);
    lap('plan');
    if (change.steps.length === 0) {
      await commit(state, change);
      log.debug('nothing to change: the host already has this config');
      return { status: 'unchanged', steps: [], config: change.desired, timings };
    }
    const journal: Journal = { startedAt: new Date().toISOString(), pid: process.pid, steps: change.steps, checkpoint: change.snapshot };
    await state.writeJson('journal.json', journal);
    lap('checkpoint');
    for (const [i, step] of change.steps.entries()) log.debug(`step ${i + 1}: ${describeStep(step)}  # ${ipCommands(step).join('; ')}`);
    const faultAt = process.env.NETSWITCH_FAULT_STEP ? Number(process.env.NETSWITCH_FAULT_STEP) - 1 : undefined;
    const result = await executeLinux(change.steps, { faultAt });
    lap('execute');
    if (result.error) return await rollback(state, change.steps.slice(0, result.completed + 1), change.snapshot, result.error, log);
    const after = await readSnapshot();
    const remaining = planFor(after, change.running, change.desired, change.owned);
    lap('verify');
    if (remaining.length) {
      const error = new NetswitchError(ErrorCode.Host, `verification failed: the host does not have what was applied (${remaining.map(describeStep).join('; ')})`);
      return await rollback(state, change.steps, change.snapshot, error, log);
    }
    await commit(state, change);
    lap('commit');
    log.debug(`applied ${change.steps.length} steps`);
    return { status: 'applied', steps: change.steps, config: change.desired, timings };
  } finally {
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
async function rollback(state: StateDir, done: Step[], checkpoint: Snapshot, cause: NetswitchError, log: Log): Promise<never> {
  log.info(`apply failed: ${cause.message}`);
  log.info(`rolling back ${done.length} steps`);
  await executeLinux(undo(done), { force: true });
  const after = await readSnapshot();
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
  await executeLinux(undo(journal.steps), { force: true });
  const differences = diffSnapshots(journal.checkpoint, await readSnapshot());
  if (differences.length) log.warn(`after recovery the host still differs from the checkpoint: ${differences.join('; ')}`);
  await state.remove('journal.json');
}
