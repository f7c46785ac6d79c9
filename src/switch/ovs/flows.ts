// netswitch's OpenFlow flows on ovs-vswitchd, through ovs-ofctl (argument arrays, no shell):
// read with one `dump-flows` per bridge, changed with one `--bundle add-flows` per bridge, so
// that the changes of a bridge take effect together or not at all (a refused bundle changes
// nothing: the steps before it are what took effect).
import type { OvsFlowSpec } from '../../model/ovs.ts';
import { ErrorCode, NetswitchError } from '../../model/errors.ts';
import { COOKIE_MASK, COOKIE_PREFIX, type FlowStep, bundleLine, describeFlowStep, parseFlows, sortFlows } from '../../plan/ovs-flows.ts';
import { run } from '../../sys/run.ts';
import { ofctlTarget } from './target.ts';

/**
 * netswitch's flows on BRIDGES (by its cookie prefix). A bridge ovs-vswitchd does not answer for
 * (not running, not set up yet) has none: the plan then adds them, and the apply says why it
 * cannot.
 */
export async function readFlows(bridges: readonly string[]): Promise<OvsFlowSpec[]> {
  const dumps = await Promise.all(
    bridges.map(async (bridge) => {
      const r = await run(['ovs-ofctl', 'dump-flows', '--names', '--no-stats', ofctlTarget(bridge), `cookie=${COOKIE_PREFIX}00000000/${COOKIE_MASK}`], { check: false, timeoutMs: 30_000 });
      return r.code === 0 ? parseFlows(bridge, r.stdout) : [];
    }),
  );
  return sortFlows(dumps.flat());
}

export interface FlowResult {
  completed: number;
  error?: NetswitchError;
  /** Never set here: a failed bundle changed nothing, and undoing its first step (a flow added or deleted by its match) repeats nothing harmful. */
  refused?: number;
  /** Never set here: flows run in order. */
  notRun?: number[];
}

/** Runs flow steps, a bundle per run of consecutive steps on one bridge. */
export async function executeFlows(steps: readonly FlowStep[], options: { force?: boolean; faultAt?: number; stepOffset?: number } = {}): Promise<FlowResult> {
  let firstError: NetswitchError | undefined;
  let i = 0;
  while (i < steps.length) {
    let n = 1;
    while (i + n < steps.length && steps[i + n].flow.bridge === steps[i].flow.bridge) n++;
    const fault = options.faultAt !== undefined && options.faultAt >= i && options.faultAt < i + n ? options.faultAt - i : undefined;
    const group = steps.slice(i, i + (fault ?? n));
    let error = group.length ? await bundle(group, (options.stepOffset ?? 0) + i) : undefined;
    if (!error && fault !== undefined) {
      error = new NetswitchError(ErrorCode.Command, `step ${(options.stepOffset ?? 0) + i + fault + 1} (${describeFlowStep(steps[i + fault])}) failed: refused by a fault injected with NETSWITCH_FAULT_STEP`);
      if (!options.force) return { completed: i + fault, error };
    }
    if (error) {
      if (!options.force) return { completed: i, error };
      firstError ??= error;
    }
    i += n;
  }
  return { completed: steps.length, ...(firstError ? { error: firstError } : {}) };
}

async function bundle(steps: readonly FlowStep[], offset: number): Promise<NetswitchError | undefined> {
  const bridge = steps[0].flow.bridge;
  const input = `${steps.map(bundleLine).join('\n')}\n`;
  const r = await run(['ovs-ofctl', '--bundle', 'add-flows', ofctlTarget(bridge), '-'], { input, check: false, timeoutMs: 60_000 });
  if (r.code === 0) return undefined;
  const what = steps.length === 1 ? `step ${offset + 1} (${describeFlowStep(steps[0])})` : `steps ${offset + 1}-${offset + steps.length} (the flows of OVS bridge ${bridge})`;
  return new NetswitchError(ErrorCode.Command, `${what} failed: ${r.stderr.trim() || `ovs-ofctl exited ${r.code}`}`, {
    hint: 'check that ovs-vswitchd runs and has the bridge (ovs-ofctl show BRIDGE)',
    context: { step: steps[0] },
  });
}
