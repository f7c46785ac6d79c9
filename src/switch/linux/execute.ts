// Executing Linux steps: consecutive ones in one `ip -batch -` process (one process for a
// whole apply; see ARCHITECTURE.md for the measured gain), or, for thousands of steps, in a
// few such processes side by side, each with the steps of devices unrelated to the others'.
// On failure, ip reports the line that failed; mapping lines back to steps tells exactly
// which steps took effect.
import { ErrorCode, NetswitchError } from '../../model/errors.ts';
import { writeFileSync } from 'node:fs';
import { ipv6ConfPath } from '../../host/snapshot.ts';
import { writeNameservers } from '../../ip/resolv.ts';
import { type LinuxStep, bondPrimaryPath, describeStep, ipBatchLines, ipFamilyOf, isPrimaryClear, isQosStep } from '../../plan/steps.ts';
import type { QosStep } from '../../qos/hfsc.ts';
import { executeTc } from '../../qos/execute.ts';
import type { Log } from '../../sys/log.ts';
import { batchQuote, run } from '../../sys/run.ts';
import type { Link } from '../../model/snapshot.ts';
import { availableParallelism } from 'node:os';

export interface ExecuteResult {
  /** Steps that completed. On failure, the failing step is steps[completed]. */
  completed: number;
  error?: NetswitchError;
  /**
   * The failing step, when the kernel refused it whole (it is one request, named as the one
   * that failed): it changed nothing, so the rollback leaves it out. Undoing it would do
   * something new: delete a device or route of the same name someone else made meanwhile,
   * add a second shaping filter where a delete failed.
   */
  refused?: number;
  /**
   * Steps before `completed` that never ran (lanes: those after the failure in a failed lane,
   * while other lanes ran on). Undoing them would act on whatever has their names now.
   */
  notRun?: number[];
}

export interface ExecuteOptions {
  /** Keep going past failures (rollback: undo as much as can be undone). */
  force?: boolean;
  /**
   * Test hook (NETSWITCH_FAULT_STEP): make the step with this index fail as a kernel refusal
   * would, after the steps before it took effect. Used to prove rollback in tests and demo.
   */
  faultAt?: number;
  /** Where these steps start in the whole plan (for messages that name step numbers). */
  stepOffset?: number;
  log?: Log;
  /**
   * The host's links before the change (the plan's snapshot). Given, a long run of steps is
   * split into lanes of unrelated devices that run side by side (see segments).
   */
  links?: Readonly<Record<string, Link>>;
}

const FAULT_LINE = ['link', 'add', 'name', 'nsw-fault', 'type', 'nsw-fault-injected'];

export async function executeLinux(steps: readonly (LinuxStep | QosStep)[], options: ExecuteOptions = {}): Promise<ExecuteResult> {
  const stepOffset = options.stepOffset ?? 0;
  const lanes = options.links && steps.length >= MIN_LANE_STEPS ? laneCount() : 1;
  if (lanes < 2) return executeInOrder(steps, steps.map((_, i) => i), options);
  let firstError: NetswitchError | undefined;
  for (const segment of segments(steps, options.links ?? {}, lanes)) {
    if (segment.lanes.length > 1) options.log?.debug(`  ${segment.lanes.reduce((n, l) => n + l.length, 0)} steps in ${segment.lanes.length} lanes`);
    const runs = segment.lanes.map((lane) => executeInOrder(lane.map((i) => steps[i]), lane, options));
    const results = await Promise.all(runs);
    const failed = results.flatMap((r, k) => (r.error ? [{ at: segment.lanes[k][r.completed], error: r.error, refused: r.refused === undefined ? undefined : segment.lanes[k][r.refused] }] : []));
    if (failed.length === 0) continue;
    if (options.force) {
      firstError ??= failed[0].error;
      continue;
    }
    // Other lanes ran on past the failure: the rollback undoes the steps up to the last one any
    // lane may have run, less those of failed lanes after their failure (they never ran, and
    // their undo would act on whatever has those names now); the first failure in the plan's
    // order is the one reported.
    const last = Math.max(...results.map((r, k) => segment.lanes[k][r.error ? r.completed : segment.lanes[k].length - 1]));
    const first = failed.reduce((a, b) => (b.at < a.at ? b : a));
    const notRun = results.flatMap((r, k) => (r.error ? segment.lanes[k].slice(r.completed + 1).filter((i) => i < last) : []));
    options.log?.debug(`  ${failed.length} of ${segment.lanes.length} lanes failed; undoing what ran of steps ${stepOffset + 1}-${stepOffset + last + 1} (${notRun.length} never ran)`);
    const refused = failed.flatMap((f) => (f.refused === undefined ? [] : [f.refused]));
    return { completed: last, error: first.error, notRun, ...(refused.length === 1 && failed.length === 1 ? { refused: refused[0] } : {}) };
  }
  return { completed: steps.length, ...(firstError ? { error: firstError } : {}) };
}

