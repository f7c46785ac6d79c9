// The Open vSwitch side of a config: one OVS bridge per southbound device (NIC or bond) and
// one per NIC-less network (the native-OVS design's multi-bridge layout), each network an
// internal port named after it and tagged with its VLAN; host QoS as a QoS row on the
// southbound port and a flow per shaped network (qos/ovs.ts, plan/ovs-flows.ts). Like the Linux
// planner, it diffs two values of one type — what the config needs and what OVSDB and
// ovs-vswitchd have (netswitch's rows and flows) — into steps that know their inverse and print
// themselves as ovs-vsctl / ovs-ofctl commands.
import { type Config, DEFAULT_MTU, southbound } from '../model/config.ts';
import { ovsBondSettings } from '../model/ovs-bond.ts';
import { ovsBridgeName, ovsBridgeOf } from '../model/ovs.ts';
import type { OvsBridgeAttrs, OvsBridgeSpec, OvsFlowSpec, OvsInterfaceSpec, OvsLayout, OvsPortAttrs, OvsPortSpec, OvsQosSpec, OvsQueueSpec } from '../model/ovs.ts';
import { ovsQosOf, queueIdOf, shapedOvsNetworks } from '../qos/ovs.ts';
import { type FlowStep, planFlows, queueFlowOf, sortFlows } from './ovs-flows.ts';
import { compareNames } from '../model/order.ts';

export type { OvsBridgeAttrs, OvsBridgeSpec, OvsFlowSpec, OvsInterfaceSpec, OvsLayout, OvsPortAttrs, OvsPortSpec, OvsQosSpec, OvsQueueSpec };

export type OvsStep =
  | { op: 'ovs.br.add' | 'ovs.br.del'; bridge: OvsBridgeSpec }
  | { op: 'ovs.br.set'; name: string; from: OvsBridgeAttrs; to: OvsBridgeAttrs }
  | { op: 'ovs.port.add' | 'ovs.port.del'; bridge: string; port: OvsPortSpec }
  | { op: 'ovs.port.set'; name: string; from: OvsPortAttrs; to: OvsPortAttrs }
  | { op: 'ovs.iface.set'; name: string; from: { mtu?: number }; to: { mtu?: number } }
  /** A port's QoS row (with its Queue rows): created, replaced, or removed (undefined). */
  | { op: 'ovs.qos.set'; port: string; from?: OvsQosSpec; to?: OvsQosSpec };

/** The external_ids key that marks a row as netswitch's. */
export const OWNER_KEY = 'netswitch-owner';
export const OWNER_VALUE = 'netswitch';
/** Queue.external_ids: the network a queue carries, and what its min-rate stands for. */
export const NETWORK_KEY = 'netswitch-network';
export const BASIS_KEY = 'netswitch-min-rate';

export { ovsBridgeName, ovsBridgeOf } from '../model/ovs.ts';

