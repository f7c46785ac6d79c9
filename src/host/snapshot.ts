// Reading the host into one immutable Snapshot: three processes run side by side (one `ip
// -json -batch`: links with details, addresses and counters, the routes of every table and
// family that configuration makes — every route for the report —, IPv4 rules; `ip -6 rule`;
// `tc qdisc`), plus the nameservers of the resolv.conf netswitch manages.
import { OVS_DATAPATH_DEVICES, type OvsSnapshot } from '../model/ovs.ts';
import { closeSync, existsSync, openSync, readSync, readdirSync } from 'node:fs';
import { type Address, CONFIGURED_ROUTE_PROTOCOLS, type DhcpClient, type Ipv6Conf, type Link, type LinkKind, type Route, type Rule, type Snapshot, type Unread } from '../model/snapshot.ts';
import { readNameservers, resolvConfPath } from '../ip/resolv.ts';
import type { QosLayout } from '../qos/hfsc.ts';
import { foreignRootQdiscs, qosDevicesOf, qosReadBatch, readQosAll } from '../qos/tc-read.ts';
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import { describe, run, runJson } from '../sys/run.ts';

interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  dynamic?: boolean;
  noprefixroute?: boolean;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  link_type: string;
  address?: string;
  master?: string;
  link?: string;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
  addr_info?: IpAddrInfo[];
  stats64?: {
    rx: { bytes: number; packets: number; errors: number; dropped: number };
    tx: { bytes: number; packets: number; errors: number; dropped: number };
  };
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  type?: string;
  /** IPv6 only: the router preference (RFC 4191). */
  pref?: string;
}

interface IpRule {
  priority: number;
  src?: string;
  srclen?: number;
  table: string;
  iif?: string;
}

/** Device types that stand for NICs: hardware, and the virtual NICs of test hosts. */
const NIC_TYPES = new Set(['', 'veth', 'dummy']);

export interface ReadOptions {
  /** Include counters (for statistics); the rest of netswitch does not need them. */
  stats?: boolean;
  resolvConf?: string;
  /** Reads Open vSwitch (the engine passes the OVS switch's reader when OVSDB is reachable). */
  readOvs?: () => Promise<OvsSnapshot | undefined>;
  /** Reads netswitch's running DHCP clients. */
  readDhcp?: () => Promise<DhcpClient[]>;
  /** Devices whose IPv6 autoconfiguration sysctls to read (a promise: known once the read has started). */
  ipv6confDevs?: Iterable<string> | Promise<Iterable<string>>;
  /**
   * Parts of the host the caller knows to be as they were in `base`, taken from it instead of
   * read again: an apply verifying its steps re-reads what they touched (see Unread).
   */
  known?: Unread & { base: Snapshot };
  /**
   * Read the host once this settles (a verification, once the steps have run): the `ip`
   * process starts now and gets its commands then, so its start-up costs nothing later.
   */
  after?: Promise<unknown>;
}


export async function readSnapshot(options: ReadOptions = {}): Promise<Snapshot> {
  const { known, after } = options;
  const stats = options.stats === true;
  let kernel = known || after ? undefined : takeEarlyRead(stats);
  if (after) {
    // The ip process starts now and reads once `after` settles; everything else starts then.
    const ip = readIp(stats, after);
    ip.catch(() => {}); // awaited below, unless `after` fails first
    await after;
    kernel = startKernelRead(stats, known, ip);
  }
  kernel ??= startKernelRead(stats, known);
  const time = Date.now();
  const [{ links, routes, rules4 }, rules6, tc, nameservers, ovs, dhcp, ipv6conf] = await Promise.all([
    kernel.ip,
    known?.rules6 ? known.base.rules.filter((r) => r.family === 6) : kernel.rules6.then((rules) => rules.map((r) => toRule(r, 6))),
    known?.shaping ? { qos: known.base.qos, foreign: known.base.foreignQdiscs ?? {} } : kernel.tc,
    readNameservers(options.resolvConf ?? resolvConfPath()),
    options.readOvs?.(),
    options.readDhcp?.(),
    Promise.resolve(options.ipv6confDevs ?? []).then(readIpv6Conf),
  ]);
  const internal = new Set(ovs ? Object.values(ovs.interfaces).filter((i) => i.type === 'internal').map((i) => i.name) : []);
  const snapshot: Snapshot = {
    time,
    links: Object.fromEntries(links.map((l) => [l.ifname, toLink(l, internal)])),
    routes: routes.map(toRoute),
    rules: [...rules4.map((r) => toRule(r, 4)), ...rules6],
    nameservers,
    ipv6: existsSync('/proc/sys/net/ipv6'),
  };
  if (ovs) snapshot.ovs = ovs;
  if (dhcp) snapshot.dhcp = dhcp;
  if (Object.keys(ipv6conf).length) snapshot.ipv6conf = ipv6conf;
  if (tc.qos) snapshot.qos = tc.qos;
  if (Object.keys(tc.foreign).length) snapshot.foreignQdiscs = tc.foreign;
  return deepFreeze(snapshot);
}

