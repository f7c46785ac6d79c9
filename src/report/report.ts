// The report: capabilities (what the host has, in VDSM's shape), statistics, and
// kernel_config — the setup request that would re-create what the host has, derived from the
// host (not copied from the running config), so comparing the two shows drift.
import { existsSync } from 'node:fs';
import { bridgeOptsFromInfo } from '../model/bridge-options.ts';
import { bondOptionsFromInfo, bondOptionsSet, formatBondOptions } from '../model/bond-options.ts';
import { prefixToNetmask } from '../model/ip.ts';
import { type Config, DEFAULT_MTU, type HostQos, southbound } from '../model/config.ts';
import type { Link, Snapshot } from '../model/snapshot.ts';
import { networkIface, vlanDeviceName } from '../plan/layout.ts';
import type { Capabilities, InterfaceStats, IpInfo, Report, Status } from '../model/report.ts';
import { hostQosOfClass, qosClassOf } from '../qos/hfsc.ts';
import { addOvsCapabilities, ovsKernelConfig, ovsStatistics } from './ovs.ts';
import { deviceGateway, mainGateway, networkGateway } from './gateways.ts';
import { ipConfigOf } from './ip-config.ts';
import { compareNames } from '../model/order.ts';

export type { Capabilities, InterfaceStats, IpInfo, Report, Status };

export function buildReport(snapshot: Snapshot, running: Config, setupStatus?: Status): Report {
  const report: Report = {
    capabilities: capabilities(snapshot, running),
    statistics: statistics(snapshot),
    kernel_config: kernelConfig(snapshot, running),
    infoStatus: { Success: { message: 'Done' } },
  };
  if (setupStatus) report.setupStatus = setupStatus;
  return report;
}

export function capabilities(snapshot: Snapshot, running: Config): Capabilities {
  const links = Object.values(snapshot.links);
  const ports = portsByMaster(snapshot);
  // A copy each time: a bridge's ports appear under bridges and under its network, and YAML
  // would print a shared array as an anchor and an alias.
  const portsOf = (name: string) => [...(ports.get(name) ?? [])];
  const ip = (name: string, network?: string) => ipInfo(snapshot, name, network);
  const caps: Capabilities = { nics: {}, bondings: {}, vlans: {}, bridges: {}, networks: {}, nameservers: [...snapshot.nameservers], supportsIPv6: existsSync('/proc/net/if_inet6') };
  for (const l of links) {
    if (l.kind === 'nic') {
      caps.nics[l.name] = { ...ip(l.name), hwaddr: l.mac, mtu: l.mtu, speed: l.speed ?? 0 };
      // A bond slave may carry its bond's MAC: its own is permhwaddr (VDSM's name).
      if (typeof l.slaveInfo.perm_hwaddr === 'string') caps.nics[l.name].permhwaddr = l.slaveInfo.perm_hwaddr;
    }
    else if (l.kind === 'bond') {
      caps.bondings[l.name] = { ...ip(l.name), slaves: portsOf(l.name), opts: bondOptsReported(l), active_slave: String(l.info.active_slave ?? ''), hwaddr: l.mac, mtu: l.mtu, switch: 'legacy' };
    } else if (l.kind === 'vlan') {
      caps.vlans[l.name] = { ...ip(l.name), iface: l.link ?? '', vlanid: l.vlanId ?? 0, mtu: l.mtu, switch: 'legacy' };
    } else if (l.kind === 'bridge') {
      caps.bridges[l.name] = { ...ip(l.name), ports: portsOf(l.name), stp: Number(l.info.stp_state) !== 0, opts: bridgeOptsReported(l.info), mtu: l.mtu, switch: 'legacy' };
    }
  }
  for (const [name, net] of Object.entries(running.networks)) {
    const iface = networkIface(name, net);
    const link = iface ? snapshot.links[iface] : undefined;
    if (!iface || !link || net.switch !== 'legacy') continue;
    caps.networks[name] = {
      ...ip(iface, name),
      iface,
      bridged: net.bridged,
      southbound: southbound(net) !== undefined ? (net.vlan !== undefined ? vlanDeviceName(southbound(net)!, net.vlan) : southbound(net)!) : '',
      vlanid: net.vlan ?? null,
      ports: net.bridged ? portsOf(iface) : [],
      stp: link.kind === 'bridge' && Number(link.info.stp_state) !== 0,
      mtu: link.mtu,
      switch: net.switch,
    };
    const shaped = shapingOf(snapshot, net);
    if (shaped) caps.networks[name].hostQos = shaped;
  }
  addOvsCapabilities(caps, snapshot, running, ip);
  addDeviceQos(caps);
  return caps;
}

