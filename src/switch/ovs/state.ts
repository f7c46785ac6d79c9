// Reading Open vSwitch through OVSDB: every bridge, port, interface, QoS and queue in one
// transaction of selects, turned into the layout of netswitch's own rows (external_ids marks
// them) plus what the executor needs (row uuids) and what the report shows (foreign rows,
// errors, counters); and netswitch's OpenFlow flows, which only ovs-vswitchd holds, from the
// bridges where its QoS rows are.
import {
  type Atom,
  type Datum,
  OvsdbClient,
  type Row,
  fromMap,
  fromOptional,
  fromSet,
  fromStringMap,
  select,
  uuidOf,
} from '../../ovsdb/index.ts';
import type { OvsBridgeSpec, OvsInterfaceSpec, OvsPortSpec, OvsQosSpec, OvsQueueSpec, OvsSnapshot } from '../../model/ovs.ts';
import type { OvsBondStatus } from '../../model/report.ts';
import { BASIS_KEY, NETWORK_KEY, OWNER_KEY, OWNER_VALUE } from '../../plan/ovs.ts';
import { readFlows } from './flows.ts';
import { ovsdbTarget } from './target.ts';
import { compareNames } from '../../model/order.ts';

export const DB = 'Open_vSwitch';

export { defaultDatapath, ovsdbTarget } from './target.ts';

export async function connectOvs(): Promise<OvsdbClient> {
  return OvsdbClient.connect(ovsdbTarget(), { timeoutMs: 30_000, connectTimeoutMs: 2_000 });
}

export interface OvsState extends OvsSnapshot {
  rootUuid: string;
  bridgeUuids: Record<string, string>;
  portUuids: Record<string, string>;
  /** netswitch's QoS rows by the port that has them: the QoS row's uuid and its queues'. */
  qosUuids: Record<string, { qos: string; queues: string[] }>;
}

const owned = (row: Row) => fromStringMap(row.external_ids as Datum)[OWNER_KEY] === OWNER_VALUE;
const num = (d: Datum): number | undefined => {
  const v = fromOptional(d);
  return typeof v === 'number' ? v : undefined;
};
const str = (d: Datum): string | undefined => {
  const v = fromOptional(d);
  return typeof v === 'string' ? v : undefined;
};

/**
 * OVSDB's rows netswitch looks at, in one select transaction. Interface statistics (half of the
 * reply on a big host) only with `stats`: planning and verifying do not need them.
 */