/** The kernel's half of a host read: its processes, all started at once. */
interface KernelRead {
  stats: boolean;
  ip: Promise<{ links: IpLink[]; routes: IpRoute[]; rules4: IpRule[] }>;
  rules6: Promise<IpRule[]>;
  tc: Promise<{ qos?: QosLayout; foreign: Record<string, string> }>;
}

const NOT_READ = Promise.resolve({ foreign: {} });

function startKernelRead(stats: boolean, skip: Unread = {}, ip = readIp(stats)): KernelRead {
  return { stats, ip, rules6: skip.rules6 ? Promise.resolve([]) : readRules6(), tc: skip.shaping ? NOT_READ : readShaping() };
}

/**
 * Links, addresses, routes and IPv4 rules from one `ip -batch`, one JSON line per command (a
 * process costs ~4 ms of the main thread to start, and an apply reads the host twice). Routes
 * are listed without a family, so both come (see routeFamily); an apply's read lists those of
 * the configured protocols only, one command each, which the kernel filters (1000 bridges have
 * ~9000 kernel and local routes: ~25 ms of ip's 57), the report's every route; `rule show`
 * comes last, as it makes IPv4 the batch's family.
 */
async function readIp(stats: boolean, after?: Promise<unknown>): Promise<{ links: IpLink[]; routes: IpRoute[]; rules4: IpRule[] }> {
  const argv = ['ip', '-d', ...(stats ? ['-s'] : []), '-json', '-batch', '-'];
  const routes = stats ? ['route show table all'] : CONFIGURED_ROUTE_PROTOCOLS.map((p) => `route show table all proto ${p}`);
  const commands = `${['addr show', ...routes, 'rule show'].join('\n')}\n`;
  const { stdout } = await run(argv, { input: after ? after.then(() => commands) : commands, bulk: true });
  const lines = stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== routes.length + 2) {
    throw new NetswitchError(ErrorCode.Command, `${describe(argv)}: expected ${routes.length + 2} JSON lines (links, routes, rules), got ${lines.length}`, { context: { argv } });
  }
  return {
    links: JSON.parse(lines[0]) as IpLink[],
    routes: lines.slice(1, -1).flatMap((line) => JSON.parse(line) as IpRoute[]),
    rules4: JSON.parse(lines[lines.length - 1]) as IpRule[],
  };
}

/** IPv6 rules; a kernel without IPv6 (no module, ipv6.disable=1) simply has none. */
async function readRules6(): Promise<IpRule[]> {
  try {
    return await runJson<IpRule[]>(['ip', '-6', '-json', 'rule', 'show']);
  } catch (e) {
    if (/Address family not supported/.test((e as Error).message)) return [];
    throw e;
  }
}

let early: (KernelRead & { took: Promise<number> }) | undefined;
let taken: Promise<number> | undefined;

/**
 * Starts the kernel half of a host read now, while the rest of netswitch loads (~20 ms of a
 * `show` of 2000 interfaces): for a command that only reads the host (show, stats, plan), or
 * one that changes it and already holds the apply lock (apply, restore: cli/early.ts). The
 * first readSnapshot asking for the same counters takes it; a failure is reported there.
 */
export function readKernelEarly(stats: boolean): void {
  const start = performance.now();
  const read = startKernelRead(stats);
  const parts = [read.ip, read.rules6, read.tc];
  for (const p of parts) p.catch(() => {}); // awaited in readSnapshot
  early = { ...read, took: Promise.allSettled(parts).then(() => Math.round((performance.now() - start) * 10) / 10) };
}

/** An early read no longer says what the host is (something changed it): read anew. */
export function discardEarlyRead(): void {
  early = undefined;
}

/** The wall time of the early read that a readSnapshot used (ms), asked once; undefined if none was. */
export function earlyReadTime(): Promise<number> | undefined {
  const t = taken;
  taken = undefined;
  return t;
}

function takeEarlyRead(stats: boolean): KernelRead | undefined {
  const read = early?.stats === stats ? early : undefined;
  early = undefined;
  taken = read?.took;
  return read;
}

/**
 * Traffic shaping: one `tc qdisc show` for all devices; classes and filters (one `tc -batch`)
 * only where netswitch's HFSC qdisc is.
 */
async function readShaping(): Promise<{ qos?: QosLayout; foreign: Record<string, string> }> {
  const qdiscs = (await run(['tc', 'qdisc', 'show'], { check: false })).stdout;
  const foreign = foreignRootQdiscs(qdiscs);
  const devs = qosDevicesOf(qdiscs);
  if (devs.length === 0) return { foreign };
  const batch = qosReadBatch(devs)
    .map((line) => line.join(' '))
    .join('\n');
  const out = await run(['tc', '-batch', '-'], { input: `${batch}\n`, check: false });
  return { qos: readQosAll(qdiscs, out.stdout), foreign };
}

/**
 * Per device, from /proc/sys (a device without IPv6, or gone, has none). Synchronous on
 * purpose: a /proc read never blocks, and thousands of them through the thread pool cost more
 * than the reads themselves; one buffer serves them all (readFileSync would stat each first).
 */
