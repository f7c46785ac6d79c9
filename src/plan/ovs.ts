// The Open vSwitch side of a config: one OVS bridge per southbound device (NIC or bond) and
// one per NIC-less network (the native-OVS design's multi-bridge layout), each network an
// internal port named after it and tagged with its VLAN. Like the Linux planner, it diffs two
// values of one type — what the config needs and what OVSDB has (netswitch's rows) — into
// steps that know their inverse and print themselves as ovs-vsctl commands.
import { createHash } from 'node:crypto';
import { type Config, DEFAULT_MTU, southbound } from '../model/config.ts';
import { ovsBondSettings } from '../model/ovs-bond.ts';
import type { OvsBridgeAttrs, OvsBridgeSpec, OvsInterfaceSpec, OvsLayout, OvsPortAttrs, OvsPortSpec } from '../model/ovs.ts';

export type { OvsBridgeAttrs, OvsBridgeSpec, OvsInterfaceSpec, OvsLayout, OvsPortAttrs, OvsPortSpec };

export type OvsStep =
  | { op: 'ovs.br.add' | 'ovs.br.del'; bridge: OvsBridgeSpec }
  | { op: 'ovs.br.set'; name: string; from: OvsBridgeAttrs; to: OvsBridgeAttrs }
  | { op: 'ovs.port.add' | 'ovs.port.del'; bridge: string; port: OvsPortSpec }
  | { op: 'ovs.port.set'; name: string; from: OvsPortAttrs; to: OvsPortAttrs }
  | { op: 'ovs.iface.set'; name: string; from: { mtu?: number }; to: { mtu?: number } };

/** The external_ids key that marks a row as netswitch's. */
export const OWNER_KEY = 'netswitch-owner';
export const OWNER_VALUE = 'netswitch';

/** A deterministic OVS bridge name of at most 15 characters. */
export function ovsBridgeName(prefix: 'br' | 'brn', device: string): string {
  const name = `${prefix}-${device}`;
  if (name.length <= 15) return name;
  return `${prefix}-${createHash('sha256').update(device).digest('hex').slice(0, 14 - prefix.length)}`;
}

/** The OVS bridge a network's internal port sits on. */
export function ovsBridgeOf(networkName: string, net: Config['networks'][string]): string {
  const sb = southbound(net);
  return sb === undefined ? ovsBridgeName('brn', networkName) : ovsBridgeName('br', sb);
}

export function ovsLayoutOf(config: Config, datapath: string): OvsLayout {
  const bridges: Record<string, OvsBridgeSpec> = {};
  const bridge = (name: string) => (bridges[name] ??= { name, datapath, stp: false, mcastSnooping: false, ports: {} });
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
    br.ports[name] = port;
    br.stp ||= net.stp;
    br.mcastSnooping ||= net.multicastSnooping === true;
  }
  return { bridges };
}

export function planOvs(actual: OvsLayout, desired: OvsLayout): OvsStep[] {
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
    if (a.stp !== d.stp || a.mcastSnooping !== d.mcastSnooping) {
      steps.push({ op: 'ovs.br.set', name, from: { stp: a.stp, mcastSnooping: a.mcastSnooping }, to: { stp: d.stp, mcastSnooping: d.mcastSnooping } });
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
      for (const di of dp.interfaces) {
        const ai = ap.interfaces.find((i) => i.name === di.name);
        if (ai && ai.mtu !== di.mtu) steps.push({ op: 'ovs.iface.set', name: di.name, from: { mtu: ai.mtu }, to: { mtu: di.mtu } });
      }
    }
  }
  return steps;
}

/** A port is re-created when its set of interfaces (names and types) changes. */
function sameInterfaces(a: OvsPortSpec, b: OvsPortSpec): boolean {
  const key = (p: OvsPortSpec) => p.interfaces.map((i) => `${i.name}:${i.type}`).sort().join(',');
  return key(a) === key(b);
}