export function ovsLayoutOf(config: Config, datapath: string): OvsLayout {
  const bridges: Record<string, OvsBridgeSpec> = {};
  const bridge = (name: string) => (bridges[name] ??= { name, datapath, stp: false, rstp: false, mcastSnooping: false, ports: {} });
  const southboundMtu = new Map<string, number>();
  for (const net of Object.values(config.networks)) {
    const sb = southbound(net);
    if (net.switch === 'ovs' && sb !== undefined) southboundMtu.set(sb, Math.max(southboundMtu.get(sb) ?? 0, net.mtu));
  }
  for (const [name, bond] of Object.entries(config.bondings)) {
    if (bond.switch !== 'ovs') continue;
    const mtu = southboundMtu.get(name) ?? DEFAULT_MTU;
    const { settings } = ovsBondSettings(bond.options);
    const port: OvsPortSpec = {
      name,
      interfaces: bond.nics.map((nic) => ({ name: nic, type: '' as const, mtu })),
      bond_mode: settings.bond_mode,
      lacp: settings.lacp,
      bond_updelay: settings.bond_updelay,
      bond_downdelay: settings.bond_downdelay,
      other_config: settings.other_config,
    };
    bridge(ovsBridgeName('br', name)).ports[name] = port;
  }
  for (const [name, net] of Object.entries(config.networks)) {
    if (net.switch !== 'ovs') continue;
    const sb = southbound(net);
    const br = bridge(ovsBridgeOf(name, net));
    if (net.nic !== undefined && sb !== undefined) {
      br.ports[sb] = { name: sb, interfaces: [{ name: sb, type: '', mtu: southboundMtu.get(sb) ?? DEFAULT_MTU }] };
    }
    const port: OvsPortSpec = { name, interfaces: [{ name, type: 'internal', mtu: net.mtu }] };
    if (net.vlan !== undefined) port.tag = net.vlan;
    else port.trunks = [0];
    br.ports[name] = port;
    // One spanning tree protocol per bridge: RSTP if a network asks for it (validation refuses
    // STP and RSTP on one bridge), and never both columns on.
    br.rstp ||= net.stp === 'rstp';
    br.stp = !br.rstp && (br.stp || net.stp === true);
    br.mcastSnooping ||= net.multicastSnooping === true;
  }
  // Host QoS: a QoS row on the southbound port, a flow per shaped network into its queue.
  const flows: OvsFlowSpec[] = [];
  for (const [sb, nets] of shapedOvsNetworks(config)) {
    const br = bridges[ovsBridgeName('br', sb)];
    const port = br?.ports[sb];
    if (!port) continue; // a bond that is not there: validation says so
    port.qos = ovsQosOf(nets);
    for (const [name, net] of nets) flows.push(queueFlowOf(br.name, name, queueIdOf(net.vlan)));
  }
  return flows.length ? { bridges, flows: sortFlows(flows) } : { bridges };
}

/**
 * The steps from `actual` to `desired`: flow deletions, the OVSDB changes (one transaction),
 * flow additions (see planFlows for why in that order).
 */
export function planOvs(actual: OvsLayout, desired: OvsLayout): (OvsStep | FlowStep)[] {
  const steps = planOvsRows(actual, desired);
  const gone = { bridges: new Set<string>(), ports: new Set<string>() };
  for (const s of steps) {
    if (s.op === 'ovs.br.del') {
      gone.bridges.add(s.bridge.name);
      for (const p of Object.keys(s.bridge.ports)) gone.ports.add(p);
    } else if (s.op === 'ovs.port.del') gone.ports.add(s.port.name);
  }
  const flows = planFlows(actual.flows ?? [], desired.flows ?? [], gone);
  return [...flows.before, ...steps, ...flows.after];
}

function planOvsRows(actual: OvsLayout, desired: OvsLayout): OvsStep[] {
  const steps: OvsStep[] = [];
  for (const [name, a] of Object.entries(actual.bridges)) {
    const d = desired.bridges[name];
    if (!d || d.datapath !== a.datapath) steps.push({ op: 'ovs.br.del', bridge: a });
  }
  for (const [name, d] of Object.entries(desired.bridges)) {
    const a = actual.bridges[name];
    if (!a || a.datapath !== d.datapath) {
      steps.push({ op: 'ovs.br.add', bridge: d });
      continue;
    }
    if (a.stp !== d.stp || (a.rstp ?? false) !== d.rstp || a.mcastSnooping !== d.mcastSnooping) {
      steps.push({ op: 'ovs.br.set', name, from: bridgeAttrs(a), to: bridgeAttrs(d) });
    }
    for (const [pname, ap] of Object.entries(a.ports)) {
      const dp = d.ports[pname];
      if (!dp || !sameInterfaces(ap, dp)) steps.push({ op: 'ovs.port.del', bridge: name, port: ap });
    }
    for (const [pname, dp] of Object.entries(d.ports)) {
      const ap = a.ports[pname];
      if (!ap || !sameInterfaces(ap, dp)) {
        steps.push({ op: 'ovs.port.add', bridge: name, port: dp });
        continue;
      }
      const from = portAttrs(ap);
      const to = portAttrs(dp);
      if (JSON.stringify(from) !== JSON.stringify(to)) steps.push({ op: 'ovs.port.set', name: pname, from, to });
      if (!sameQos(ap.qos, dp.qos)) steps.push({ op: 'ovs.qos.set', port: pname, ...(ap.qos ? { from: ap.qos } : {}), ...(dp.qos ? { to: dp.qos } : {}) });
      for (const di of dp.interfaces) {
        const ai = ap.interfaces.find((i) => i.name === di.name);
        if (ai && ai.mtu !== di.mtu) steps.push({ op: 'ovs.iface.set', name: di.name, from: { mtu: ai.mtu }, to: { mtu: di.mtu } });
      }
    }
  }
  return steps;
}

