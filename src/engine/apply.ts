// The transaction: plan, journal, execute, verify, connectivity check, commit — or roll back
// and prove the host is exactly as it was. The only place that sequences a change.
import type { Config } from '../model/config.ts';
import { ErrorCode, NetswitchError, isNetswitchError } from '../model/errors.ts';
import type { OvsdbClient } from '../ovsdb/index.ts';
import { startAnnouncer } from '../ip/announce.ts';
import { type Step, describeStep, untouched } from '../plan/steps.ts';
import { silentLog } from '../sys/log.ts';
import { runPlan } from './execute.ts';
import { openOvs, readHost } from './host.ts';
import { earlyReadTime } from '../host/snapshot.ts';
import { type EngineOptions, planAgainst, planWith } from './plan.ts';
import { describeProbe, probeOnce, regressions } from './probes.ts';
import { StateDir } from './state.ts';
import { auditLines, commitConfig, newJournal, progressRecorder, recover, rolledBack, undoSteps, writeJournal } from './transaction.ts';

export { openOvs, readHost } from './host.ts';
export { type EngineOptions, type PlannedChange, planChange, planFor } from './plan.ts';

export interface ApplyResult {
  /** pending: applied and verified, kept only if `netswitch commit` comes before the deadline. */
  status: 'applied' | 'unchanged' | 'pending';
  steps: Step[];
  config: Config;
  deadline?: number;
  /** Milliseconds per phase. */
  timings: Record<string, number>;
}

/** How every step failed by NETSWITCH_FAULT_STEP says so (switch executors). */
const INJECTED = /refused by a fault injected with NETSWITCH_FAULT_STEP/;

