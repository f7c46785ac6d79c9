// A step is data first: what to do, how to undo it, and how to print it (in words and as the
// equivalent `ip` command). Steps are JSON-serializable so the journal can hold a plan.
import { IP_DEFAULTS, bondOptionFitsMode } from '../model/bond-options.ts';
import { BRIDGE_DEFAULTS, BRIDGE_OPTIONS, sameBridgeValue } from '../model/bridge-options.ts';
import { shellQuote } from '../sys/run.ts';
import type { DhcpClient, Unread } from '../model/snapshot.ts';
import type { LinkSpec, RouteSpec, RuleSpec } from './layout.ts';
import { type OvsStep, describeOvsStep, invertOvs, ovsVsctl } from './ovs.ts';
import { type FlowStep, describeFlowStep, invertFlow, isFlowStep, ofctlCommands } from './ovs-flows.ts';
import { type QosStep, describeQosStep, invertQos, isQosStep, tcCommands } from '../qos/hfsc.ts';

export { isFlowStep, isQosStep };

export type LinkAttr = 'mtu' | 'up' | 'master' | 'mac';

/**
 * A step of either switch: Linux steps run through `ip -batch` (shaping through `tc -batch`),
 * OVS steps as one OVSDB transaction, OpenFlow flows through `ovs-ofctl --bundle`.
 */
export type Step = LinuxStep | OvsStep | QosStep | FlowStep;

export function isOvsStep(step: Step): step is OvsStep {
  return step.op.startsWith('ovs.');
}

export type LinuxStep =
  /** Create a bridge, bond or VLAN with its creation-time attributes. */
  | { op: 'link.add'; link: LinkSpec }
  /** Delete a device; `link` is what it was, so the inverse re-creates it. */
  | { op: 'link.del'; link: LinkSpec }
  | {
      op: 'link.set';
      name: string;
      attr: LinkAttr;
      from: string | number | boolean | null;
      to: string | number | boolean | null;
      /** On a bond slave's detach: it was down while attached (see undo). */
      down?: true;
    }
  | { op: 'bridge.set'; name: string; from: Record<string, string>; to: Record<string, string> }
  | { op: 'bond.set'; name: string; from: Record<string, string>; to: Record<string, string> }
  | { op: 'addr.add' | 'addr.del'; dev: string; cidr: string }
  | { op: 'route.add' | 'route.del'; route: RouteSpec }
  | { op: 'rule.add' | 'rule.del'; rule: RuleSpec }
  /** The nameservers of the resolv.conf netswitch manages. */
  | { op: 'dns.set'; from: string[]; to: string[] }
  /** An IPv6 autoconfiguration sysctl of a device (net.ipv6.conf.<dev>.<key>). */
  | { op: 'sysctl.set'; dev: string; key: 'accept_ra' | 'autoconf'; from: string; to: string }
  /** A DHCP client: started (waiting for its lease) or stopped (its address goes with it). */
  | { op: 'dhcp.start' | 'dhcp.stop'; client: DhcpClient };

/**
 * The parts of the host steps cannot have changed (verification need not read them again):
 * the IPv6 rules without an IPv6 rule step; the shaping without a shaping step, an OVS step
 * with a QoS row (OVS makes and drops the qdiscs of its QoS rows) or a device deleted (its
 * qdiscs go with it).
 */
export function untouched(steps: readonly Step[]): Unread {
  return {
    rules6: !steps.some((s) => (s.op === 'rule.add' || s.op === 'rule.del') && s.rule.family === 6),
    shaping: !steps.some((s) => isQosStep(s) || (isOvsStep(s) && ovsShaping(s)) || s.op === 'link.del'),
  };
}

function ovsShaping(step: OvsStep): boolean {
  switch (step.op) {
    case 'ovs.qos.set':
      return true;
    case 'ovs.port.add':
    case 'ovs.port.del':
      return step.port.qos !== undefined;
    case 'ovs.br.add':
    case 'ovs.br.del':
      return Object.values(step.bridge.ports).some((p) => p.qos !== undefined);
    default:
      return false;
  }
}