export function portAttrs(p: OvsPortAttrs): OvsPortAttrs {
  const out: OvsPortAttrs = {};
  if (p.tag !== undefined) out.tag = p.tag;
  if (p.bond_mode !== undefined) {
    out.bond_mode = p.bond_mode;
    out.lacp = p.lacp ?? 'off';
    out.bond_updelay = p.bond_updelay ?? 0;
    out.bond_downdelay = p.bond_downdelay ?? 0;
    out.other_config = Object.fromEntries(Object.entries(p.other_config ?? {}).sort(([x], [y]) => x.localeCompare(y)));
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
  }
}

export function describeOvsStep(step: OvsStep): string {
  switch (step.op) {
    case 'ovs.br.add':
      return `create OVS bridge ${step.bridge.name} with ${describePorts(Object.keys(step.bridge.ports))}`;
    case 'ovs.br.del':
      return `delete OVS bridge ${step.bridge.name}`;
    case 'ovs.br.set':
      return `set OVS bridge ${step.name} stp ${step.to.stp}, multicast snooping ${step.to.mcastSnooping}`;
    case 'ovs.port.add':
      return `add ${portKind(step.port)} ${step.port.name} to OVS bridge ${step.bridge}`;
    case 'ovs.port.del':
      return `remove ${portKind(step.port)} ${step.port.name} from OVS bridge ${step.bridge}`;
    case 'ovs.port.set':
      return `set OVS port ${step.name} ${JSON.stringify(step.to)}`;
    case 'ovs.iface.set':
      return `set OVS interface ${step.name} mtu ${step.from.mtu ?? '(auto)'} -> ${step.to.mtu ?? '(auto)'}`;
  }
}

function describePorts(names: string[]): string {
  if (names.length === 0) return 'no ports';
  // A bridge of a thousand networks is described by its size, not a thousand names.
  return names.length <= 8 ? `ports ${names.join(', ')}` : `${names.length} ports (${names.slice(0, 3).join(', ')}, ...)`;
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
    return ['ovs-vsctl', head, ...attrs.map(q), ...ifaces, `-- set port ${p.name} external_ids:${OWNER_KEY}=${OWNER_VALUE}`].join(' ');
  };
  switch (step.op) {
    case 'ovs.br.add':
      return [
        `ovs-vsctl add-br ${step.bridge.name} -- set bridge ${step.bridge.name} datapath_type=${step.bridge.datapath} stp_enable=${step.bridge.stp} mcast_snooping_enable=${step.bridge.mcastSnooping} external_ids:${OWNER_KEY}=${OWNER_VALUE}`,
        ...Object.values(step.bridge.ports).map((p) => portCmd(step.bridge.name, p)),
      ];
    case 'ovs.br.del':
      return [`ovs-vsctl del-br ${step.bridge.name}`];
    case 'ovs.br.set':
      return [`ovs-vsctl set bridge ${step.name} stp_enable=${step.to.stp} mcast_snooping_enable=${step.to.mcastSnooping}`];
    case 'ovs.port.add':
      return [portCmd(step.bridge, step.port)];
    case 'ovs.port.del':
      return [`ovs-vsctl del-port ${step.bridge} ${step.port.name}`];
    case 'ovs.port.set': {
      const to = step.to;
      const parts = [to.tag === undefined ? `-- clear port ${step.name} tag` : `-- set port ${step.name} tag=${to.tag}`];
      if (to.bond_mode !== undefined) parts.push(`-- set port ${step.name} bond_mode=${to.bond_mode} lacp=${to.lacp} bond_updelay=${to.bond_updelay} bond_downdelay=${to.bond_downdelay}`);
      return [`ovs-vsctl ${parts.join(' ').replace(/^-- /, '')}`];
    }
    case 'ovs.iface.set':
      return [step.to.mtu === undefined ? `ovs-vsctl clear interface ${step.name} mtu_request` : `ovs-vsctl set interface ${step.name} mtu_request=${step.to.mtu}`];
  }
}
