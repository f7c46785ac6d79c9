// The life of a change after its plan: the journal written before anything happens, commit,
// rollback with proof, a change left pending for `commit`/`rollback`, and recovery from an
// apply that died half-way (kill -9, power loss) at the next start.
import { readFileSync, writeFileSync } from 'node:fs';
import { diffSnapshots } from '../host/compare.ts';
import type { Config } from '../model/config.ts';
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import type { Snapshot } from '../model/snapshot.ts';
import type { OvsdbClient } from '../ovsdb/index.ts';
import { layoutOf } from '../plan/layout.ts';
import { type Step, commandsOf, describeStep, undo } from '../plan/steps.ts';
import type { Log } from '../sys/log.ts';
import { runPlan } from './execute.ts';
import { readHost, withOvs } from './host.ts';
import type { StateDir } from './state.ts';

export interface Journal {
  id: string;
  /** applying: steps may be half done; pending: done and verified, waiting for commit. */
  state: 'applying' | 'pending';
  startedAt: string;
  pid: number;
  steps: Step[];
  checkpoint: Snapshot;
  /** What commit writes as the running config. */
  desired: Config;
  /** The running config before: owned devices are derived from the two. */
  previous: Config;
  commitOnSuccess: boolean;
  /** pending: ms since the epoch after which the change is rolled back. */
  deadline?: number;
  /** The kernel's boot id: a journal from an earlier boot describes a host that is gone. */
  bootId: string;
  /**
   * Progress is recorded beside the journal (PROGRESS_FILE: the last step that may have
   * started), so recovery undoes only what may have run; absent in journals of older versions.
   */
  progress?: true;
}

/** Beside journal.json while an apply runs: the index of the last step that may have started. */
const PROGRESS_FILE = 'journal.progress';

/**
 * Records how far an apply got, before each group of its steps starts (runPlan's `progress`):
 * a few small synchronous writes per apply, so a crash between two never loses one.
 */
export function progressRecorder(state: StateDir): (lastStarted: number) => void {
  return (lastStarted) => writeFileSync(state.path(PROGRESS_FILE), String(lastStarted));
}

/**
 * The steps of an interrupted apply that may have run: up to the last one recorded as started
 * (none when nothing was recorded), or all of them for a journal without progress records.
 */
function stepsThatMayHaveRun(state: StateDir, journal: Journal): Step[] {
  if (journal.state === 'pending' || !journal.progress) return journal.steps;
  let last = -1;
  try {
    last = Number.parseInt(readFileSync(state.path(PROGRESS_FILE), 'utf8'), 10);
  } catch {
    // no group started
  }
  return Number.isInteger(last) ? journal.steps.slice(0, last + 1) : journal.steps;
}

/**
 * A random UUID from the kernel (0.1 ms; loading node:crypto for randomUUID costs ~5 ms of every
 * apply), node:crypto where /proc is not mounted.
 */
function newId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/uuid', 'utf8').trim();
  } catch {
    return process.getBuiltinModule('node:crypto').randomUUID();
  }
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

export function newJournal(steps: Step[], checkpoint: Snapshot, desired: Config, previous: Config, commitOnSuccess: boolean): Journal {
  return { id: newId(), state: 'applying', startedAt: new Date().toISOString(), pid: process.pid, steps, checkpoint, desired, previous, commitOnSuccess, bootId: bootId(), progress: true };
}

export function readJournal(state: StateDir): Promise<Journal | undefined> {
  return state.readJson<Journal | undefined>('journal.json', undefined);
}

/** The change becomes the running config (and the safe one, when asked); the journal goes. */
export async function commitConfig(state: StateDir, desired: Config, previous: Config, commitOnSuccess: boolean): Promise<void> {
  const owned = Object.values(layoutOf(desired, previous).links)
    .filter((l) => l.kind !== 'nic' && l.kind !== 'ovs')
    .map((l) => l.name)
    .sort();
  await state.writeJson('running.json', desired);
  await state.writeJson('owned.json', owned);
  if (commitOnSuccess) await state.writeJson('safe.json', desired);
  await removeJournal(state);
}

/**
 * Undoes steps that took effect (each inverse, in reverse order), then reads the host and
 * compares it with the checkpoint. Returns the differences left (none: a proven rollback).
 */