function bridgeAttrs(b: OvsBridgeAttrs): OvsBridgeAttrs {
  return { stp: b.stp, rstp: b.rstp ?? false, mcastSnooping: b.mcastSnooping };
}

/** Equal QoS rows: type, rate and every queue (rates and what external_ids say). */
export function sameQos(a: OvsQosSpec | undefined, b: OvsQosSpec | undefined): boolean {
  return JSON.stringify(qosKey(a)) === JSON.stringify(qosKey(b));
}

function qosKey(q: OvsQosSpec | undefined): unknown {
  if (!q) return null;
  const queue = (x: OvsQueueSpec) => [x.minRate ?? null, x.maxRate ?? null, x.network ?? null, x.basis ?? null];
  return [q.type, q.maxRate ?? null, Object.entries(q.queues).map(([id, x]): [number, unknown] => [Number(id), queue(x)]).sort((x, y) => x[0] - y[0])];
}

/** A port is re-created when its set of interfaces (names and types) changes. */
function sameInterfaces(a: OvsPortSpec, b: OvsPortSpec): boolean {
  const key = (p: OvsPortSpec) => p.interfaces.map((i) => `${i.name}:${i.type}`).sort().join(',');
  return key(a) === key(b);
}

export function portAttrs(p: OvsPortAttrs): OvsPortAttrs {
  const out: OvsPortAttrs = {};
  if (p.tag !== undefined) out.tag = p.tag;
  if (p.trunks?.length) out.trunks = [...p.trunks].sort((x, y) => x - y);
  if (p.bond_mode !== undefined) {
    out.bond_mode = p.bond_mode;
    out.lacp = p.lacp ?? 'off';
    out.bond_updelay = p.bond_updelay ?? 0;
    out.bond_downdelay = p.bond_downdelay ?? 0;
    out.other_config = Object.fromEntries(Object.entries(p.other_config ?? {}).sort(([x], [y]) => compareNames(x, y)));
  }
  return out;
}

export function invertOvs(step: OvsStep): OvsStep {
  switch (step.op) {
    case 'ovs.br.add':
      return { ...step, op: 'ovs.br.del' };
    case 'ovs.br.del':
      return { ...step, op: 'ovs.br.add' };
    case 'ovs.port.add':
      return { ...step, op: 'ovs.port.del' };
    case 'ovs.port.del':
      return { ...step, op: 'ovs.port.add' };
    case 'ovs.br.set':
    case 'ovs.port.set':
    case 'ovs.iface.set':
      return { ...step, from: step.to, to: step.from } as OvsStep;
    case 'ovs.qos.set':
      return { op: 'ovs.qos.set', port: step.port, ...(step.to ? { from: step.to } : {}), ...(step.from ? { to: step.from } : {}) };
  }
}