export async function readOvs(client: OvsdbClient, options: { stats?: boolean; flows?: boolean } = {}): Promise<OvsState> {
  const [root, bridges, ports, ifaces, qosRows, queueRows] = await client.transact(DB, [
    select('Open_vSwitch', [], ['_uuid']),
    select('Bridge', [], ['_uuid', 'name', 'datapath_type', 'stp_enable', 'rstp_enable', 'mcast_snooping_enable', 'external_ids', 'ports']),
    select('Port', [], ['_uuid', 'name', 'interfaces', 'tag', 'trunks', 'bond_active_slave', 'bond_mode', 'lacp', 'bond_updelay', 'bond_downdelay', 'other_config', 'external_ids', 'qos']),
    select('Interface', [], ['_uuid', 'name', 'type', 'mtu_request', 'mtu', 'error', 'ofport', 'link_state', ...(options.stats ? ['statistics'] : []), 'external_ids', 'mac_in_use']),
    select('QoS', [], ['_uuid', 'type', 'queues', 'other_config', 'external_ids']),
    select('Queue', [], ['_uuid', 'other_config', 'external_ids']),
  ] as const);
  const ifaceByUuid = new Map<string, Row>(ifaces.rows.map((r) => [uuidOf(r._uuid as Atom), r]));
  const portByUuid = new Map<string, Row>(ports.rows.map((r) => [uuidOf(r._uuid as Atom), r]));
  const qos = new QosRows(qosRows.rows, queueRows.rows);
  const bonds = bondStatusOf(ports.rows, ifaces.rows);
  const state: OvsState = {
    layout: { bridges: {} },
    rootUuid: uuidOf(root.rows[0]._uuid as Atom),
    bridgeUuids: {},
    portUuids: {},
    qosUuids: {},
    bridges: {},
    ports: {},
    interfaces: {},
  };
  for (const r of ifaces.rows) {
    const name = String(r.name);
    const stats = r.statistics === undefined ? {} : Object.fromEntries([...fromMap(r.statistics as Datum)].map(([k, v]) => [String(k), Number(v)]));
    state.interfaces[name] = { name, type: String(r.type), statistics: stats, owned: owned(r) };
    const iface = state.interfaces[name];
    const error = str(r.error as Datum);
    if (error !== undefined) iface.error = error;
    const ofport = num(r.ofport as Datum);
    if (ofport !== undefined) iface.ofport = ofport;
    const mtu = num(r.mtu as Datum);
    if (mtu !== undefined) iface.mtu = mtu;
    const ls = str(r.link_state as Datum);
    if (ls !== undefined) iface.linkState = ls;
  }
  for (const b of bridges.rows) {
    const name = String(b.name);
    const portRows = fromSet(b.ports as Datum).map((u) => portByUuid.get(uuidOf(u))).filter((p): p is Row => p !== undefined);
    state.bridgeUuids[name] = uuidOf(b._uuid as Atom);
    state.bridges[name] = {
      name,
      datapath: String(b.datapath_type) || 'system',
      ports: portRows.map((p) => String(p.name)),
      owned: owned(b),
      stp: b.stp_enable === true,
      rstp: b.rstp_enable === true,
      mcastSnooping: b.mcast_snooping_enable === true,
    };
    for (const p of portRows) {
      const pname = String(p.name);
      state.portUuids[pname] = uuidOf(p._uuid as Atom);
      const ifaceRows = fromSet(p.interfaces as Datum).map((u) => ifaceByUuid.get(uuidOf(u))).filter((i): i is Row => i !== undefined);
      const tag = num(p.tag as Datum);
      const qosUuid = fromOptional(p.qos as Datum);
      const ours = qosUuid === undefined ? undefined : qos.spec(uuidOf(qosUuid));
      state.ports[pname] = {
        name: pname,
        bridge: name,
        interfaces: ifaceRows.map((i) => String(i.name)),
        owned: owned(p),
        ...(tag !== undefined ? { tag } : {}),
        ...(qosUuid !== undefined && !ours ? { foreignQos: true } : {}),
        ...(bonds[pname] ? { bond: bonds[pname] } : {}),
      };
      if (ours) state.qosUuids[pname] = { qos: uuidOf(qosUuid as Atom), queues: ours.queueUuids };
    }
    if (!owned(b)) continue;
    const { datapath, stp, rstp, mcastSnooping } = state.bridges[name];
    const spec: OvsBridgeSpec = { name, datapath, stp, rstp, mcastSnooping, ports: {} };
    for (const p of portRows) {
      const pname = String(p.name);
      if (pname === name) {
        // the bridge's local port comes with the bridge; only its MAC is worth keeping
        const local = portSpec(p, ifaceByUuid).interfaces[0];
        if (local?.mac) spec.mac = local.mac;
        continue;
      }
      spec.ports[pname] = portSpec(p, ifaceByUuid);
      const q = state.qosUuids[pname] && qos.spec(state.qosUuids[pname].qos);
      if (q) spec.ports[pname].qos = q.spec;
    }
    state.layout.bridges[name] = spec;
  }
  if (options.flows !== false) {
    // Only netswitch's QoS rows have flows of netswitch's (reading a bridge costs a process).
    const shaped = Object.values(state.layout.bridges).filter((b) => Object.values(b.ports).some((p) => p.qos));
    const flows = shaped.length ? await readFlows(shaped.map((b) => b.name)) : [];
    if (flows.length) state.layout.flows = flows;
  }
  return state;
}

/**
 * bond_active_slave (a MAC; what `ovs-appctl bond/show` calls the active member) -> the member
 * whose mac_in_use it is, by port name.
 */