/** Below this many steps, one process does them all: a second one costs more than it saves. */
const MIN_LANE_STEPS = 400;

/**
 * How many `ip` processes run side by side: the kernel takes most of a link change under its
 * one RTNL lock, but parsing, netlink round trips and the work each change queues (sysfs,
 * uevents, IPv6 addrconf) spread over CPUs: with 2 CPUs, two lanes of 500 bridges each take
 * ~80% of one lane of 1000 (docs/design.md). $NETSWITCH_LANES sets another number (1: one process).
 */
function laneCount(): number {
  const asked = Number(process.env.NETSWITCH_LANES);
  return Number.isInteger(asked) && asked > 0 ? asked : Math.min(availableParallelism(), 4);
}

/**
 * Splits steps into segments that run one after the other, at each step that is not about one
 * device (routes, rules, nameservers, shaping: they may need what any earlier step made), and
 * each segment into lanes that may run side by side: the steps of devices related neither on
 * the host nor by the steps (a bridge and its ports, a bond and its slaves, a VLAN and its
 * lower device, one name) share a lane, in their order. Lanes are balanced by step count.
 */
export function segments(steps: readonly (LinuxStep | QosStep)[], links: Readonly<Record<string, Link>>, lanes: number): { lanes: number[][] }[] {
  const family = new Map<string, string>();
  const find = (name: string): string => {
    let root = name;
    while (family.has(root) && family.get(root) !== root) root = family.get(root) as string;
    family.set(name, root);
    return root;
  };
  const join = (a: string, b: string | null | undefined) => {
    if (b) family.set(find(a), find(b));
  };
  // OVS ports have the datapath's device as master: not a relation ip changes need to keep.
  for (const l of Object.values(links)) {
    if (l.master && (links[l.master]?.kind === 'bridge' || links[l.master]?.kind === 'bond')) join(l.name, l.master);
    if (l.kind === 'vlan') join(l.name, l.link);
  }
  const devices = steps.map((step) => deviceOf(step as LinuxStep));
  for (const step of steps as LinuxStep[]) {
    if (step.op === 'link.add' || step.op === 'link.del') {
      join(step.link.name, step.link.master);
      join(step.link.name, step.link.vlan?.link);
    } else if (step.op === 'link.set' && step.attr === 'master') {
      join(step.name, step.from as string | null);
      join(step.name, step.to as string | null);
    }
  }
  const out: { lanes: number[][] }[] = [];
  let start = 0;
  const close = (end: number) => {
    if (end <= start) return;
    if (end - start < MIN_LANE_STEPS) {
      out.push({ lanes: [Array.from({ length: end - start }, (_, k) => start + k)] });
      return;
    }
    const byFamily = new Map<string, number[]>();
    for (let i = start; i < end; i++) {
      const f = find(devices[i] as string);
      const members = byFamily.get(f);
      if (members) members.push(i);
      else byFamily.set(f, [i]);
    }
    // Largest family first, each to the lane with the fewest steps so far.
    const load: number[][] = Array.from({ length: Math.min(lanes, byFamily.size) }, () => []);
    for (const members of [...byFamily.values()].sort((a, b) => b.length - a.length)) load.reduce((a, b) => (b.length < a.length ? b : a)).push(...members);
    out.push({ lanes: load.map((lane) => lane.sort((a, b) => a - b)) });
  };
  for (let i = 0; i < steps.length; i++) {
    if (devices[i] !== undefined) continue;
    close(i);
    out.push({ lanes: [[i]] });
    start = i + 1;
  }
  close(steps.length);
  return out;
}

/** The one device a step is about, or undefined for one that is not (a barrier between lanes). */
function deviceOf(step: LinuxStep | QosStep): string | undefined {
  if (isQosStep(step)) return undefined;
  switch (step.op) {
    case 'link.add':
    case 'link.del':
      return step.link.name;
    case 'link.set':
    case 'bridge.set':
    case 'bond.set':
      return step.name;
    case 'addr.add':
    case 'addr.del':
    case 'sysctl.set':
      return step.dev;
    default:
      return undefined;
  }
}

/**
 * Runs steps in their order: consecutive ones that one `ip -batch` can run together, files
 * and tc by themselves. `index[i]` is where steps[i] is in what executeLinux was given.
 */
