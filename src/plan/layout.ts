// A Layout is the Linux devices, addresses and routes a config needs — or, read from a
// snapshot, the ones the host has. The planner diffs two layouts; the same diff with the
// roles swapped is how verification works (a verified apply re-plans to nothing).
import { DEFAULT_MTU, type Config, type Network, southbound } from '../model/config.ts';
import { BRIDGE_DEFAULTS, bridgeOptsFromInfo } from '../model/bridge-options.ts';
import { bondOptionsFromInfo, bondOptionsSet, ipBondOptions } from '../model/bond-options.ts';
import type { Address, DhcpClient, Ipv6Conf, Link, Snapshot } from '../model/snapshot.ts';
import { ipv4Subnet, ipv6Subnet } from '../model/ip.ts';

/** 'ovs': an OVS internal port — made by the OVS switch; here only its admin state and IP. */
export type LinkSpecKind = 'nic' | 'bridge' | 'bond' | 'vlan' | 'ovs';

export interface LinkSpec {
  name: string;
  kind: LinkSpecKind;
  mtu: number;
  /** undefined: leave as it is (a NIC freed by the change) */
  up?: boolean;
  master?: string;
  /** Static addresses, "192.0.2.10/24", sorted. */
  addresses: string[];
  /** Bridges: sysfs-named options this layout cares about. */
  bridgeOpts?: Record<string, string>;
  /**
   * Bonds: kernel options in ip's names (ipBondOptions), mode always present. From a config, the
   * options the request sets; from the host, those away from their defaults. Any other is at the
   * kernel's default (bondOptionChanges compares every option of the mode).
   */
  bondOptions?: Record<string, string>;
  /** Bonds read from the host: the slave that carries the traffic now (active-backup, tlb, alb). */
  activeSlave?: string;
  vlan?: { link: string; id: number };
  /** Set at creation: a bond's hwaddr, or the MAC a deleted device had (so undo restores it). */
  mac?: string;
  /** A network's device: whether it takes IPv6 router advertisements and autoconfigures. */
  ipv6conf?: Ipv6Conf;
  /**
   * Read from the host only: the addresses IPv6 autoconfiguration made (dynamic, global, and
   * not a DHCPv6 lease's /128). The kernel keeps them until they expire when autoconf goes off.
   */
  autoconfAddresses?: string[];
}

export interface RouteSpec {
  family: 4 | 6;
  /** "default" or a prefix */
  dst: string;
  /** absent: a route to an on-link prefix */
  gateway?: string;
  dev: string;
  table: string;
}

/** A policy-routing rule: traffic from `src` looks up `table`. */
export interface RuleSpec {
  family: 4 | 6;
  priority: number;
  src: string;
  table: string;
}

export interface Layout {
  links: Record<string, LinkSpec>;
  routes: RouteSpec[];
  rules: RuleSpec[];
  /** DHCP clients (their addresses, routes and rules are theirs, not the layout's). */
  dhcp?: DhcpClient[];
  /** The host's nameservers; undefined: not managed (left as they are). */
  nameservers?: string[];
  /**
   * Read from the host only: static routes through these devices that are not netswitch's
   * (an administrator's). Left alone, except that when their device loses an address the
   * kernel would drop them, so the plan removes them explicitly (the undo restores them).
   */
  foreignRoutes?: RouteSpec[];
}

/** IPv6's minimum link MTU (RFC 8200): below it the kernel removes IPv6 from the device. */
export const IPV6_MIN_MTU = 1280;

/** The priority of netswitch's source-routing rules: before the main table (32766). */
export const SOURCE_RULE_PRIORITY = 32000;

/**
 * Each network with a gateway has a routing table of its own (source routing, so replies
 * leave by the network a request came in on), numbered from a hash of its name: stable
 * across restarts and hosts, clear of the reserved tables (253-255) and of small numbers
 * administrators use by hand.
 */
export function sourceRouteTable(network: string): string {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(network)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return String(0x10000 + (h % 0x7fff0000));
}

/** A table in netswitch's range (another network's, or one left by a removed network). */
function isSourceRouteTable(table: string): boolean {
  const n = Number(table);
  return Number.isInteger(n) && n >= 0x10000 && n < 0x10000 + 0x7fff0000;
}

/** Nesting level: lower devices before upper ones when creating or raising MTUs. */
export const LEVEL: Record<LinkSpecKind, number> = { nic: 0, bond: 1, vlan: 2, bridge: 3, ovs: 3 };

