// The OpenFlow side of host QoS on Open vSwitch: a flow per shaped network that sends the
// traffic of its internal port to its queue (`in_port=<net> actions=set_queue:K,NORMAL`). OVS
// keeps flows in ovs-vswitchd's memory only, so they are read back with ovs-ofctl, planned as a
// diff like the rows, and re-added after a restart. Each flow carries a cookie of its own:
// netswitch's prefix and the queue id (one southbound port per bridge: unique per bridge), so
// reading all of them is one `cookie=PREFIX/MASK` dump and deleting one needs no port name
// (`del-flows BR cookie=C/-1` works after its port is gone).
import type { OvsFlowSpec } from '../model/ovs.ts';
import { compareNames } from '../model/order.ts';

export type { OvsFlowSpec };

export type FlowStep = { op: 'of.flow.add' | 'of.flow.del'; flow: OvsFlowSpec };

export function isFlowStep(step: { op: string }): step is FlowStep {
  return step.op.startsWith('of.');
}

/** "nsw" in the cookie's top bytes: netswitch's flows. */
export const COOKIE_PREFIX = '0x6e737700';
export const COOKIE_MASK = '0xffffffff00000000';
/** Above the bridge's own `priority=0 actions=NORMAL`. */
export const FLOW_PRIORITY = 100;

export function cookieOf(queue: number): string {
  return `${COOKIE_PREFIX}${queue.toString(16).padStart(8, '0')}`;
}

/**
 * A port name as ovs-ofctl prints it in a flow (lib/ofp-port.c, namemap_put_name): bare when it
 * is a letter followed by letters and digits, otherwise JSON-quoted ("vm_100"; "100" unquoted
 * would be OpenFlow port number 100).
 */
export function portRef(name: string): string {
  return /^[A-Za-z][A-Za-z0-9]*$/.test(name) ? name : JSON.stringify(name);
}

/** The flow that puts the traffic of NETWORK's internal port on BRIDGE into QUEUE. */
export function queueFlowOf(bridge: string, network: string, queue: number): OvsFlowSpec {
  return { bridge, cookie: cookieOf(queue), match: `priority=${FLOW_PRIORITY},in_port=${portRef(network)}`, actions: `set_queue:${queue},NORMAL` };
}

/** The queue and the port a flow of netswitch's sends, if it has the shape queueFlowOf gives. */
export function queueOfFlow(flow: OvsFlowSpec): { port: string; queue: number } | undefined {
  const m = /^priority=\d+,in_port=(.+)$/.exec(flow.match);
  const a = /^set_queue:(\d+),NORMAL$/.exec(flow.actions);
  if (!m || !a) return undefined;
  const port = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
  return { port, queue: Number(a[1]) };
}

export function sameFlow(a: OvsFlowSpec, b: OvsFlowSpec): boolean {
  return a.bridge === b.bridge && a.cookie === b.cookie && a.match === b.match && a.actions === b.actions;
}

export function flowKey(f: OvsFlowSpec): string {
  return `${f.bridge} ${f.cookie} ${f.match} actions=${f.actions}`;
}

export function sortFlows(flows: OvsFlowSpec[]): OvsFlowSpec[] {
  return flows.sort((a, b) => compareNames(a.bridge, b.bridge) || compareNames(a.cookie, b.cookie));
}

/**
 * The flows of `ovs-ofctl dump-flows --names --no-stats BR` (one per line:
 * ` cookie=0x6e73770000000064, priority=100,in_port=vm100 actions=set_queue:100,NORMAL`).
 * Fields that are not part of a flow's identity (table 0, flags such as reset_counts) are left
 * out of `match`; lines without a cookie (not netswitch's) are skipped.
 */
export function parseFlows(bridge: string, text: string): OvsFlowSpec[] {
  const flows: OvsFlowSpec[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const at = line.indexOf(' actions=');
    if (!line.startsWith('cookie=') || at < 0) continue;
    const fields = line
      .slice(0, at)
      .split(/,\s*|\s+/)
      .filter(Boolean);
    const cookie = fields[0].slice('cookie='.length).toLowerCase();
    const match = fields.slice(1).filter((f) => !/^(table=0|reset_counts|send_flow_rem|check_overlap|no_packet_counts|no_byte_counts)$/.test(f));
    flows.push({ bridge, cookie, match: match.join(','), actions: line.slice(at + ' actions='.length) });
  }
  return sortFlows(flows);
}

/**
 * Flow steps from `actual` to `desired`. `gone`: bridges and ports the OVSDB transaction
 * deletes (or re-creates): a flow naming such a port holds its old OpenFlow port number, so it
 * is deleted and, if still wanted, added again. Deletions run before the OVSDB transaction
 * (while the ports they name exist, so that their undo can add them back), additions after it.
 */
export function planFlows(actual: readonly OvsFlowSpec[], desired: readonly OvsFlowSpec[], gone: { bridges: ReadonlySet<string>; ports: ReadonlySet<string> }): { before: FlowStep[]; after: FlowStep[] } {
  const stale = (f: OvsFlowSpec) => {
    const q = queueOfFlow(f);
    return gone.bridges.has(f.bridge) || (q !== undefined && gone.ports.has(q.port));
  };
  const kept = actual.filter((a) => !stale(a) && desired.some((d) => sameFlow(a, d)));
  const before = actual.filter((a) => !kept.includes(a)).map((flow): FlowStep => ({ op: 'of.flow.del', flow }));
  // A flow of the same cookie that differs is deleted first (by its cookie) and added anew.
  const after = desired.filter((d) => !kept.some((k) => sameFlow(k, d))).map((flow): FlowStep => ({ op: 'of.flow.add', flow }));
  return { before, after };
}

export function invertFlow(step: FlowStep): FlowStep {
  return { op: step.op === 'of.flow.add' ? 'of.flow.del' : 'of.flow.add', flow: step.flow };
}

export function describeFlowStep(step: FlowStep): string {
  const q = queueOfFlow(step.flow);
  const what = q ? `traffic of ${q.port} to queue ${q.queue}` : `${step.flow.match} to ${step.flow.actions}`;
  return step.op === 'of.flow.add' ? `on OVS bridge ${step.flow.bridge}, send ${what} (flow ${step.flow.cookie})` : `on OVS bridge ${step.flow.bridge}, stop sending ${what} (flow ${step.flow.cookie})`;
}

/** The flow as ovs-ofctl writes it in add-flow (and in an add-flows file after "add"). */
export function flowText(f: OvsFlowSpec): string {
  return `cookie=${f.cookie},${f.match},actions=${f.actions}`;
}

/** The line of an `ovs-ofctl --bundle add-flows BR -` file. */
export function bundleLine(step: FlowStep): string {
  return step.op === 'of.flow.add' ? `add ${flowText(step.flow)}` : `delete cookie=${step.flow.cookie}/-1`;
}

/** The equivalent ovs-ofctl command, for logs and plans. */
export function ofctlCommands(step: FlowStep): string[] {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return step.op === 'of.flow.add' ? [`ovs-ofctl add-flow ${step.flow.bridge} ${q(flowText(step.flow))}`] : [`ovs-ofctl del-flows ${step.flow.bridge} ${q(`cookie=${step.flow.cookie}/-1`)}`];
}
