// Comparing two snapshots the way an operator would: what the host is configured to be, not
// what it happens to be doing. Ifindexes, counters, operational state, timers and STP
// topology are left out, and so is what the kernel derives from carrier and MAC (IPv6
// link-local addresses, kernel routes), the devices of OVS's datapaths, the MTU of an OVS
// bridge's own port (ovs-vswitchd's) and the MACs a tlb/alb bond gives its slaves;
// everything that configuration decides is in. The rollback proof is
// `diffSnapshots(before, after)` returning nothing.
import { BRIDGE_OPTIONS } from '../model/bridge-options.ts';
import { OVS_DATAPATH_DEVICES } from '../model/ovs.ts';
import type { Link, Snapshot } from '../model/snapshot.ts';
import { portMasters } from '../plan/layout.ts';
import { sameQos as sameOvsQos } from '../plan/ovs.ts';
import { flowKey } from '../plan/ovs-flows.ts';
import { sameQos } from '../qos/hfsc.ts';

const VOLATILE_INFO = new Set([
  ...Object.values(BRIDGE_OPTIONS)
    .filter((o) => o.readonly)
    .map((o) => o.json),
  // bonding: which slave is active and the 802.3ad aggregator come from negotiation
  'active_slave',
  'ad_info',
]);

export interface LinkDigest {
  type: string;
  mtu: number;
  mac: string;
  up: boolean;
  master: string | null;
  link: string | null;
  info: Record<string, unknown>;
  addresses: string[];
}

export function digestLink(l: Link): LinkDigest {
  const info: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(l.info)) if (!VOLATILE_INFO.has(k)) info[k] = v;
  return {
    type: l.type,
    mtu: l.mtu,
    mac: l.mac,
    up: l.up,
    master: l.master ?? null,
    link: l.type === 'vlan' ? (l.link ?? null) : null,
    info,
    // IPv6 link-local addresses follow the MAC and the carrier, not the config.
    addresses: l.addresses.filter((a) => !(a.family === 6 && a.scope === 'link')).map((a) => a.cidr).sort(),
  };
}

/** A route as `ip route` words (every field labelled: one string per route, and readable in a difference). */
function routeKey(r: Snapshot['routes'][number]): string {
  const words = [`IPv${r.family}`, r.type && r.type !== 'unicast' ? r.type : '', r.dst, r.gateway ? `via ${r.gateway}` : '', r.dev ? `dev ${r.dev}` : '', `table ${r.table}`];
  words.push(r.protocol ? `proto ${r.protocol}` : '', r.scope ? `scope ${r.scope}` : '', r.metric !== undefined ? `metric ${r.metric}` : '', r.prefsrc ? `src ${r.prefsrc}` : '');
  return words.filter(Boolean).join(' ');
}

/**
 * Routes the kernel derives from addresses and link state (proto kernel, table local), or
 * learns from router advertisements (proto ra), are left out: they are not configuration (an
 * apply's reads do not even list them: CONFIGURED_ROUTE_PROTOCOLS).
 */
function configuredRoutes(s: Snapshot): Snapshot['routes'] {
  return s.routes.filter((r) => r.protocol !== 'kernel' && r.protocol !== 'ra' && r.table !== 'local');
}

/** A rule as `ip rule` words. */
function ruleKey(r: Snapshot['rules'][number]): string {
  return `IPv${r.family} priority ${r.priority} from ${r.src ?? 'all'}${r.iif ? ` iif ${r.iif}` : ''} lookup ${r.table}`;
}