export function describeOvsStep(step: OvsStep): string {
  switch (step.op) {
    case 'ovs.br.add':
      return `create OVS bridge ${step.bridge.name} with ${describePorts(Object.keys(step.bridge.ports))}`;
    case 'ovs.br.del':
      return `delete OVS bridge ${step.bridge.name}`;
    case 'ovs.br.set':
      return `set OVS bridge ${step.name} stp ${step.to.stp}, rstp ${step.to.rstp ?? false}, multicast snooping ${step.to.mcastSnooping}`;
    case 'ovs.port.add':
      return `add ${portKind(step.port)} ${step.port.name} to OVS bridge ${step.bridge}`;
    case 'ovs.port.del':
      return `remove ${portKind(step.port)} ${step.port.name} from OVS bridge ${step.bridge}`;
    case 'ovs.port.set':
      return `set OVS port ${step.name} ${JSON.stringify(step.to)}`;
    case 'ovs.iface.set':
      return `set OVS interface ${step.name} mtu ${step.from.mtu ?? '(auto)'} -> ${step.to.mtu ?? '(auto)'}`;
    case 'ovs.qos.set':
      if (!step.to) return `stop shaping traffic leaving OVS port ${step.port} (remove its QoS and queues)`;
      return `${step.from ? 'change' : 'shape'} traffic leaving OVS port ${step.port}: ${describeQos(step.to)}`;
  }
}

/** "linux-hfsc, queue 100 (vm100) min 400 max 10000000 bit/s, ..." */
export function describeQos(q: OvsQosSpec): string {
  const queues = Object.entries(q.queues).map(([id, x]) => `queue ${id}${x.network ? ` (${x.network})` : ''} min ${x.minRate ?? '-'} max ${x.maxRate ?? '-'}`);
  return `${q.type} max ${q.maxRate ?? '-'} bit/s; ${queues.join(', ')}`;
}

function describePorts(names: string[]): string {
  if (names.length === 0) return 'no ports';
  // A bridge of a thousand networks is described by its size, not a thousand names.
  return names.length <= 8 ? `ports ${names.join(', ')}` : `${names.length} ports (${names.slice(0, 3).join(', ')}, ...)`;
}

/** `ovs-vsctl` words that create P's QoS row and its queues (for a port's command line). */
function qosWords(port: string, q: OvsQosSpec): string[] {
  const owner = `external_ids:${OWNER_KEY}=${OWNER_VALUE}`;
  const ids = Object.keys(q.queues);
  const words = [
    `-- set port ${port} qos=@qos_${port}`,
    `-- --id=@qos_${port} create qos type=${q.type}${q.maxRate !== undefined ? ` other_config:max-rate=${q.maxRate}` : ''} ${owner} ${ids.map((id) => `queues:${id}=@q${id}_${port}`).join(' ')}`,
  ];
  for (const id of ids) {
    const x = q.queues[id];
    const cfg = [x.minRate !== undefined ? `other_config:min-rate=${x.minRate}` : '', x.maxRate !== undefined ? `other_config:max-rate=${x.maxRate}` : ''].filter(Boolean);
    const ext = [owner, ...(x.network ? [`external_ids:${NETWORK_KEY}=${x.network}`] : []), ...(x.basis ? [`external_ids:${BASIS_KEY}=${x.basis}`] : [])];
    words.push(`-- --id=@q${id}_${port} create queue ${[...cfg, ...ext].join(' ')}`);
  }
  return words;
}

function portKind(p: OvsPortSpec): string {
  if (p.interfaces.length > 1) return 'bond';
  return p.interfaces[0]?.type === 'internal' ? 'internal port' : 'port';
}