export function invert(step: Step): Step {
  if (isOvsStep(step)) return invertOvs(step);
  if (isQosStep(step)) return invertQos(step);
  if (isFlowStep(step)) return invertFlow(step);
  switch (step.op) {
    case 'link.add':
      return { op: 'link.del', link: step.link };
    case 'link.del':
      return { op: 'link.add', link: step.link };
    case 'link.set': {
      const { down: _down, ...rest } = step;
      return { ...rest, from: step.to, to: step.from };
    }
    case 'bridge.set':
    case 'bond.set':
      return { ...step, from: step.to, to: step.from };
    case 'addr.add':
      return { ...step, op: 'addr.del' };
    case 'addr.del':
      return { ...step, op: 'addr.add' };
    case 'route.add':
      return { ...step, op: 'route.del' };
    case 'route.del':
      return { ...step, op: 'route.add' };
    case 'rule.add':
      return { ...step, op: 'rule.del' };
    case 'rule.del':
      return { ...step, op: 'rule.add' };
    case 'dns.set':
      return { ...step, from: step.to, to: step.from };
    case 'sysctl.set':
      return { ...step, from: step.to, to: step.from };
    case 'dhcp.start':
      return { ...step, op: 'dhcp.stop' };
    case 'dhcp.stop':
      return { ...step, op: 'dhcp.start' };
  }
}

/** The undo of a sequence of steps: each inverse, in reverse order. */
export function undo(steps: readonly Step[]): Step[] {
  const out: Step[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    out.push(invert(step));
    // The bonding driver brings up what it enslaves: a slave that was down while attached goes
    // down again (up, it could become the active slave, which in balance-alb also moves MACs).
    if (step.op === 'link.set' && step.attr === 'master' && step.down) out.push({ op: 'link.set', name: step.name, attr: 'up', from: true, to: false });
  }
  return out;
}

/** One sentence, for humans. */
export function describeStep(step: Step): string {
  if (isOvsStep(step)) return describeOvsStep(step);
  if (isQosStep(step)) return describeQosStep(step);
  if (isFlowStep(step)) return describeFlowStep(step);
  switch (step.op) {
    case 'link.add':
      return `create ${step.link.kind} ${step.link.name}${step.link.vlan ? ` on ${step.link.vlan.link}` : ''} (mtu ${step.link.mtu})`;
    case 'link.del':
      return `delete ${step.link.kind} ${step.link.name}`;
    case 'link.set':
      if (step.attr === 'master') {
        return step.to === null ? `detach ${step.name} from ${step.from}` : `attach ${step.name} to ${step.to}`;
      }
      if (step.attr === 'up') return `bring ${step.name} ${step.to ? 'up' : 'down'}`;
      // An MTU set to what it was: the kernel moves it otherwise (a bridge's to its ports', a
      // slave's to what it had when its bond took it).
      if (step.attr === 'mtu' && step.from === step.to) return `set ${step.name} mtu ${step.to} explicitly (the kernel would move it)`;
      return `set ${step.name} ${step.attr} ${step.from ?? '(unset)'} -> ${step.to}`;
    case 'bridge.set':
    case 'bond.set':
      return `set ${step.op === 'bridge.set' ? 'bridge' : 'bond'} ${step.name} options ${Object.keys(step.to)
        .map((k) => `${k} ${optionText(step.from[k])} -> ${optionText(step.to[k])}`)
        .join(', ')}`;
    case 'addr.add':
      return `add address ${step.cidr} to ${step.dev}`;
    case 'addr.del':
      return `remove address ${step.cidr} from ${step.dev}`;
    case 'route.add':
      return `add ${routeText(step.route)}`;
    case 'route.del':
      return `remove ${routeText(step.route)}`;
    case 'rule.add':
      return `route traffic from ${step.rule.src} by table ${step.rule.table}`;
    case 'rule.del':
      return `stop routing traffic from ${step.rule.src} by table ${step.rule.table}`;
    case 'dns.set':
      return `set nameservers ${step.from.join(' ') || '(none)'} -> ${step.to.join(' ') || '(none)'}`;
    case 'sysctl.set':
      return `set ${step.dev} IPv6 ${step.key} ${step.from} -> ${step.to}`;
    case 'dhcp.start':
      return `start a DHCPv${step.client.family} client on ${step.client.dev} and wait for its lease`;
    case 'dhcp.stop':
      return `stop the DHCPv${step.client.family} client on ${step.client.dev}`;
  }
}