export function bondStatusOf(ports: readonly Row[], ifaces: readonly Row[]): Record<string, OvsBondStatus> {
  const byUuid = new Map<string, Row>(ifaces.map((r) => [uuidOf(r._uuid as Atom), r]));
  const out: Record<string, OvsBondStatus> = {};
  for (const p of ports) {
    const mac = str(p.bond_active_slave as Datum)?.toLowerCase();
    if (!mac) continue;
    const members = fromSet(p.interfaces as Datum).map((u) => byUuid.get(uuidOf(u))).filter((i): i is Row => i !== undefined);
    const active = members.find((i) => str(i.mac_in_use as Datum)?.toLowerCase() === mac);
    out[String(p.name)] = { activeSlave: active ? String(active.name) : '', hwaddr: mac };
  }
  return out;
}

/** netswitch's QoS rows (external_ids marks them) with their queues, by uuid. */
class QosRows {
  #qos = new Map<string, Row>();
  #queues = new Map<string, Row>();

  constructor(qos: readonly Row[], queues: readonly Row[]) {
    for (const r of qos) if (owned(r)) this.#qos.set(uuidOf(r._uuid as Atom), r);
    for (const r of queues) this.#queues.set(uuidOf(r._uuid as Atom), r);
  }

  spec(uuid: string): { spec: OvsQosSpec; queueUuids: string[] } | undefined {
    const r = this.#qos.get(uuid);
    if (!r) return undefined;
    const queues: Record<string, OvsQueueSpec> = {};
    const queueUuids: string[] = [];
    const entries = [...fromMap(r.queues as Datum)].sort(([a], [b]) => Number(a) - Number(b));
    for (const [id, ref] of entries) {
      const q = this.#queues.get(uuidOf(ref));
      queueUuids.push(uuidOf(ref));
      queues[String(id)] = q ? queueSpec(q) : {};
    }
    const maxRate = rate(fromStringMap(r.other_config as Datum)['max-rate']);
    return { spec: { type: String(r.type), ...(maxRate !== undefined ? { maxRate } : {}), queues }, queueUuids };
  }
}

function queueSpec(q: Row): OvsQueueSpec {
  const cfg = fromStringMap(q.other_config as Datum);
  const ids = fromStringMap(q.external_ids as Datum);
  const spec: OvsQueueSpec = {};
  const min = rate(cfg['min-rate']);
  const max = rate(cfg['max-rate']);
  if (min !== undefined) spec.minRate = min;
  if (max !== undefined) spec.maxRate = max;
  if (ids[NETWORK_KEY] !== undefined) spec.network = ids[NETWORK_KEY];
  if (ids[BASIS_KEY] === 'ls' || ids[BASIS_KEY] === 'rt') spec.basis = ids[BASIS_KEY];
  return spec;
}

/** A rate of other_config (a string of digits); anything else reads as absent. */
function rate(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function portSpec(p: Row, ifaceByUuid: Map<string, Row>): OvsPortSpec {
  const interfaces: OvsInterfaceSpec[] = fromSet(p.interfaces as Datum)
    .map((u) => ifaceByUuid.get(uuidOf(u)))
    .filter((i): i is Row => i !== undefined)
    .map((i) => {
      const spec: OvsInterfaceSpec = { name: String(i.name), type: String(i.type) === 'internal' ? 'internal' : '' };
      const mtu = num(i.mtu_request as Datum);
      if (mtu !== undefined) spec.mtu = mtu;
      const mac = str(i.mac_in_use as Datum);
      if (spec.type === 'internal' && mac) spec.mac = mac;
      return spec;
    })
    .sort((a, b) => compareNames(a.name, b.name));
  const spec: OvsPortSpec = { name: String(p.name), interfaces };
  const tag = num(p.tag as Datum);
  if (tag !== undefined) spec.tag = tag;
  const trunks = fromSet(p.trunks as Datum).filter((t): t is number => typeof t === 'number');
  if (trunks.length) spec.trunks = trunks.sort((x, y) => x - y);
  const bondMode = str(p.bond_mode as Datum);
  if (interfaces.length > 1 || bondMode !== undefined) {
    spec.bond_mode = bondMode ?? 'active-backup';
    spec.lacp = str(p.lacp as Datum) ?? 'off';
    spec.bond_updelay = Number(p.bond_updelay ?? 0);
    spec.bond_downdelay = Number(p.bond_downdelay ?? 0);
    spec.other_config = fromStringMap(p.other_config as Datum);
  }
  return spec;
}