export function vlanDeviceName(dev: string, vlan: number): string {
  return `${dev}.${vlan}`;
}

/** The device a network's IP configuration sits on. */
export function networkIface(name: string, net: Network): string | undefined {
  // On OVS every network is an internal port named after it, bridged or not.
  if (net.bridged || net.switch === 'ovs') return name;
  const sb = southbound(net);
  if (sb === undefined) return undefined;
  return net.vlan !== undefined ? vlanDeviceName(sb, net.vlan) : sb;
}

/**
 * The Linux layout of the config's legacy-switch networks and bonds. `previous` (the running
 * config) tells which NICs are freed by the change, and which bridge options were set before
 * and are now dropped (they go back to the kernel's defaults).
 */
export function layoutOf(config: Config, previous: Config): Layout {
  const links: Record<string, LinkSpec> = {};
  const routes: RouteSpec[] = [];
  const rules: RuleSpec[] = [];
  let nameservers: string[] | undefined;
  const dhcp: DhcpClient[] = [];
  const ensure = (name: string, kind: LinkSpecKind): LinkSpec =>
    (links[name] ??= { name, kind, mtu: DEFAULT_MTU, up: true, addresses: [] });

  for (const [name, bond] of Object.entries(config.bondings)) {
    if (bond.switch !== 'legacy') continue;
    const spec = ensure(name, 'bond');
    // Options the previous config set and this one does not are back at the kernel's default:
    // the planner compares every option of the mode, so nothing needs saying here.
    spec.bondOptions = ipBondOptions(bond.options);
    if (bond.hwaddr) spec.mac = bond.hwaddr;
    for (const nic of bond.nics) ensure(nic, 'nic').master = name;
  }

  // A NIC or bond carries the largest MTU of its networks.
  const southboundMtu = new Map<string, number>();
  for (const net of Object.values(config.networks)) {
    const sb = southbound(net);
    if (sb !== undefined) southboundMtu.set(sb, Math.max(southboundMtu.get(sb) ?? 0, net.mtu));
  }

  for (const [name, net] of Object.entries(config.networks)) {
    if (net.switch !== 'legacy') continue;
    const sb = southbound(net);
    let lower = sb;
    if (sb !== undefined) {
      ensure(sb, net.bonding !== undefined ? 'bond' : 'nic').mtu = southboundMtu.get(sb) ?? DEFAULT_MTU;
      if (net.vlan !== undefined) {
        lower = vlanDeviceName(sb, net.vlan);
        const v = ensure(lower, 'vlan');
        v.vlan = { link: sb, id: net.vlan };
        v.mtu = net.mtu;
      }
    }
    let iface = lower;
    if (net.bridged) {
      const br = ensure(name, 'bridge');
      br.mtu = net.mtu;
      const wanted: Record<string, string> = { ...(net.bridgeOpts ?? {}), stp_state: net.stp ? '1' : '0' };
      if (net.multicastSnooping !== undefined) wanted.multicast_snooping = net.multicastSnooping ? '1' : '0';
      const prev = previous.networks[name];
      const prevKeys = prev?.bridged ? { ...(prev.bridgeOpts ?? {}), ...(prev.multicastSnooping !== undefined ? { multicast_snooping: '' } : {}) } : undefined;
      br.bridgeOpts = { ...droppedDefaults(prevKeys, wanted, BRIDGE_DEFAULTS), ...wanted };
      if (lower !== undefined) links[lower].master = name;
      iface = name;
    }
    if (iface === undefined) continue;
    addIp(links[iface], net);
    addRoutes(routes, rules, name, iface, net);
    addDhcp(dhcp, name, iface, net);
    if (net.defaultRoute && net.nameservers && net.bootproto !== 'dhcp') nameservers = net.nameservers;
  }

  // Open vSwitch networks: the OVS switch makes the internal ports and holds the NICs; the
  // Linux side brings them up and puts the IP configuration on the internal ports.
  for (const [name, bond] of Object.entries(config.bondings)) {
    if (bond.switch !== 'ovs') continue;
    for (const nic of bond.nics) ensure(nic, 'nic').mtu = southboundMtu.get(name) ?? DEFAULT_MTU;
  }
  for (const [name, net] of Object.entries(config.networks)) {
    if (net.switch !== 'ovs') continue;
    if (net.nic !== undefined) ensure(net.nic, 'nic').mtu = southboundMtu.get(net.nic) ?? DEFAULT_MTU;
    const port = ensure(name, 'ovs');
    port.mtu = net.mtu;
    addIp(port, net);
    addRoutes(routes, rules, name, name, net);
    addDhcp(dhcp, name, name, net);
    if (net.defaultRoute && net.nameservers && net.bootproto !== 'dhcp') nameservers = net.nameservers;
  }

  // Bond slaves follow their bond's MTU.
  for (const spec of Object.values(links)) {
    if (spec.master && links[spec.master]?.kind === 'bond') spec.mtu = links[spec.master].mtu;
  }
  for (const spec of Object.values(links)) spec.addresses.sort();

  // NICs the previous config used and this one does not: back to a plain NIC.
  for (const name of nicsOf(previous)) {
    links[name] ??= { name, kind: 'nic', mtu: DEFAULT_MTU, addresses: [], ipv6conf: { accept_ra: '1', autoconf: '1' } };
  }
  // The kernel takes IPv6 off a device whose MTU is below IPv6's minimum: nothing to set there.
  for (const spec of Object.values(links)) if (spec.mtu < IPV6_MIN_MTU) delete spec.ipv6conf;
  return { links, routes, rules, dhcp, ...(nameservers ? { nameservers } : {}) };
}