async function executeInOrder(steps: readonly (LinuxStep | QosStep)[], index: readonly number[], options: ExecuteOptions): Promise<ExecuteResult> {
  let offset = 0;
  let firstError: NetswitchError | undefined;
  for (const group of runs(steps)) {
    const at = index.slice(offset, offset + group.steps.length);
    const faultAt = options.faultAt === undefined ? undefined : at.indexOf(options.faultAt);
    const fault = faultAt === undefined || faultAt < 0 ? undefined : faultAt;
    const number = (i: number) => (options.stepOffset ?? 0) + at[i] + 1;
    const start = performance.now();
    const r = group.tc
      ? await runTc(group.steps as unknown as QosStep[], fault, options.force, number(0) - 1)
      : group.files
        ? await executeFiles(group.steps, fault, options.force, number)
        : await ipBatch(group.steps, group.family, { ...options, faultAt: fault }, number);
    options.log?.debug(`  ${group.tc ? 'tc' : group.files ? 'files' : 'ip -batch'}: ${group.steps.length} steps in ${Math.round(performance.now() - start)} ms`);
    if (r.error) {
      if (!options.force) return { completed: offset + r.completed, error: r.error, ...(r.refused === undefined ? {} : { refused: offset + r.refused }) };
      firstError ??= r.error;
    }
    offset += group.steps.length;
  }
  return { completed: steps.length, ...(firstError ? { error: firstError } : {}) };
}

/**
 * Consecutive steps one `ip -batch` can run (IPv6 rules need `ip -6` to themselves), or steps
 * that write files (resolv.conf, /proc/sys, a bond's primary in /sys).
 */
function* runs(steps: readonly (LinuxStep | QosStep)[]): Generator<{ steps: LinuxStep[]; family: 6 | undefined; files: boolean; tc: boolean }> {
  let current: { steps: LinuxStep[]; family: 6 | undefined; files: boolean; tc: boolean } | undefined;
  for (const step of steps) {
    const tc = isQosStep(step);
    const files = step.op === 'dns.set' || step.op === 'sysctl.set' || isPrimaryClear(step);
    const family = tc ? undefined : ipFamilyOf(step as LinuxStep);
    if (current && current.tc === tc && current.files === files && family === current.family) {
      current.steps.push(step as LinuxStep);
    } else {
      if (current) yield current;
      current = { steps: [step as LinuxStep], family, files, tc };
    }
  }
  if (current) yield current;
}

async function runTc(steps: QosStep[], faultAt: number | undefined, force = false, stepOffset = 0): Promise<ExecuteResult> {
  if (faultAt !== undefined) {
    const done = await executeTc(steps.slice(0, faultAt), { force, stepOffset });
    if (done.error && !force) return done;
    return { completed: faultAt, error: new NetswitchError(ErrorCode.Command, `step ${stepOffset + faultAt + 1} (${describeStep(steps[faultAt])}) failed: refused by a fault injected with NETSWITCH_FAULT_STEP`) };
  }
  return executeTc(steps, { force, stepOffset });
}

async function executeFiles(steps: readonly LinuxStep[], faultAt: number | undefined, force: boolean | undefined, number: (i: number) => number): Promise<ExecuteResult> {
  let firstError: NetswitchError | undefined;
  for (const [i, step] of steps.entries()) {
    try {
      if (i === faultAt) throw new NetswitchError(ErrorCode.Command, `step ${number(i)} (${describeStep(step)}) failed: refused by a fault injected with NETSWITCH_FAULT_STEP`);
      if (step.op === 'dns.set') await writeNameservers(step.to);
      // /proc/sys writes never block: synchronous, as thousands of them go faster that way.
      else if (step.op === 'sysctl.set') writeFileSync(ipv6ConfPath(step.dev, step.key), step.to);
      else if (isPrimaryClear(step)) writeFileSync(bondPrimaryPath(step.name), '\n');
    } catch (e) {
      const error = e instanceof NetswitchError ? e : new NetswitchError(ErrorCode.Host, `step ${number(i)} (${describeStep(step)}) failed: ${(e as Error).message}`, { cause: e, hint: 'check the file and its permissions' });
      if (!force) return { completed: i, error };
      firstError ??= error;
    }
  }
  return { completed: steps.length, ...(firstError ? { error: firstError } : {}) };
}

/** How many link.del steps start at i (a fault-injected step ends the run before it). */
function deletionRun(steps: readonly LinuxStep[], i: number, faultAt: number | undefined): number {
  let n = 0;
  while (i + n < steps.length && steps[i + n].op === 'link.del' && i + n !== faultAt) n++;
  return n;
}

