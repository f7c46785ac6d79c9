// The Open vSwitch part of the report, in the shape VDSM's OVS switch gave it (clients never
// branch on switch type): a network is its internal port, its southbound the NIC or bond port
// of its bridge; a bridged one also appears under bridges, a VLAN network under vlans as
// <southbound>.<vid>, an OVS bond under bondings — each marked switch: ovs; a bridgeless one
// is reported on the device a Linux host would give it (VDSM's fake_bridgeless). Derived from
// OVSDB and the kernel, not from the running config.
import { type Config, isRemoval } from '../model/config.ts';
import { formatBondOptions } from '../model/bond-options.ts';
import { ovsBondSettings } from '../model/ovs-bond.ts';
import type { HostQos } from '../model/config.ts';
import type { OvsBridgeSpec, OvsPortSpec } from '../model/ovs.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { portAttrs } from '../plan/ovs.ts';
import { queueOfFlow } from '../plan/ovs-flows.ts';
import { hostQosOfQueue } from '../qos/ovs.ts';
import type { Capabilities, InterfaceStats, IpInfo } from '../model/report.ts';
import { ipConfigOf } from './ip-config.ts';

/** A device's IP configuration; with `network`, that network's gateway (its own routing table). */
type IpOf = (dev: string, network?: string) => IpInfo;

interface OvsNetwork {
  name: string;
  bridge: OvsBridgeSpec;
  port: OvsPortSpec;
  /** The bridge's NIC or bond port, if any. */
  southbound?: OvsPortSpec;
}

/** netswitch's OVS networks: internal ports of its bridges other than the bridges' own. */
function ovsNetworks(snapshot: Snapshot): OvsNetwork[] {
  const out: OvsNetwork[] = [];
  for (const bridge of Object.values(snapshot.ovs?.layout.bridges ?? {})) {
    const ports = Object.values(bridge.ports);
    const southbound = ports.find((p) => p.interfaces.some((i) => i.type === ''));
    for (const port of ports) {
      if (port.interfaces.length === 1 && port.interfaces[0].type === 'internal') out.push({ name: port.name, bridge, port, ...(southbound ? { southbound } : {}) });
    }
  }
  return out;
}

export function addOvsCapabilities(caps: Capabilities, snapshot: Snapshot, running: Config, ip: IpOf): void {
  // A bridgeless network is an internal port too, reported as VDSM's OVS switch fakes it: its
  // iface and its IP configuration are those of the device a Linux host would put it on (the
  // NIC, the bond, or <southbound>.<vid>), and it has no bridge.
  const bridgeless: { iface: string; kind: 'nics' | 'bondings' | 'vlans'; shared: IpInfo & { mtu: number } }[] = [];
  for (const n of ovsNetworks(snapshot)) {
    const link = snapshot.links[n.name];
    const mtu = link?.mtu ?? n.port.interfaces[0].mtu ?? 0;
    const sb = n.southbound?.name ?? '';
    const vid = n.port.tag;
    const sbDevice = sb && vid !== undefined ? `${sb}.${vid}` : sb;
    const bridged = running.networks[n.name]?.bridged ?? true;
    const stp = stpOf(n.bridge);
    // As VDSM reports an OVS network: southbound is the NIC or bond (the port on the bridge), the
    // VLAN device that a Linux host would have is its port and a vlans entry.
    // Each entry its own IpInfo: YAML would print arrays shared by two entries as an alias.
    const iface = bridged || !sbDevice ? n.name : sbDevice;
    caps.networks[n.name] = { ...ip(n.name, n.name), iface, bridged, southbound: sb, vlanid: vid ?? null, ports: sbDevice ? [sbDevice] : [], stp, mtu, switch: 'ovs' };
    const shaped = hostQosOf(snapshot, n);
    if (shaped) caps.networks[n.name].hostQos = shaped;
    if (bridged) caps.bridges[n.name] = { ...ip(n.name, n.name), ports: sbDevice ? [sbDevice] : [], stp, opts: { multicast_snooping: n.bridge.mcastSnooping ? '1' : '0' }, mtu, switch: 'ovs' };
    if (sb && vid !== undefined) caps.vlans[sbDevice] = { ...ip(''), iface: sb, vlanid: vid, mtu, switch: 'ovs' };
    if (!bridged && sbDevice) bridgeless.push({ iface: sbDevice, kind: vid !== undefined ? 'vlans' : n.southbound?.bond_mode !== undefined ? 'bondings' : 'nics', shared: { ...ip(n.name, n.name), mtu } });
  }
  for (const bridge of Object.values(snapshot.ovs?.layout.bridges ?? {})) {
    for (const port of Object.values(bridge.ports)) {
      if (port.bond_mode === undefined) continue;
      const mtu = Math.max(0, ...port.interfaces.map((i) => snapshot.links[i.name]?.mtu ?? i.mtu ?? 0));
      const status = snapshot.ovs?.ports[port.name]?.bond;
      caps.bondings[port.name] = {
        ...ip(''),
        slaves: port.interfaces.map((i) => i.name).sort(),
        opts: { ...bondOptionsOf(port, running) },
        active_slave: status?.activeSlave ?? '',
        hwaddr: status?.hwaddr ?? '',
        mtu,
        switch: 'ovs',
      };
    }
  }
  for (const b of bridgeless) {
    const entry = caps[b.kind][b.iface];
    if (entry) Object.assign(entry, b.shared);
  }
}