/** A DHCP client per address family the network asks for. */
function addDhcp(dhcp: DhcpClient[], name: string, iface: string, net: Network): void {
  const client = (family: 4 | 6): DhcpClient => ({ dev: iface, family, defaultRoute: net.defaultRoute, table: sourceRouteTable(name), ...(net.blockingdhcp ? {} : { wait: false }) });
  if (net.bootproto === 'dhcp') dhcp.push(client(4));
  if (net.dhcpv6) dhcp.push(client(6));
}

/** The IP layer is the same on both switches: addresses on the network's device... */
function addIp(spec: LinkSpec, net: Network): void {
  // Router advertisements are needed for SLAAC and tell a DHCPv6 client to ask; '2' takes them
  // even on a host that forwards.
  spec.ipv6conf = { accept_ra: net.ipv6autoconf || net.dhcpv6 ? '2' : '0', autoconf: net.ipv6autoconf ? '1' : '0' };
  if (net.ipaddr !== undefined && net.prefix !== undefined) spec.addresses.push(`${net.ipaddr}/${net.prefix}`);
  if (net.ipv6addr !== undefined) spec.addresses.push(net.ipv6addr);
}

/** ...the default route through it, and its own table and rule when it has a gateway. */
function addRoutes(routes: RouteSpec[], rules: RuleSpec[], name: string, iface: string, net: Network): void {
  if (net.defaultRoute && net.gateway && net.bootproto !== 'dhcp') routes.push({ family: 4, dst: 'default', gateway: net.gateway, dev: iface, table: 'main' });
  if (net.defaultRoute && net.ipv6gateway) routes.push({ family: 6, dst: 'default', gateway: net.ipv6gateway, dev: iface, table: 'main' });
  const table = sourceRouteTable(name);
  const source = (family: 4 | 6, gateway: string, subnet: string) => {
    routes.push({ family, dst: subnet, dev: iface, table }, { family, dst: 'default', gateway, dev: iface, table });
    rules.push({ family, priority: SOURCE_RULE_PRIORITY, src: subnet, table });
  };
  // A DHCP network's routes come with its lease (the client's script sets them).
  if (net.gateway && net.ipaddr !== undefined && net.prefix !== undefined && net.bootproto !== 'dhcp') source(4, net.gateway, ipv4Subnet(net.ipaddr, net.prefix));
  if (net.ipv6gateway && net.ipv6addr !== undefined) source(6, net.ipv6gateway, ipv6Subnet(net.ipv6addr));
}

function droppedDefaults(
  before: Record<string, string> | undefined,
  now: Record<string, string>,
  defaults: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(before ?? {})) {
    if (!(key in now) && key in defaults) out[key] = defaults[key];
  }
  return out;
}

/** NICs a config's networks and bonds use. */
export function nicsOf(config: Config): Set<string> {
  const out = new Set<string>();
  for (const bond of Object.values(config.bondings)) bond.nics.forEach((n) => out.add(n));
  for (const net of Object.values(config.networks)) if (net.nic) out.add(net.nic);
  return out;
}