/** Applies a request (a delta, or the whole config with `replace`) as one transaction. */
export async function applyChange(input: unknown, options: EngineOptions): Promise<ApplyResult> {
  const state = new StateDir(options.stateDir);
  try {
    const result = await transact(input, options);
    const message = result.status === 'applied' ? `applied ${result.steps.length} steps` : result.status === 'pending' ? `applied ${result.steps.length} steps, pending commit` : 'unchanged';
    await state.writeJson('status.json', { Success: { message } });
    return result;
  } catch (e) {
    if (!isNetswitchError(e, ErrorCode.Busy)) {
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
  let announcer: ReturnType<typeof startAnnouncer> | undefined;
  try {
    await recover(state, log);
    ovs = await openOvs();
    const change = await planWith(input, options, ovs);
    const commitOnSuccess = change.request.options.commitOnSuccess;
    lap('plan');
    // A host read started at start-up (cli/early.ts) ran while netswitch loaded: its time is
    // its own phase, so the phases still add up to what the apply took apart from start-up.
    const early = await earlyReadTime();
    if (early !== undefined) timings.read = early;
    t = performance.now();
    if (change.steps.length === 0) {
      await commitConfig(state, change.desired, change.running, commitOnSuccess);
      log.debug('nothing to change: the host already has this config');
      return { status: 'unchanged', steps: [], config: change.desired, timings };
    }
    const probes = options.probes ?? [];
    const before = await Promise.all(probes.map((p) => probeOnce(p, change.snapshot)));
    const journal = newJournal(change.steps, change.snapshot, change.desired, change.running, commitOnSuccess);
    await writeJournal(state, journal);
    lap('checkpoint');

    const fail = async (cause: NetswitchError, done: Step[]): Promise<never> => {
      log.info(`apply failed: ${cause.message}`);
      await state.appendLog([`# ${new Date().toISOString()} apply ${journal.id} failed after ${done.length} of ${change.steps.length} ${change.steps.length === 1 ? 'step' : 'steps'}: ${cause.message}`]);
      throw rolledBack(cause, await undoSteps(state, done, change.snapshot, log, ovs, `apply ${journal.id} failed`));
    };
    const faultAt = process.env.NETSWITCH_FAULT_STEP ? Number(process.env.NETSWITCH_FAULT_STEP) - 1 : undefined;
    if (faultAt !== undefined && !(Number.isInteger(faultAt) && faultAt >= 0 && faultAt < change.steps.length)) {
      log.warn(`NETSWITCH_FAULT_STEP=${process.env.NETSWITCH_FAULT_STEP}: no such step (the plan has steps 1-${change.steps.length}); no fault injected`);
    }
    const progress = progressRecorder(state);
    await crashHook(change.steps, ovs, state.dir, progress);
    const running = runPlan(change.steps, { ovs, log, faultAt, stateDir: state.dir, links: change.snapshot.links, progress });
    announcer = startAnnouncer(change.steps.flatMap((s) => (s.op === 'addr.add' ? [{ dev: s.dev, cidr: s.cidr }] : [])));
    // The verification's read: what no step touched is as the plan read it, the rest is read
    // again once the steps are done (its ip process starts now, while they run).
    const verifying = readHost(ovs, {
      stateDir: state.dir,
      ipv6confDevs: change.ipv6confDevs,
      known: { base: change.snapshot, ...untouched(change.steps) },
      after: running.then((r) => {
        if (r.error) throw r.error;
      }),
    });
    verifying.catch(() => {}); // not read when the steps fail
    // The audit log: every change as the command that would do the same, one per line, with
    // why. Written while the kernel and ovs-vswitchd work (the journal, already on disk, is
    // what recovery relies on): for thousands of steps that is ~30 ms off the apply.
    const lines = auditLines(change.steps, 'step');
    for (const line of lines) log.debug(line);
    const [result] = await Promise.all([running, state.appendLog([`# ${journal.startedAt} apply ${journal.id} by pid ${process.pid}: ${change.steps.length} steps`, ...lines])]);
    lap('execute');
    if (result.error) {
      // The failing step is undone too (it may have half happened), unless it is known to have
      // changed nothing: refused whole, or failed by an injected fault before it ran. The undo
      // of a step that never ran is not always harmless (a shaping filter's undo adds a second
      // one, a DHCP client's starts a second client, a device's deletes one made meanwhile).
      const injected = faultAt !== undefined && INJECTED.test(result.error.message);
      const notRun = new Set(result.notRun);
      const untouched = (i: number) => i === result.refused || notRun.has(i) || (injected && i === faultAt);
      return await fail(result.error, change.steps.slice(0, result.completed + 1).filter((_, i) => !untouched(i)));
    }
    const after = await verifying;
    const remaining = planAgainst(after, change.target);
    lap('verify');
    if (remaining.length) {
      return await fail(new NetswitchError(ErrorCode.Host, `verification failed: the host does not have what was applied (${remaining.map(describeStep).join('; ')})`), change.steps);
    }
    announcer.announce();

    const timeoutMs = (options.timeout ?? change.request.options.connectivityTimeout) * 1000;
    if (probes.length) {
      const lost = await regressions(probes, before, () => readHost(ovs), timeoutMs);
      lap('probes');
      if (lost.length) {
        return await fail(new NetswitchError(ErrorCode.Host, `connectivity lost: ${lost.map((p) => describeProbe(p, change.snapshot)).join(', ')} answered before the change and not after it`), change.steps);
      }
    }
    if (options.noCommit || change.request.options.connectivityCheck) {
      const deadline = Date.now() + timeoutMs;
      await state.writeJson('journal.json', { ...journal, state: 'pending', deadline }, { compact: true });
      options.onPending?.(journal.id, deadline);
      log.info(`applied; rolled back at ${new Date(deadline).toISOString()} unless \`netswitch commit\` comes first`);
      return { status: 'pending', steps: change.steps, config: change.desired, deadline, timings };
    }
    await commitConfig(state, change.desired, change.running, commitOnSuccess);
    lap('commit');
    return { status: 'applied', steps: change.steps, config: change.desired, timings };
  } finally {
    announcer?.cancel(); // an apply that did not keep its change announces nothing
    await ovs?.close();
    await unlock();
  }
}

/**
 * Test hook (NETSWITCH_CRASH_STEP=N): die by SIGKILL, as `kill -9` would, right after step N-1
 * took effect, leaving the journal behind; the next start must restore the checkpoint.
 */
async function crashHook(steps: Step[], ovs: OvsdbClient | undefined, stateDir: string, progress: (lastStarted: number) => void): Promise<void> {
  const at = process.env.NETSWITCH_CRASH_STEP;
  if (at === undefined) return;
  await runPlan(steps.slice(0, Number(at) - 1), { ovs, stateDir, progress });
  process.kill(process.pid, 'SIGKILL');
}

/** Applies a whole config (the safe one, at boot) with the same transaction. */
export function applyConfig(config: Config, options: EngineOptions): Promise<ApplyResult> {
  return applyChange(toRequest(config), { ...options, replace: true });
}

/** A canonical config back in request form (what `netswitch restore` applies). */
function toRequest(config: Config): unknown {
  const networks: Record<string, unknown> = {};
  for (const [name, n] of Object.entries(config.networks)) {
    const { bridgeOpts, ...rest } = n;
    networks[name] = { ...rest, ...(bridgeOpts ? { custom: { bridge_opts: Object.entries(bridgeOpts).map(([k, v]) => `${k}=${v}`).join(' ') } } : {}) };
  }
  const bondings: Record<string, unknown> = {};
  for (const [name, b] of Object.entries(config.bondings)) {
    bondings[name] = { nics: b.nics, options: Object.entries(b.options).map(([k, v]) => `${k}=${v}`).join(' '), switch: b.switch, ...(b.hwaddr ? { hwaddr: b.hwaddr } : {}) };
  }
  return { networks, bondings };
}

/** `netswitch persist`: the running config becomes the safe config (VDSM's setSafeNetworkConfig). */
export async function persist(stateDir: string): Promise<Config> {
  const state = new StateDir(stateDir);
  const unlock = await state.lock();
  try {
    const running = await state.running();
    await state.writeJson('safe.json', running);
    return running;
  } finally {
    await unlock();
  }
}

/**
 * `netswitch restore` (at boot): re-creates the safe config — or the running one when nothing
 * was persisted — on a host whose networking may be gone, and removes leftovers netswitch owns.
 */
export async function restore(options: EngineOptions): Promise<ApplyResult> {
  const state = new StateDir(options.stateDir);
  const config = (await state.safe()) ?? (await state.running());
  return applyConfig(config, options);
}