async function readIpv6Conf(devs: Iterable<string>): Promise<Record<string, Ipv6Conf>> {
  const out: Record<string, Ipv6Conf> = {};
  const wanted = new Set(devs);
  if (wanted.size === 0) return out;
  const buf = Buffer.allocUnsafe(64);
  const read = (path: string): string => {
    const fd = openSync(path, 'r');
    try {
      return buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0)).trim();
    } finally {
      closeSync(fd);
    }
  };
  // Devices that do not exist (yet) are most of them when a plan creates thousands: one
  // directory listing instead of a failed open (and a thrown error) each.
  let present: Set<string>;
  try {
    present = new Set(readdirSync(IPV6_CONF));
  } catch {
    return out; // no IPv6 in this kernel
  }
  for (const dev of wanted) {
    if (!present.has(dev)) continue;
    try {
      out[dev] = { accept_ra: read(ipv6ConfPath(dev, 'accept_ra')), autoconf: read(ipv6ConfPath(dev, 'autoconf')) };
    } catch {
      // no IPv6 on it
    }
  }
  return out;
}

const IPV6_CONF = '/proc/sys/net/ipv6/conf';

export function ipv6ConfPath(dev: string, key: string): string {
  return `${IPV6_CONF}/${dev}/${key}`;
}

function toLink(l: IpLink, ovsInternal: ReadonlySet<string>): Link {
  const type = l.linkinfo?.info_kind ?? '';
  const info = l.linkinfo?.info_data ?? {};
  const link: Link = {
    name: l.ifname,
    ifindex: l.ifindex,
    kind: ovsInternal.has(l.ifname) ? 'ovs' : kindOf(type, l),
    type,
    mtu: l.mtu,
    mac: l.address ?? '',
    up: l.flags.includes('UP'),
    operstate: l.operstate,
    info,
    slaveInfo: l.linkinfo?.info_slave_data ?? {},
    addresses: (l.addr_info ?? []).map(toAddress),
  };
  // A NIC in an OVS bridge (kernel datapath) has ovs-system as its master: that is OVS's.
  if (l.master !== undefined && !OVS_DATAPATH_DEVICES.has(l.master)) link.master = l.master;
  if (type === 'vlan') {
    if (l.link !== undefined) link.link = l.link;
    link.vlanId = Number(info.id);
  }
  if (l.stats64) {
    const { rx, tx } = l.stats64;
    link.stats = {
      rxBytes: rx.bytes,
      txBytes: tx.bytes,
      rxPackets: rx.packets,
      txPackets: tx.packets,
      rxErrors: rx.errors,
      txErrors: tx.errors,
      rxDropped: rx.dropped,
      txDropped: tx.dropped,
    };
  }
  return link;
}

function kindOf(type: string, l: IpLink): LinkKind {
  if (type === 'bridge' || type === 'bond' || type === 'vlan') return type;
  if (NIC_TYPES.has(type) && l.link_type === 'ether') return 'nic';
  return 'other';
}

function toAddress(a: IpAddrInfo): Address {
  return {
    family: a.family === 'inet' ? 4 : 6,
    cidr: `${a.local}/${a.prefixlen}`,
    scope: a.scope,
    dynamic: a.dynamic === true || (a.family === 'inet6' && a.scope === 'link'),
  };
}

function toRoute(r: IpRoute): Route {
  const route: Route = { family: routeFamily(r), dst: r.dst, table: r.table ?? 'main' };
  if (r.gateway !== undefined) route.gateway = r.gateway;
  if (r.dev !== undefined) route.dev = r.dev;
  // `ip -d` names the defaults (protocol boot, type unicast, scope global) plain `ip` leaves out.
  if (r.protocol !== undefined && r.protocol !== 'boot') route.protocol = r.protocol;
  if (r.scope !== undefined && r.scope !== 'global') route.scope = r.scope;
  if (r.metric !== undefined) route.metric = r.metric;
  if (r.prefsrc !== undefined) route.prefsrc = r.prefsrc;
  if (r.type !== undefined && r.type !== 'unicast') route.type = r.type;
  return route;
}

/**
 * A route listed without a family is IPv6 when an address in it is, or when it has a
 * preference: the kernel gives every IPv6 route one (RTA_PREF) and IPv4 routes none. That
 * covers the routes with neither (`unreachable default`).
 */
export function routeFamily(r: Pick<IpRoute, 'dst' | 'gateway' | 'pref'>): 4 | 6 {
  return r.dst.includes(':') || r.gateway?.includes(':') || r.pref !== undefined ? 6 : 4;
}

function toRule(r: IpRule, family: 4 | 6): Rule {
  const rule: Rule = { family, priority: r.priority, table: r.table };
  if (r.src !== undefined) rule.src = r.srclen !== undefined ? `${r.src}/${r.srclen}` : r.src;
  if (r.iif !== undefined) rule.iif = r.iif;
  return rule;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const k in value) deepFreeze(value[k]);
  }
  return value;
}