/** The equivalent ovs-vsctl command(s), for logs and plans. */
export function ovsVsctl(step: OvsStep): string[] {
  const q = (s: string) => (/^[\w.:=,/-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
  const portCmd = (bridge: string, p: OvsPortSpec) => {
    const attrs = Object.entries(portAttrs(p)).flatMap(([k, v]) =>
      k === 'other_config' ? Object.entries(v as Record<string, string>).map(([ok, ov]) => `other_config:${ok}=${ov}`) : [`${k}=${v}`],
    );
    const ifaces = p.interfaces.flatMap((i) => [
      ...(i.type ? [`-- set interface ${i.name} type=${i.type}`] : []),
      ...(i.mtu !== undefined ? [`-- set interface ${i.name} mtu_request=${i.mtu}`] : []),
    ]);
    const head = p.interfaces.length > 1 ? `add-bond ${bridge} ${p.name} ${p.interfaces.map((i) => i.name).join(' ')}` : `add-port ${bridge} ${p.name}`;
    return ['ovs-vsctl', head, ...attrs.map(q), ...ifaces, `-- set port ${p.name} external_ids:${OWNER_KEY}=${OWNER_VALUE}`, ...(p.qos ? qosWords(p.name, p.qos) : [])].join(' ');
  };
  // OVS leaves a removed port's QoS and Queue rows behind (root tables): netswitch deletes them
  // in the same transaction, and the qdisc OVS made on its NICs after it.
  const qosGone = (p: OvsPortSpec) =>
    p.qos ? [`# and destroy the QoS row of ${p.name} and its ${Object.keys(p.qos.queues).length} Queue rows${p.interfaces.some((i) => i.type === '') ? `; then tc qdisc del dev ${p.interfaces.filter((i) => i.type === '').map((i) => i.name).join(', ')} root handle 1: hfsc` : ''}`] : [];
  switch (step.op) {
    case 'ovs.br.add':
      return [
        `ovs-vsctl add-br ${step.bridge.name} -- set bridge ${step.bridge.name} datapath_type=${step.bridge.datapath} stp_enable=${step.bridge.stp}${step.bridge.rstp ? ' rstp_enable=true' : ''} mcast_snooping_enable=${step.bridge.mcastSnooping} external_ids:${OWNER_KEY}=${OWNER_VALUE}`,
        ...Object.values(step.bridge.ports).map((p) => portCmd(step.bridge.name, p)),
      ];
    case 'ovs.br.del':
      return [`ovs-vsctl del-br ${step.bridge.name}`, ...Object.values(step.bridge.ports).flatMap(qosGone)];
    case 'ovs.br.set':
      return [`ovs-vsctl set bridge ${step.name} stp_enable=${step.to.stp} rstp_enable=${step.to.rstp ?? false} mcast_snooping_enable=${step.to.mcastSnooping}`];
    case 'ovs.port.add':
      return [portCmd(step.bridge, step.port)];
    case 'ovs.port.del':
      return [`ovs-vsctl del-port ${step.bridge} ${step.port.name}`, ...qosGone(step.port)];
    case 'ovs.port.set': {
      const to = step.to;
      const parts = [to.tag === undefined ? `-- clear port ${step.name} tag` : `-- set port ${step.name} tag=${to.tag}`];
      parts.push(to.trunks?.length ? `-- set port ${step.name} trunks=${to.trunks.join(',')}` : `-- clear port ${step.name} trunks`);
      if (to.bond_mode !== undefined) parts.push(`-- set port ${step.name} bond_mode=${to.bond_mode} lacp=${to.lacp} bond_updelay=${to.bond_updelay} bond_downdelay=${to.bond_downdelay}`);
      return [`ovs-vsctl ${parts.join(' ').replace(/^-- /, '')}`];
    }
    case 'ovs.iface.set':
      return [step.to.mtu === undefined ? `ovs-vsctl clear interface ${step.name} mtu_request` : `ovs-vsctl set interface ${step.name} mtu_request=${step.to.mtu}`];
    case 'ovs.qos.set': {
      const old = step.from ? [`# and destroy the QoS row of ${step.port} and its ${Object.keys(step.from.queues).length} Queue rows`] : [];
      return step.to ? [['ovs-vsctl', ...qosWords(step.port, step.to)].join(' ').replace('ovs-vsctl -- ', 'ovs-vsctl '), ...old] : [`ovs-vsctl clear port ${step.port} qos`, ...old];
    }
  }
}