function routeText(r: RouteSpec): string {
  return `${r.dst === 'default' ? `IPv${r.family} default route` : `route to ${r.dst}`}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.table === 'main' ? '' : ` table ${r.table}`}`;
}

/**
 * The address family an `ip` run of this step needs: `ip rule` takes its family from the
 * command line only (`ip -6`), not from the address, and a batch line cannot set it.
 */
export function ipFamilyOf(step: LinuxStep): 6 | undefined {
  return (step.op === 'rule.add' || step.op === 'rule.del') && step.rule.family === 6 ? 6 : undefined;
}

/** A bridge or bond option's value in a step's description: unknown, cleared, or as it is. */
function optionText(value: string | undefined): string {
  return value === undefined ? '?' : value === '' ? '(none)' : value;
}

/** The step as `ip -batch` lines (each line is an `ip` command without the leading "ip"). */
export function ipBatchLines(step: LinuxStep): string[][] {
  switch (step.op) {
    case 'link.add':
      // A spec read from the host (the undo of a deletion) says whether the device was up.
      return step.link.up ? [createLink(step.link), ['link', 'set', 'dev', step.link.name, 'up']] : [createLink(step.link)];
    case 'link.del':
      return [['link', 'del', 'dev', step.link.name]];
    case 'link.set':
      switch (step.attr) {
        case 'master':
          return [step.to === null ? ['link', 'set', 'dev', step.name, 'nomaster'] : ['link', 'set', 'dev', step.name, 'master', String(step.to)]];
        case 'up':
          return [['link', 'set', 'dev', step.name, step.to ? 'up' : 'down']];
        case 'mtu':
          return [['link', 'set', 'dev', step.name, 'mtu', String(step.to)]];
        case 'mac':
          return [['link', 'set', 'dev', step.name, 'address', String(step.to)]];
      }
      break;
    case 'bridge.set':
      return [['link', 'set', 'dev', step.name, 'type', 'bridge', ...bridgeArgs(step.to)]];
    case 'bond.set':
      return [['link', 'set', 'dev', step.name, 'type', 'bond', ...bondArgs(step.to)]];
    case 'addr.add':
    case 'addr.del':
      return [['addr', step.op === 'addr.add' ? 'add' : 'del', step.cidr, 'dev', step.dev]];
    case 'route.add':
    case 'route.del': {
      const r = step.route;
      const dst = r.dst === 'default' ? (r.family === 4 ? '0.0.0.0/0' : '::/0') : r.dst;
      return [['route', step.op === 'route.add' ? 'add' : 'del', dst, ...(r.gateway ? ['via', r.gateway] : []), 'dev', r.dev, 'table', r.table]];
    }
    case 'rule.add':
    case 'rule.del': {
      const r = step.rule;
      return [['rule', step.op === 'rule.add' ? 'add' : 'del', 'from', r.src, 'lookup', r.table, 'priority', String(r.priority)]];
    }
    case 'dns.set':
    case 'sysctl.set':
    case 'dhcp.start':
    case 'dhcp.stop':
      return [];
  }
}