/** The bridge's spanning tree as a request says it (OVS runs RSTP when both columns are on). */
function stpOf(bridge: OvsBridgeSpec): boolean | 'rstp' {
  return bridge.rstp ? 'rstp' : bridge.stp;
}

/**
 * Kernel-style options for an OVS bond: the running config's own options when they still
 * describe what OVS has (the mapping is many-to-one), otherwise OVS's settings natively.
 */
function bondOptionsOf(port: OvsPortSpec, running: Config): Record<string, string> {
  const configured = running.bondings[port.name];
  if (configured && !isRemoval(configured)) {
    const s = ovsBondSettings(configured.options).settings;
    if (JSON.stringify(portAttrs({ ...s, tag: port.tag })) === JSON.stringify(portAttrs(port))) return configured.options;
  }
  const out: Record<string, string> = { 'ovs:bond_mode': port.bond_mode ?? '', 'ovs:lacp': port.lacp ?? 'off' };
  for (const [k, v] of Object.entries(port.other_config ?? {})) out[`ovs:${k}`] = v;
  if (port.bond_updelay) out['ovs:bond_updelay'] = String(port.bond_updelay);
  if (port.bond_downdelay) out['ovs:bond_downdelay'] = String(port.bond_downdelay);
  return out;
}

export function ovsKernelConfig(snapshot: Snapshot, running: Config, ip: IpOf, nameservers: readonly string[]): {
  networks: Record<string, Record<string, unknown>>;
  bondings: Record<string, Record<string, unknown>>;
} {
  const networks: Record<string, Record<string, unknown>> = {};
  const bondings: Record<string, Record<string, unknown>> = {};
  for (const n of ovsNetworks(snapshot)) {
    if (!(n.name in running.networks)) continue;
    const link = snapshot.links[n.name];
    const entry: Record<string, unknown> = { bridged: running.networks[n.name].bridged, switch: 'ovs' };
    if (n.southbound) entry[n.southbound.bond_mode !== undefined ? 'bonding' : 'nic'] = n.southbound.name;
    if (n.port.tag !== undefined) entry.vlan = n.port.tag;
    const stp = stpOf(n.bridge);
    if (stp) entry.stp = stp;
    if (n.bridge.mcastSnooping) entry.multicastSnooping = true;
    const shaped = hostQosOf(snapshot, n);
    if (shaped) entry.hostQos = shaped;
    const mtu = link?.mtu ?? n.port.interfaces[0].mtu;
    if (mtu !== undefined && mtu !== 1500) entry.mtu = mtu;
    Object.assign(entry, ipConfigOf(snapshot, n.name, link, ip(n.name, n.name), nameservers));
    networks[n.name] = entry;
  }
  for (const bridge of Object.values(snapshot.ovs?.layout.bridges ?? {})) {
    for (const port of Object.values(bridge.ports)) {
      if (port.bond_mode === undefined || !(port.name in running.bondings)) continue;
      bondings[port.name] = { nics: port.interfaces.map((i) => i.name).sort(), options: formatBondOptions(bondOptionsOf(port, running)), switch: 'ovs' };
    }
  }
  return { networks, bondings };
}

/**
 * A network's shaping as it really is: a flow of netswitch's sends its internal port's traffic
 * to a queue of the southbound port's QoS row (without the flow — after a restart of
 * ovs-vswitchd, say — the queue shapes nothing, and nothing is reported).
 */
function hostQosOf(snapshot: Snapshot, n: OvsNetwork): HostQos | undefined {
  const queues = n.southbound?.qos?.queues;
  if (!queues) return undefined;
  for (const flow of snapshot.ovs?.layout.flows ?? []) {
    const q = flow.bridge === n.bridge.name ? queueOfFlow(flow) : undefined;
    if (q?.port === n.name && queues[String(q.queue)]) return hostQosOfQueue(queues[String(q.queue)]);
  }
  return undefined;
}

/** Counters of OVS interfaces the kernel does not show (bond members of userspace bridges, bonds as a whole). */
export function ovsStatistics(snapshot: Snapshot, known: ReadonlySet<string>): Record<string, InterfaceStats> {
  const out: Record<string, InterfaceStats> = {};
  const ovs = snapshot.ovs;
  if (!ovs) return out;
  const stat = (names: string[]): InterfaceStats['rx'][] => {
    const sum = (key: string) => String(names.reduce((acc, n) => acc + (ovs.interfaces[n]?.statistics[key] ?? 0), 0));
    return [sum('rx_bytes'), sum('tx_bytes'), sum('rx_dropped'), sum('rx_errors'), sum('tx_dropped'), sum('tx_errors')];
  };
  const add = (name: string, members: string[]) => {
    const [rx, tx, rxDropped, rxErrors, txDropped, txErrors] = stat(members);
    const up = members.some((m) => ovs.interfaces[m]?.linkState === 'up');
    out[name] = { name, rx, tx, rxDropped, rxErrors, txDropped, txErrors, speed: 0, state: up ? 'up' : 'down', sampleTime: snapshot.time / 1000 };
  };
  for (const port of Object.values(ovs.ports)) {
    if (port.interfaces.length > 1 && !known.has(port.name)) add(port.name, port.interfaces);
  }
  for (const iface of Object.values(ovs.interfaces)) if (!known.has(iface.name) && !(iface.name in out)) add(iface.name, [iface.name]);
  return out;
}