/**
 * The shaping a legacy network has: its VLAN's class on the NIC or bond, or (untagged) the
 * default class when the network asked for shaping — otherwise that class is only the share of
 * traffic no network claims. In the request's shape, as VDSM reports it.
 */
function shapingOf(snapshot: Snapshot, net: Config['networks'][string]): HostQos | undefined {
  const dev = southbound(net);
  if (dev === undefined || !snapshot.qos || (net.vlan === undefined && !net.hostQos)) return undefined;
  const cls = qosClassOf(snapshot.qos, dev, net.vlan);
  return cls ? hostQosOfClass(cls) : undefined;
}

/** Each shaped network also under its NIC or bond, as VDSM's `qos` list: { hostQos, vlan } (-1: untagged). */
function addDeviceQos(caps: Capabilities): void {
  for (const net of Object.values(caps.networks)) {
    if (!net.hostQos) continue;
    // A legacy VLAN network's southbound is its VLAN device (<dev>.<vid>), an OVS one's the NIC or bond.
    const vlanDevice = net.vlanid === null ? undefined : `.${net.vlanid}`;
    const dev = vlanDevice && net.southbound.endsWith(vlanDevice) ? net.southbound.slice(0, -vlanDevice.length) : net.southbound;
    const entry = caps.nics[dev] ?? caps.bondings[dev];
    if (!entry) continue;
    (entry.qos ??= []).push({ hostQos: structuredClone(net.hostQos), vlan: net.vlanid ?? -1 });
  }
  for (const entry of [...Object.values(caps.nics), ...Object.values(caps.bondings)]) entry.qos?.sort((a, b) => a.vlan - b.vlan);
}

/**
 * A legacy network's own MTU: its bridge's or VLAN device's. A bridgeless untagged network has
 * no device of its own: its NIC or bond carries the largest MTU of the networks on it (the
 * layout's rule), so when a VLAN sibling's device has that MTU, it is the sibling's, and the
 * network's own is the running config's (no more than the device's). Re-applying then gives
 * the device the same MTU, and removing the sibling lowers it again.
 */
function ownMtu(snapshot: Snapshot, running: Config, name: string, iface: Link): number {
  const net = running.networks[name];
  const sb = southbound(net);
  if (net.bridged || net.vlan !== undefined || sb === undefined) return iface.mtu;
  let siblings = 0;
  for (const [other, n] of Object.entries(running.networks)) {
    if (other === name || n.switch !== 'legacy' || southbound(n) !== sb) continue;
    const dev = n.bridged ? other : n.vlan !== undefined ? vlanDeviceName(sb, n.vlan) : undefined;
    const mtu = dev !== undefined ? snapshot.links[dev]?.mtu : undefined;
    if (mtu !== undefined) siblings = Math.max(siblings, mtu);
  }
  return siblings >= iface.mtu ? Math.min(net.mtu, iface.mtu) : iface.mtu;
}

/**
 * Mode plus every option that differs from the kernel's default (VDSM's habit): primary and
 * arp_ip_target (comma-separated, as a request gives them) when set, options of other modes never.
 */
function bondOptsReported(l: Link): Record<string, string> {
  return bondOptionsSet(bondOptionsFromInfo(l.info));
}