/**
 * The layout the host has for the given device names (those that exist). Routes: the main
 * table's default routes through those devices, and through any device for the families in
 * `takeDefault` (a config that sets the default route takes it over from whoever had it).
 */
export function layoutFromSnapshot(
  snapshot: Snapshot,
  names: Iterable<string>,
  takeDefault: ReadonlySet<4 | 6> = new Set(),
  tables: ReadonlySet<string> = new Set(),
  /** Devices with a DHCP client (now or wanted): their routes are the client's business. */
  dhcpDevs: ReadonlySet<string> = new Set(),
): Layout {
  const links: Record<string, LinkSpec> = {};
  const masters = portMasters(snapshot);
  for (const name of names) {
    const link = snapshot.links[name];
    if (link) links[name] = specFromLink(link);
    // A bridge without ports is re-created (the undo of its deletion) without its MAC: the
    // kernel gives an empty bridge made with an address no carrier (no IPv6 link-local
    // address, its routes linkdown), and its random MAC is known to no neighbour (it has none).
    if (link?.kind === 'bridge' && !masters.has(name)) delete links[name].mac;
    const conf = snapshot.ipv6conf?.[name];
    if (link && conf) links[name].ipv6conf = conf;
  }
  const routes: RouteSpec[] = [];
  const foreignRoutes: RouteSpec[] = [];
  for (const r of snapshot.routes) {
    // Routes the kernel derives, or learns from router advertisements, are not configuration.
    if (!r.dev || (r.type ?? 'unicast') !== 'unicast' || dhcpDevs.has(r.dev) || (r.protocol !== undefined && !['boot', 'static'].includes(r.protocol))) continue;
    const spec: RouteSpec = { family: r.family, dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), dev: r.dev, table: r.table };
    const inOurTable = tables.has(r.table);
    const defaultRoute = r.dst === 'default' && r.gateway && r.table === 'main' && (r.dev in links || takeDefault.has(r.family));
    if (inOurTable || defaultRoute) routes.push(spec);
    else if (r.dev in links && !isSourceRouteTable(r.table)) foreignRoutes.push(spec);
  }
  const rules: RuleSpec[] = snapshot.rules
    .filter((r) => r.priority === SOURCE_RULE_PRIORITY && r.src !== undefined)
    .map((r) => ({ family: r.family, priority: r.priority, src: r.src as string, table: r.table }));
  return { links, routes, rules, dhcp: [...(snapshot.dhcp ?? [])], nameservers: [...snapshot.nameservers], foreignRoutes };
}

/** The devices that are some link's master (bridges and bonds with ports). */
export function portMasters(snapshot: Snapshot): Set<string> {
  const masters = new Set<string>();
  for (const l of Object.values(snapshot.links)) if (l.master !== undefined) masters.add(l.master);
  return masters;
}

export function specFromLink(link: Link): LinkSpec {
  const kind: LinkSpecKind = link.kind === 'other' ? 'nic' : link.kind;
  const addresses: string[] = [];
  let slaac: string[] | undefined;
  for (const a of link.addresses) {
    if (!a.dynamic) addresses.push(a.cidr);
    else if (isAutoconfAddress(a)) (slaac ??= []).push(a.cidr);
  }
  const spec: LinkSpec = { name: link.name, kind, mtu: link.mtu, up: link.up, addresses: addresses.sort(), mac: link.mac };
  if (link.master !== undefined) spec.master = link.master;
  if (slaac) spec.autoconfAddresses = slaac.sort();
  if (kind === 'bridge') spec.bridgeOpts = bridgeOptsFromInfo(link.info, true);
  if (kind === 'bond') {
    // Mode and what differs from the defaults: a bond re-created from this spec (the undo of
    // its deletion) is given only those, as one created from a config is.
    spec.bondOptions = ipBondOptions(bondOptionsSet(bondOptionsFromInfo(link.info)));
    if (typeof link.info.active_slave === 'string' && link.info.active_slave !== '') spec.activeSlave = link.info.active_slave;
  }
  if (kind === 'vlan' && link.link !== undefined && link.vlanId !== undefined) spec.vlan = { link: link.link, id: link.vlanId };
  return spec;
}

/** SLAAC's (or a privacy address): dynamic and global; a DHCPv6 lease's is a /128 (dhclient-script). */
export function isAutoconfAddress(a: Address): boolean {
  return a.family === 6 && a.dynamic && a.scope === 'global' && !a.cidr.endsWith('/128');
}