function createLink(l: LinkSpec): string[] {
  const head = ['link', 'add', 'name', l.name, ...(l.vlan ? ['link', l.vlan.link] : []), ...(l.mac ? ['address', l.mac] : []), 'mtu', String(l.mtu)];
  switch (l.kind) {
    // Options at their kernel default are left out: the kernel sets them anyway, and some
    // (vlan_filtering on a kernel without it) are refused even when set to the default.
    case 'bridge':
      return [...head, 'type', 'bridge', ...bridgeArgs(withoutDefaults(l.bridgeOpts ?? {}, BRIDGE_DEFAULTS))];
    case 'bond': {
      const { mode, ...rest } = l.bondOptions ?? {};
      const fitting = Object.fromEntries(Object.entries(rest).filter(([k]) => !mode || bondOptionFitsMode(k, mode)));
      return [...head, 'type', 'bond', ...bondArgs({ ...(mode ? { mode } : {}), ...withoutDefaults(fitting, IP_DEFAULTS) })];
    }
    case 'vlan':
      return [...head, 'type', 'vlan', 'id', String(l.vlan?.id)];
    case 'nic':
    case 'ovs':
      // NICs are never created, OVS internal ports only by the OVS switch: a plan that tries is a bug.
      throw new Error(`cannot create ${l.kind} ${l.name} with ip`);
  }
}

function withoutDefaults(opts: Record<string, string>, defaults: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(opts).filter(([k, v]) => defaults[k] === undefined || !sameBridgeValue(defaults[k], v)));
}

function bridgeArgs(opts: Record<string, string>): string[] {
  return Object.entries(opts).flatMap(([k, v]) => [BRIDGE_OPTIONS[k].ip, v]);
}

function bondArgs(opts: Record<string, string>): string[] {
  // ip takes arp_ip_target comma-separated, as sysfs shows it; ovs: options are not the kernel's.
  return Object.entries(opts)
    .filter(([k]) => !k.startsWith('ovs:'))
    .flatMap(([k, v]) => [k, v]);
}

/**
 * A bond's primary slave cleared: `ip` can name a primary but has no word for "none", so this
 * step writes the bonding driver's sysfs file instead (a newline clears it), in place.
 */
export function isPrimaryClear(step: Step): step is Extract<LinuxStep, { op: 'bond.set' }> {
  return step.op === 'bond.set' && step.to.primary === '' && Object.keys(step.to).length === 1;
}

export function bondPrimaryPath(bond: string): string {
  return `/sys/class/net/${bond}/bonding/primary`;
}

/** The step as the commands that would do the same (`ip ...` or `ovs-vsctl ...`), for printing. */
export function commandsOf(step: Step): string[] {
  if (isOvsStep(step)) return ovsVsctl(step);
  if (isPrimaryClear(step)) return [`echo > ${bondPrimaryPath(step.name)}`];
  if (isQosStep(step)) return tcCommands(step);
  if (isFlowStep(step)) return ofctlCommands(step);
  if (step.op === 'dns.set') return [`# write ${step.to.map((n) => `nameserver ${n}`).join(', ') || 'no nameserver'} to resolv.conf`];
  if (step.op === 'sysctl.set') return [`sysctl -w net.ipv6.conf.${step.dev.replaceAll('.', '/')}.${step.key}=${step.to}`];
  if (step.op === 'dhcp.start') return [`dhclient -${step.client.family} ${step.client.wait === false ? '-nw' : '-1'} -sf dhclient-script -e NETSWITCH_TABLE=${step.client.table} ${step.client.dev}`];
  if (step.op === 'dhcp.stop') return [`dhclient -${step.client.family} -x ${step.client.dev}`];
  const family = ipFamilyOf(step);
  return ipBatchLines(step).map((line) => ['ip', ...(family === 6 ? ['-6'] : []), ...line].map(shellQuote).join(' '));
}

/** Linux steps as `ip` commands. */
export const ipCommands = commandsOf;
