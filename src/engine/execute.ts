// Running a plan that mixes both switches: consecutive Linux steps go to one `ip -batch`,
// consecutive OVS steps to one OVSDB transaction, consecutive flow steps to ovs-ofctl bundles.
// Reports how many steps took effect, so that the rollback undoes exactly those (and the
// failing one, which may have half happened).
import { ErrorCode, NetswitchError, isNetswitchError } from '../model/errors.ts';
import type { OvsdbClient } from '../ovsdb/index.ts';
import type { OvsStep } from '../plan/ovs.ts';
import type { FlowStep } from '../plan/ovs-flows.ts';
import { type LinuxStep, type Step, describeStep, isFlowStep, isOvsStep } from '../plan/steps.ts';
import { discardEarlyRead } from '../host/snapshot.ts';
import { startDhcp, stopDhcp } from '../ip/dhcp.ts';
import { executeLinux } from '../switch/linux/execute.ts';
import { executeOvs } from '../switch/ovs/execute.ts';
import { executeFlows } from '../switch/ovs/flows.ts';
import type { Log } from '../sys/log.ts';
import type { Link } from '../model/snapshot.ts';

export interface PlanResult {
  completed: number;
  error?: NetswitchError;
  /** The failing step, when it changed nothing (the kernel or OVSDB refused it whole): not undone. */
  refused?: number;
  /** Steps before `completed` that never ran (lanes): not undone either. */
  notRun?: number[];
}

export interface RunPlanOptions {
  ovs?: OvsdbClient;
  /** Where DHCP clients keep their files. */
  stateDir?: string;
  log?: Log;
  /** Undo mode: keep going past failures, skip what is already undone. */
  force?: boolean;
  /** Test hook: the step with this index fails as a refusal would. */
  faultAt?: number;
  /** The host's links the steps start from (their snapshot): lets long Linux runs go in lanes. */
  links?: Readonly<Record<string, Link>>;
  /**
   * Told, before each group of steps starts, the index of its last step: no step after it has
   * run yet (what recovery from a crash undoes: nothing beyond it).
   */
  progress?: (lastStarted: number) => void;
}

export async function runPlan(steps: readonly Step[], options: RunPlanOptions): Promise<PlanResult> {
  discardEarlyRead(); // the host it read is about to change
  let offset = 0;
  let firstError: NetswitchError | undefined;
  for (const group of groups(steps)) {
    const faultAt = options.faultAt !== undefined && options.faultAt >= offset && options.faultAt < offset + group.length ? options.faultAt - offset : undefined;
    const kind = kindOf(group[0]);
    options.progress?.(offset + group.length - 1);
    const start = performance.now();
    const result =
      kind === 'ovs'
        ? await runOvs(group as OvsStep[], faultAt, options, offset)
        : kind === 'dhcp'
          ? await runDhcp(group as DhcpStep[], faultAt, options, offset)
          : kind === 'flow'
            ? await executeFlows(group as FlowStep[], { force: options.force, faultAt, stepOffset: offset })
            : await executeLinux(group as LinuxStep[], { force: options.force, faultAt, stepOffset: offset, log: options.log, links: options.links });
    options.log?.debug(`${kind}: ${group.length} step${group.length === 1 ? '' : 's'} in ${Math.round(performance.now() - start)} ms`);
    if (result.error) {
      if (!options.force) {
        const notRun = result.notRun ? { notRun: result.notRun.map((i) => offset + i) } : {};
        return { completed: offset + result.completed, error: result.error, ...notRun, ...(result.refused === undefined ? {} : { refused: offset + result.refused }) };
      }
      // Undoing everything a journal lists meets steps that never ran: expected, and the proof
      // that follows (the host compared with the checkpoint) is what says whether it worked.
      options.log?.debug(`while undoing: ${result.error.message}`);
      firstError ??= result.error;
    }
    offset += group.length;
  }
  return { completed: steps.length, ...(firstError ? { error: firstError } : {}) };
}

async function runOvs(group: OvsStep[], faultAt: number | undefined, options: RunPlanOptions, offset: number): Promise<PlanResult> {
  if (faultAt !== undefined) {
    return { completed: faultAt, error: new NetswitchError(ErrorCode.Ovsdb, `step ${offset + faultAt + 1} (${describeStep(group[faultAt])}) failed: refused by a fault injected with NETSWITCH_FAULT_STEP`) };
  }
  if (!options.ovs) {
    return { completed: 0, error: new NetswitchError(ErrorCode.Ovsdb, 'the plan has Open vSwitch steps but OVSDB is not reachable', { hint: 'start Open vSwitch, or set NETSWITCH_OVSDB to its database socket' }) };
  }
  try {
    await executeOvs(options.ovs, group, { log: options.log, tolerant: options.force });
    return { completed: group.length };
  } catch (e) {
    const error = isNetswitchError(e) ? e : new NetswitchError(ErrorCode.Ovsdb, (e as Error).message, { cause: e });
    // A transaction the server refused changed nothing (not even its first step is undone);
    // any other failure may come after it committed (an interface error, a lost connection, a
    // check), and it is all or nothing: the whole group is undone (tolerantly).
    if (error.context.transaction === 'refused') return { completed: 0, error, refused: 0 };
    return { completed: group.length - 1, error };
  }
}

type DhcpStep = Extract<Step, { op: 'dhcp.start' | 'dhcp.stop' }>;

function kindOf(step: Step): 'ovs' | 'flow' | 'dhcp' | 'linux' {
  return isOvsStep(step) ? 'ovs' : isFlowStep(step) ? 'flow' : step.op === 'dhcp.start' || step.op === 'dhcp.stop' ? 'dhcp' : 'linux';
}

/** DHCP clients one after the other: each start waits for its lease. */
async function runDhcp(group: DhcpStep[], faultAt: number | undefined, options: RunPlanOptions, offset: number): Promise<PlanResult> {
  let firstError: NetswitchError | undefined;
  for (const [i, step] of group.entries()) {
    try {
      if (i === faultAt) throw new NetswitchError(ErrorCode.Command, `step ${offset + i + 1} (${describeStep(step)}) failed: refused by a fault injected with NETSWITCH_FAULT_STEP`);
      if (!options.stateDir) throw new NetswitchError(ErrorCode.Internal, 'DHCP steps need the state dir');
      if (step.op === 'dhcp.start') await startDhcp(options.stateDir, step.client);
      else await stopDhcp(options.stateDir, step.client);
    } catch (e) {
      const error = isNetswitchError(e) ? e : new NetswitchError(ErrorCode.Host, (e as Error).message, { cause: e });
      if (!options.force) return { completed: i, error };
      firstError ??= error;
    }
  }
  return { completed: group.length, ...(firstError ? { error: firstError } : {}) };
}

function* groups(steps: readonly Step[]): Generator<Step[]> {
  let current: Step[] = [];
  for (const step of steps) {
    if (current.length && kindOf(current[0]) !== kindOf(step)) {
      yield current;
      current = [];
    }
    current.push(step);
  }
  if (current.length) yield current;
}