export async function undoSteps(state: StateDir, done: readonly Step[], checkpoint: Snapshot, log: Log, ovs: OvsdbClient | undefined, why: string): Promise<string[]> {
  log.info(`rolling back ${done.length} ${done.length === 1 ? 'step' : 'steps'}`);
  const steps = undo(done);
  await state.appendLog([`# ${new Date().toISOString()} rollback (${why}) by pid ${process.pid}: ${steps.length} steps`, ...auditLines(steps, 'undo')]);
  await runPlan(steps, { ovs, log, force: true, stateDir: state.dir, links: checkpoint.links });
  const differences = diffSnapshots(checkpoint, await readHost(ovs, { stateDir: state.dir, ipv6confDevs: Object.keys(checkpoint.ipv6conf ?? {}) }));
  await state.appendLog([differences.length ? `# rollback left differences: ${differences.join('; ')}` : '# rollback done: the host is as it was before the change']);
  await removeJournal(state);
  return differences;
}

/** The journal of a new apply, on disk before its first step (a progress record left by an earlier one goes first). */
export async function writeJournal(state: StateDir, journal: Journal): Promise<void> {
  await state.remove(PROGRESS_FILE);
  await state.writeJson('journal.json', journal, { compact: true }); // it holds the whole snapshot
}

/** The journal goes, then its progress record (a record without a journal is never read). */
async function removeJournal(state: StateDir): Promise<void> {
  await state.remove('journal.json');
  await state.remove(PROGRESS_FILE);
}

/** The audit log's lines for steps: each as the commands that would do the same, with why. */
export function auditLines(steps: readonly Step[], label: 'step' | 'undo'): string[] {
  return steps.flatMap((step, i) => {
    const why = describeStep(step);
    return commandsOf(step).map((c) => `${c}  # ${label} ${i + 1}: ${why}`);
  });
}

/** The error an apply ends with after its rollback: rolled back (proven), or not quite. */
export function rolledBack(cause: NetswitchError, differences: string[]): NetswitchError {
  if (differences.length === 0) {
    return new NetswitchError(ErrorCode.RolledBack, `apply failed and was rolled back: ${cause.message}`, {
      hint: cause.hint ?? 'the host is as it was before the apply; fix the request or the host and try again',
      cause,
      context: { failed: cause.context.step },
    });
  }
  // Only additions left: something else made them while the change ran (netswitch undoes only
  // what it did, and makes nothing it has not planned).
  const onlyNew = differences.every((d) => / appeared$| new: /.test(d));
  return new NetswitchError(ErrorCode.RollbackFailed, `apply failed (${cause.message}) and the rollback left differences: ${differences.join('; ')}`, {
    hint: onlyNew
      ? 'everything netswitch changed is undone; what is listed appeared while the change ran and is not netswitch\'s (another tool or an administrator made it): keep or remove it, then apply again'
      : 'inspect the host with `netswitch show`; `netswitch apply` of the previous config repairs it',
    cause,
    context: { differences },
  });
}

/**
 * Before anything else, under the lock: an apply that died half-way is undone; a pending change
 * past its deadline is rolled back; a pending change still in time blocks new applies.
 */