/**
 * Bridge options as sysfs shows them (VDSM reports them so): `ip -d -json` prints the bridge
 * and root ids with an unpadded MAC ("8000.b6:2d:80:11:7:cf"), sysfs as 8000.b62d801107cf.
 */
export function bridgeOptsReported(info: Readonly<Record<string, unknown>>): Record<string, string> {
  const opts = bridgeOptsFromInfo(info);
  for (const key of ['bridge_id', 'root_id']) if (opts[key] !== undefined) opts[key] = sysfsBridgeId(opts[key]);
  // ip shows the running timers in seconds ("290.53"); sysfs, and so VDSM, in centiseconds.
  for (const key of ['hello_timer', 'tcn_timer', 'topology_change_timer', 'gc_timer']) if (opts[key] !== undefined) opts[key] = String(Math.round(Number(opts[key]) * 100));
  return opts;
}

/** "8000.b6:2d:80:11:7:cf" -> "8000.b62d801107cf"; anything else (already sysfs's form) as it is. */
export function sysfsBridgeId(id: string): string {
  const m = /^([0-9a-f]{1,4})\.([0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5})$/i.exec(id);
  if (!m) return id;
  return `${m[1].padStart(4, '0')}.${m[2].split(':').map((b) => b.padStart(2, '0')).join('')}`.toLowerCase();
}

/** Each master's ports, sorted: one pass over the links instead of one per bridge. */
function portsByMaster(snapshot: Snapshot): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of Object.values(snapshot.links)) if (l.master) out.set(l.master, [...(out.get(l.master) ?? []), l.name]);
  for (const list of out.values()) list.sort();
  return out;
}

/**
 * A device's IP configuration as VDSM reports it. With `network` (the network whose device it
 * is), the gateway is the one of that network's own source-routing table.
 */
export function ipInfo(snapshot: Snapshot, name: string, network?: string): IpInfo {
  const link = snapshot.links[name];
  const v4 = link?.addresses.filter((a) => a.family === 4) ?? [];
  const v6 = link?.addresses.filter((a) => a.family === 6 && a.scope !== 'link') ?? [];
  const gw = (family: 4 | 6) => (network === undefined ? deviceGateway(snapshot, name, family) : networkGateway(snapshot, network, name, family));
  const [addr, prefix] = (v4[0]?.cidr ?? '/').split('/');
  const client = (family: 4 | 6) => (snapshot.dhcp ?? []).some((c) => c.dev === name && c.family === family);
  return {
    addr,
    netmask: prefix ? prefixToNetmask(Number(prefix)) : '',
    ipv4addrs: v4.map((a) => a.cidr),
    ipv6addrs: v6.map((a) => a.cidr),
    gateway: gw(4),
    // VDSM's netinfo says '::' for no IPv6 gateway (and '' for no IPv4 one).
    ipv6gateway: gw(6) || '::',
    dhcpv4: client(4) || v4.some((a) => a.dynamic),
    dhcpv6: client(6),
    ipv6autoconf: ipv6Autoconf(snapshot, name),
    ipv4defaultroute: mainGateway(snapshot, name, 4) !== '',
  };
}

/**
 * SLAAC on a device: its sysctls say it (autoconf on, router advertisements taken), read for
 * the devices of the running networks. Any other device's are not read (show stays one pass
 * over the links): a dynamic /64 (SLAAC's; a DHCPv6 lease is a /128) is the evidence then.
 */
function ipv6Autoconf(snapshot: Snapshot, name: string): boolean {
  const conf = snapshot.ipv6conf?.[name];
  if (conf) return conf.autoconf === '1' && conf.accept_ra !== '0';
  return (snapshot.links[name]?.addresses ?? []).some((a) => a.family === 6 && a.dynamic && a.scope !== 'link' && a.cidr.endsWith('/64'));
}