async function ipBatch(steps: readonly LinuxStep[], family: 6 | undefined, options: ExecuteOptions, number: (i: number) => number): Promise<ExecuteResult> {
  if (steps.length === 0) return { completed: 0 };
  const lines: string[] = [];
  const stepOfLine: number[] = [];
  const push = (line: string[], step: number) => {
    lines.push(line.map(batchQuote).join(' '));
    stepOfLine.push(step);
  };
  for (let i = 0; i < steps.length; i++) {
    const run = deletionRun(steps, i, options.faultAt);
    if (run > 1) {
      // Deleting devices one by one costs ~37 ms each; put in a group of their own and deleted
      // together, ~17 ms (ARCHITECTURE.md). A failure of the group delete counts against the
      // run's last step, so a rollback undoes the whole run (what was not deleted is skipped).
      const group = String(2 ** 20 + Math.floor(Math.random() * (2 ** 31 - 2 ** 20)));
      for (let j = i; j < i + run; j++) push(['link', 'set', 'dev', (steps[j] as { link: { name: string } }).link.name, 'group', group], j);
      push(['link', 'del', 'group', group], i + run - 1);
      i += run - 1;
      continue;
    }
    for (const line of i === options.faultAt ? [FAULT_LINE] : ipBatchLines(steps[i])) push(line, i);
  }
  const argv = ['ip', ...(family === 6 ? ['-6'] : []), ...(options.force ? ['-force'] : []), '-batch', '-'];
  const result = await run(argv, { input: `${lines.join('\n')}\n`, check: false, timeoutMs: 600_000 });
  if (result.code === 0) return { completed: steps.length };
  if (options.force) return { completed: steps.length, error: new NetswitchError(ErrorCode.Command, `ip -batch: ${result.stderr.trim()}`) };
  const why = result.stderr
    .split('\n')
    .filter((l) => l && !l.startsWith('Command failed'))
    .join('; ');
  const failedLine = failedBatchLine(result.stderr, lines);
  if (failedLine === undefined) {
    // Every step may have taken effect: the rollback undoes them all (skipping what never ran).
    return {
      completed: steps.length - 1,
      error: new NetswitchError(ErrorCode.Command, `ip -batch stopped without saying at which step (${why || `exit ${result.code}`}): any of steps ${number(0)}-${number(steps.length - 1)} may have taken effect`, { hint: hintForKernelError(why) }),
    };
  }
  const failed = stepOfLine[failedLine] ?? 0;
  const step = steps[failed];
  // One request is all or nothing, except a bridge's or bond's options: the kernel sets them
  // one after another and keeps those before the one it refuses.
  const partial = (step.op === 'bridge.set' || step.op === 'bond.set') && Object.keys(step.to).length > 1;
  const refused = /Command failed -:\d+/.test(result.stderr) && !partial && stepOfLine.filter((s) => s === failed).length === 1 ? { refused: failed } : {};
  if (failed === options.faultAt) {
    return { completed: failed, error: new NetswitchError(ErrorCode.Command, `step ${number(failed)} (${describeStep(step)}) failed: refused by a fault injected with NETSWITCH_FAULT_STEP`, { context: { step } }) };
  }
  return {
    completed: failed,
    ...refused,
    error: new NetswitchError(ErrorCode.Command, `step ${number(failed)} (${describeStep(step)}) failed: ${why || 'refused'}`, {
      hint: hintForKernelError(why),
      context: { step, line: lines[failedLine] },
    }),
  };
}

/**
 * The 0-based line of an `ip -batch` input that failed: the one "Command failed -:N" names
 * (the lines before it ran, the rest did not). A line ip cannot parse ends the batch at once,
 * naming none (iproute2's invarg() exits); its message quotes the value, so the failed line is
 * taken to be the last one holding it (later than the real one errs on the safe side: the undo
 * skips steps that never ran). Undefined when nothing tells.
 */
export function failedBatchLine(stderr: string, lines: readonly string[]): number | undefined {
  const named = /Command failed -:(\d+)/.exec(stderr);
  if (named) return Number(named[1]) - 1;
  const quoted = /"([^"]+)"/.exec(stderr)?.[1];
  if (quoted === undefined) return undefined;
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].split(' ').some((word) => word === quoted || word.split(',').includes(quoted))) return i;
  return undefined;
}

function hintForKernelError(why: string): string | undefined {
  if (/Unknown device type/i.test(why)) return 'the kernel lacks the driver for this device type (the bridge, bonding or 8021q module): load it with modprobe, or use a kernel that has it';
  if (/File exists/i.test(why)) return 'something on the host already has this name or route: see `netswitch show`';
  if (/Cannot find device/i.test(why)) return 'a device the plan needs is gone: re-run `netswitch plan` to see the current plan';
  return undefined;
}