export async function recover(state: StateDir, log: Log, options: { allowPending?: boolean } = {}): Promise<Journal | undefined> {
  const journal = await readJournal(state);
  if (!journal) return undefined;
  if (journal.bootId !== bootId()) {
    // Rebooted since: the devices the steps touched are gone; undoing them would re-create
    // what the change had deleted. `netswitch restore` rebuilds from the safe config instead.
    log.warn(`discarding the journal of a change from an earlier boot (${journal.startedAt})`);
    await removeJournal(state);
    return undefined;
  }
  if (journal.state === 'pending' && (journal.deadline ?? 0) > Date.now()) {
    if (options.allowPending) return journal;
    throw new NetswitchError(ErrorCode.Busy, `a change is pending (started ${journal.startedAt}, rolled back at ${new Date(journal.deadline ?? 0).toISOString()} unless committed)`, {
      hint: 'run `netswitch commit` to keep it or `netswitch rollback` to undo it first',
    });
  }
  log.info(journal.state === 'pending' ? `rolling back a pending change that was not committed in time (${journal.startedAt})` : `recovering from an interrupted apply (started ${journal.startedAt} by pid ${journal.pid})`);
  const why = journal.state === 'pending' ? `change ${journal.id} not committed in time` : `change ${journal.id} interrupted`;
  const done = stepsThatMayHaveRun(state, journal);
  if (done.length < journal.steps.length) log.info(`steps 1-${done.length} of ${journal.steps.length} may have run (the rest never started)`);
  const differences = await withOvs((ovs) => undoSteps(state, done, journal.checkpoint, log, ovs, why));
  await state.writeJson('status.json', rollbackStatus(`change of ${journal.startedAt} rolled back: ${journal.state === 'pending' ? 'not committed in time' : 'interrupted'}`, differences));
  if (differences.length) {
    throw new NetswitchError(ErrorCode.RollbackFailed, `recovering from the ${journal.state === 'pending' ? 'pending change' : 'interrupted apply'} of ${journal.startedAt}: the rollback left differences: ${differences.join('; ')}`, {
      hint: 'inspect the host with `netswitch show`; `netswitch apply` of the previous config repairs it',
      context: { differences },
    });
  }
  return undefined;
}

/** setupStatus after a rollback: rolled back, or rolled back with differences left (never both said). */
function rollbackStatus(message: string, differences: readonly string[]): { Failed: { message: string; reason: ErrorCode } } {
  if (differences.length === 0) return { Failed: { message, reason: ErrorCode.RolledBack } };
  return { Failed: { message: `${message}, but the host still differs from before it: ${differences.join('; ')}`, reason: ErrorCode.RollbackFailed } };
}

/** `netswitch commit`: keep the pending change. */
export async function commitPending(state: StateDir, log: Log): Promise<Journal> {
  const unlock = await state.lock();
  try {
    const journal = await recover(state, log, { allowPending: true });
    if (!journal) {
      // The usual reason: its deadline passed, and it was rolled back (the status says so).
      const status = await state.readJson<{ Failed?: { message: string } } | undefined>('status.json', undefined).catch(() => undefined);
      const late = status?.Failed?.message.includes('not committed in time') ? ` (${status.Failed.message})` : '';
      throw new NetswitchError(ErrorCode.Invalid, `there is no pending change to commit${late}`, {
        hint: late ? 'apply the change again, and commit it before its deadline (--timeout sets how long it waits)' : 'a change is pending after `netswitch apply --no-commit` or a request with connectivityCheck: true',
      });
    }
    await commitConfig(state, journal.desired, journal.previous, journal.commitOnSuccess);
    await state.writeJson('status.json', { Success: { message: `committed ${journal.steps.length} steps` } });
    log.debug(`committed the change of ${journal.startedAt}`);
    return journal;
  } finally {
    await unlock();
  }
}

/**
 * `netswitch rollback`: undo the pending change. With `onlyId`, only if that change is still
 * the pending one (the timer a pending apply leaves behind).
 */
export async function rollbackPending(state: StateDir, log: Log, onlyId?: string): Promise<Journal | undefined> {
  const unlock = await state.lock();
  try {
    const found = await readJournal(state);
    if (onlyId !== undefined && found?.id !== onlyId) return undefined;
    // An interrupted apply (its process died) is recovered: that is its rollback.
    if (found?.state === 'applying') {
      await recover(state, log, { allowPending: true });
      return found;
    }
    const journal = found;
    if (!journal || journal.state !== 'pending' || (onlyId !== undefined && journal.id !== onlyId)) {
      throw new NetswitchError(ErrorCode.Invalid, 'there is no pending change to roll back', { hint: '`netswitch restore` re-creates the safe (persisted) config' });
    }
    const why = onlyId ? `change ${journal.id} not committed in time` : `\`netswitch rollback\` of change ${journal.id}`;
    const differences = await withOvs((ovs) => undoSteps(state, journal.steps, journal.checkpoint, log, ovs, why));
    await state.writeJson('status.json', rollbackStatus(`change of ${journal.startedAt} rolled back${onlyId ? ': not committed in time' : ''}`, differences));
    if (differences.length) {
      throw new NetswitchError(ErrorCode.RollbackFailed, `the rollback left differences: ${differences.join('; ')}`, { context: { differences } });
    }
    return journal;
  } finally {
    await unlock();
  }
}