export function statistics(snapshot: Snapshot): Record<string, InterfaceStats> {
  const out: Record<string, InterfaceStats> = ovsStatistics(snapshot, new Set(Object.keys(snapshot.links)));
  for (const l of Object.values(snapshot.links)) {
    if (l.name === 'lo') continue;
    const s = l.stats;
    out[l.name] = {
      name: l.name,
      rx: String(s?.rxBytes ?? 0),
      tx: String(s?.txBytes ?? 0),
      rxDropped: String(s?.rxDropped ?? 0),
      rxErrors: String(s?.rxErrors ?? 0),
      txDropped: String(s?.txDropped ?? 0),
      txErrors: String(s?.txErrors ?? 0),
      speed: l.speed ?? 0,
      state: l.up ? 'up' : 'down',
      sampleTime: snapshot.time / 1000,
    };
  }
  return out;
}

/**
 * For every network and bond netswitch manages, what a request would have to say to re-create
 * what the host has now. A network whose devices are gone is missing here: that is drift.
 */
export function kernelConfig(snapshot: Snapshot, running: Config): Report['kernel_config'] {
  const networks: Record<string, Record<string, unknown>> = {};
  const bondings: Record<string, Record<string, unknown>> = {};
  const links = snapshot.links;
  const ports = portsByMaster(snapshot);
  for (const name of Object.keys(running.bondings).sort()) {
    const bond = links[name];
    if (bond?.kind !== 'bond') continue;
    const entry: Record<string, unknown> = {
      nics: [...(ports.get(name) ?? [])],
      options: formatBondOptions(bondOptsReported(bond)),
      switch: 'legacy',
    };
    // A MAC netswitch set stays (merge keeps hwaddr once given, as VDSM does): say it.
    if (running.bondings[name].hwaddr) entry.hwaddr = bond.mac;
    bondings[name] = entry;
  }
  for (const [name, net] of Object.entries(running.networks).sort(([a], [b]) => compareNames(a, b))) {
    if (net.switch !== 'legacy') continue;
    const entry: Record<string, unknown> = {};
    let iface: Link | undefined;
    let lower: Link | undefined;
    const bridge = links[name];
    if (net.bridged && bridge?.kind === 'bridge') {
      iface = bridge;
      lower = (ports.get(name) ?? []).map((p) => links[p]).find((l) => l.kind === 'nic' || l.kind === 'bond' || l.kind === 'vlan');
      entry.bridged = true;
      entry.stp = Number(bridge.info.stp_state) !== 0;
      if (net.multicastSnooping !== undefined) entry.multicastSnooping = Number(bridge.info.mcast_snooping) !== 0;
      if (net.bridgeOpts) {
        const opts = bridgeOptsFromInfo(bridge.info);
        entry.custom = { bridge_opts: Object.keys(net.bridgeOpts).map((k) => `${k}=${opts[k]}`).join(' ') };
      }
    } else if (!net.bridged) {
      const name0 = networkIface(name, net);
      iface = name0 ? links[name0] : undefined;
      lower = iface;
      entry.bridged = false;
    }
    if (!iface) continue;
    if (lower?.kind === 'vlan') {
      entry.vlan = lower.vlanId;
      lower = lower.link ? links[lower.link] : undefined;
    }
    if (lower?.kind === 'nic') entry.nic = lower.name;
    else if (lower?.kind === 'bond') entry.bonding = lower.name;
    const shaped = net.hostQos && lower && snapshot.qos ? qosClassOf(snapshot.qos, lower.name, entry.vlan as number | undefined) : undefined;
    if (shaped) entry.hostQos = hostQosOfClass(shaped);
    entry.mtu = ownMtu(snapshot, running, name, iface);
    Object.assign(entry, ipConfigOf(snapshot, name, iface, ipInfo(snapshot, iface.name, name), snapshot.nameservers));
    entry.switch = 'legacy';
    if (entry.mtu === DEFAULT_MTU) delete entry.mtu;
    networks[name] = entry;
  }
  const ovs = ovsKernelConfig(snapshot, running, (dev, network) => ipInfo(snapshot, dev, network), snapshot.nameservers);
  return { networks: { ...networks, ...ovs.networks }, bondings: { ...bondings, ...ovs.bondings } };
}