/** Every difference between two snapshots, one sentence each; empty when they are the same. */
export function diffSnapshots(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  const names = new Set([...Object.keys(a.links), ...Object.keys(b.links)]);
  // An OVS bridge's own port has no mtu_request from netswitch: ovs-vswitchd gives it the
  // smallest MTU of the bridge's other ports, and keeps a larger one it once had.
  const ovsBridges = new Set([...Object.keys(a.ovs?.layout.bridges ?? {}), ...Object.keys(b.ovs?.layout.bridges ?? {})]);
  // A bridge without ports has a random MAC no neighbour knows (a rollback re-creates it
  // without one: layoutFromSnapshot).
  const [mastersA, mastersB] = [portMasters(a), portMasters(b)];
  const portless = (l: Link, masters: Set<string>) => l.kind === 'bridge' && !masters.has(l.name);
  for (const name of [...names].sort()) {
    if (OVS_DATAPATH_DEVICES.has(name)) continue; // re-made by ovs-vswitchd with a new MAC when a rollback re-creates the first bridge
    const la = a.links[name];
    const lb = b.links[name];
    if (!la) out.push(`link ${name} appeared`);
    else if (!lb) out.push(`link ${name} disappeared`);
    else {
      const da = digestLink(la);
      const db = digestLink(lb);
      const macIsTheBonds = bondOwnsSlaveMac(a, la) || bondOwnsSlaveMac(b, lb);
      for (const key of Object.keys(da) as (keyof LinkDigest)[]) {
        if (key === 'mtu' && ovsBridges.has(name)) continue;
        if (key === 'mac' && (macIsTheBonds || (portless(la, mastersA) && portless(lb, mastersB)))) continue;
        if (key === 'info') {
          const keys = new Set([...Object.keys(da.info), ...Object.keys(db.info)]);
          for (const k of keys) {
            if (JSON.stringify(da.info[k]) !== JSON.stringify(db.info[k])) {
              out.push(`link ${name} ${k}: ${JSON.stringify(da.info[k])} -> ${JSON.stringify(db.info[k])}`);
            }
          }
        } else if (JSON.stringify(da[key]) !== JSON.stringify(db[key])) {
          out.push(`link ${name} ${key}: ${JSON.stringify(da[key])} -> ${JSON.stringify(db[key])}`);
        }
      }
    }
  }
  diffSets(configuredRoutes(a).map(routeKey), configuredRoutes(b).map(routeKey), 'route', out);
  diffSets(a.rules.map(ruleKey), b.rules.map(ruleKey), 'rule', out);
  for (const [dev, conf] of Object.entries(a.ipv6conf ?? {})) {
    const other = b.ipv6conf?.[dev];
    if (other && JSON.stringify(other) !== JSON.stringify(conf)) out.push(`${dev} IPv6 autoconfiguration: ${JSON.stringify(conf)} -> ${JSON.stringify(other)}`);
  }
  for (const dev of new Set([...Object.keys(a.qos?.devs ?? {}), ...Object.keys(b.qos?.devs ?? {})])) {
    const pick = (s: Snapshot) => ({ devs: s.qos?.devs[dev] ? { [dev]: s.qos.devs[dev] } : {} });
    if (!sameQos(pick(a), pick(b))) out.push(`traffic shaping on ${dev} differs`);
  }
  // Open vSwitch host QoS: netswitch's QoS rows by port, and its flows (rows re-created by a
  // rollback get new uuids; their content is what counts).
  const ovsQos = (s: Snapshot) => new Map(Object.values(s.ovs?.layout.bridges ?? {}).flatMap((b) => Object.values(b.ports).filter((p) => p.qos).map((p) => [p.name, p.qos] as const)));
  const [qa, qb] = [ovsQos(a), ovsQos(b)];
  for (const port of new Set([...qa.keys(), ...qb.keys()])) if (!sameOvsQos(qa.get(port), qb.get(port))) out.push(`QoS of OVS port ${port} differs`);
  diffSets((a.ovs?.layout.flows ?? []).map(flowKey), (b.ovs?.layout.flows ?? []).map(flowKey), 'OpenFlow flow', out);
  const clients = (s: Snapshot) => (s.dhcp ?? []).map((c) => `${c.dev} DHCPv${c.family}`);
  diffSets(clients(a), clients(b), 'DHCP client', out);
  if (a.nameservers.join(' ') !== b.nameservers.join(' ')) {
    out.push(`nameservers: ${a.nameservers.join(' ') || '(none)'} -> ${b.nameservers.join(' ') || '(none)'}`);
  }
  return out;
}

/**
 * A slave of a balance-tlb or balance-alb bond: the driver gives it a MAC of the bond's
 * choosing and moves MACs between slaves when the active one changes (its link monitor decides
 * when, so a rollback that re-attaches them cannot pin which slave ends with which); like the
 * active slave, that is the bond's state, not configuration.
 */
function bondOwnsSlaveMac(s: Snapshot, l: Link): boolean {
  const mode = l.master === undefined ? undefined : s.links[l.master]?.info.mode;
  return mode === 'balance-tlb' || mode === 'balance-alb';
}

function diffSets(a: string[], b: string[], what: string, out: string[]): void {
  const sa = new Set(a);
  const sb = new Set(b);
  for (const x of sa) if (!sb.has(x)) out.push(`${what} gone: ${x}`);
  for (const x of sb) if (!sa.has(x)) out.push(`${what} new: ${x}`);
}
