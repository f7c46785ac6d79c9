// Linux bridge options under their three names: sysfs (/sys/class/net/BR/bridge/, what VDSM's
// custom.bridge_opts and its reports use), `ip link ... type bridge` keywords (how we set
// them), and `ip -d -json` info_data keys (how we read them). Values are in the same units
// everywhere (timers in centiseconds, as sysfs has them).

export interface BridgeOption {
  /** `ip link set BR type bridge <ip> <value>` */
  ip: string;
  /** key in `ip -d -json link` info_data */
  json: string;
  /** volatile: changes by itself (not compared, not re-applied) */
  readonly?: boolean;
  /** What is wrong with a value the kernel (or ip) would refuse or silently change. */
  check?: ValueCheck;
  /** A timer in centiseconds, which the kernel keeps in jiffies (see sameBridgeOption). */
  timer?: true;
}

/** A problem with a value, as "expected ..., got ..." or "must be ...", or undefined. */
type ValueCheck = (value: string) => string | undefined;

/**
 * A whole number as both ip and sysfs read it: decimal, or hexadecimal with 0x. Not octal:
 * ip would read "010" as 8 where a comparison (sameBridgeValue) reads 10.
 */
function wholeNumber(value: string): bigint | undefined {
  return /^(0|[1-9]\d*)$/.test(value) || /^0x[0-9a-f]+$/i.test(value) ? BigInt(value) : undefined;
}

const U16 = 2n ** 16n - 1n;
const U32 = 2n ** 32n - 1n;
const U64 = 2n ** 64n - 1n;

function range(min: bigint, max: bigint, unit = ''): ValueCheck {
  return (v) => {
    const n = wholeNumber(v);
    if (n === undefined) return `expected a whole number (decimal, or hexadecimal with 0x), got "${v}"`;
    return n < min || n > max ? `must be from ${min} to ${max}${unit}, got ${v}` : undefined;
  };
}

function oneOf(...values: string[]): ValueCheck {
  return (v) => (values.some((x) => x.toLowerCase() === v.toLowerCase()) ? undefined : `expected ${values.join(' or ')}, got "${v}"`);
}

const flag = oneOf('0', '1');
const cs = (seconds: string) => ` centiseconds (${seconds})`;

/**
 * STP timers in sysfs units (centiseconds), as the kernel bounds them (br_private_stp.h,
 * br_stp.c): hello_time and max_age always, forward_delay only while STP runs.
 */
export const STP_FORWARD_DELAY = { min: 200, max: 3000 } as const;

/** group_addr: 01:80:c2:00:00:0X, but not X = 1 (pause), 2 (slow protocols), 3 (802.1X): br_netlink.c. */
const groupAddr: ValueCheck = (v) => {
  const m = /^01:80:c2:00:00:0([0-9a-f])$/i.exec(v);
  if (!m) return `expected a link-local group address 01:80:c2:00:00:0X, got "${v}"`;
  return ['1', '2', '3'].includes(m[1]) ? `01:80:c2:00:00:0${m[1]} is reserved (pause, slow protocols, 802.1X), got "${v}"` : undefined;
};

/** group_fwd_mask: 16 bits, of which the kernel refuses 0-2 (STP, pause, LACP: BR_GROUPFWD_RESTRICTED). */
const groupFwdMask: ValueCheck = (v) => {
  const bad = range(0n, U16)(v);
  if (bad) return bad;
  return (wholeNumber(v)! & 7n) !== 0n ? `bits 0-2 (STP, pause frames, LACP) may not be forwarded, got ${v}` : undefined;
};

const same = (name: string, check?: ValueCheck): BridgeOption => ({ ip: name, json: name, ...(check ? { check } : {}) });

export const BRIDGE_OPTIONS: Record<string, BridgeOption> = {
  forward_delay: { ...same('forward_delay', range(0n, U32, cs('with STP on, 200-3000: 2-30 s'))), timer: true },
  hello_time: { ...same('hello_time', range(100n, 1000n, cs('1-10 s'))), timer: true },
  max_age: { ...same('max_age', range(600n, 4000n, cs('6-40 s'))), timer: true },
  ageing_time: { ...same('ageing_time', range(0n, U32, ' centiseconds')), timer: true },
  stp_state: same('stp_state', flag),
  priority: same('priority', range(0n, U16)),
  vlan_filtering: same('vlan_filtering', flag),
  vlan_protocol: same('vlan_protocol', oneOf('802.1Q', '802.1ad')),
  default_pvid: { ip: 'vlan_default_pvid', json: 'vlan_default_pvid', check: range(0n, 4094n) },
  vlan_stats_enabled: same('vlan_stats_enabled', flag),
  vlan_stats_per_port: same('vlan_stats_per_port', flag),
  group_fwd_mask: same('group_fwd_mask', groupFwdMask),
  group_addr: { ip: 'group_address', json: 'group_addr', check: groupAddr },
  no_linklocal_learn: same('no_linklocal_learn', flag),
  multicast_snooping: { ip: 'mcast_snooping', json: 'mcast_snooping', check: flag },
  // 0 disabled, 1 learned from queries, 2 always (3, temporary, is for ports only)
  multicast_router: { ip: 'mcast_router', json: 'mcast_router', check: range(0n, 2n) },
  multicast_query_use_ifaddr: { ip: 'mcast_query_use_ifaddr', json: 'mcast_query_use_ifaddr', check: flag },
  multicast_querier: { ip: 'mcast_querier', json: 'mcast_querier', check: flag },
  // Linux 5.0 (the rhashtable of multicast groups) ignores it and always shows 16.
  hash_elasticity: { ip: 'mcast_hash_elasticity', json: 'mcast_hash_elasticity', check: (v) => (wholeNumber(v) === 16n ? undefined : `the kernel ignores it since Linux 5.0 and always keeps 16, got ${v}`) },
  hash_max: { ip: 'mcast_hash_max', json: 'mcast_hash_max', check: range(0n, U32) },
  multicast_last_member_count: { ip: 'mcast_last_member_count', json: 'mcast_last_member_cnt', check: range(0n, U32) },
  multicast_startup_query_count: { ip: 'mcast_startup_query_count', json: 'mcast_startup_query_cnt', check: range(0n, U32) },
  multicast_last_member_interval: { ip: 'mcast_last_member_interval', json: 'mcast_last_member_intvl', check: range(0n, U64, ' centiseconds'), timer: true },
  multicast_membership_interval: { ip: 'mcast_membership_interval', json: 'mcast_membership_intvl', check: range(0n, U64, ' centiseconds'), timer: true },
  multicast_querier_interval: { ip: 'mcast_querier_interval', json: 'mcast_querier_intvl', check: range(0n, U64, ' centiseconds'), timer: true },
  // The kernel moves these two into 1 s - 24 h (BR_MULTICAST_QUERY_INTVL_MIN/MAX): read back, a
  // value outside would differ from the request.
  multicast_query_interval: { ip: 'mcast_query_interval', json: 'mcast_query_intvl', check: range(100n, 8_640_000n, cs('1 s to 24 h')), timer: true },
  multicast_query_response_interval: { ip: 'mcast_query_response_interval', json: 'mcast_query_response_intvl', check: range(0n, U64, ' centiseconds'), timer: true },
  multicast_startup_query_interval: { ip: 'mcast_startup_query_interval', json: 'mcast_startup_query_intvl', check: range(100n, 8_640_000n, cs('1 s to 24 h')), timer: true },
  multicast_stats_enabled: { ip: 'mcast_stats_enabled', json: 'mcast_stats_enabled', check: flag },
  multicast_igmp_version: { ip: 'mcast_igmp_version', json: 'mcast_igmp_version', check: oneOf('2', '3') },
  multicast_mld_version: { ip: 'mcast_mld_version', json: 'mcast_mld_version', check: oneOf('1', '2') },
  nf_call_iptables: same('nf_call_iptables', flag),
  nf_call_ip6tables: same('nf_call_ip6tables', flag),
  nf_call_arptables: same('nf_call_arptables', flag),
  bridge_id: { ip: '', json: 'bridge_id', readonly: true },
  root_id: { ip: '', json: 'root_id', readonly: true },
  root_port: { ip: '', json: 'root_port', readonly: true },
  root_path_cost: { ip: '', json: 'root_path_cost', readonly: true },
  topology_change: { ip: '', json: 'topology_change', readonly: true },
  topology_change_detected: { ip: '', json: 'topology_change_detected', readonly: true },
  hello_timer: { ip: '', json: 'hello_timer', readonly: true },
  tcn_timer: { ip: '', json: 'tcn_timer', readonly: true },
  topology_change_timer: { ip: '', json: 'topology_change_timer', readonly: true },
  gc_timer: { ip: '', json: 'gc_timer', readonly: true },
};

/** Options a request may set (everything not read-only). */
export function isSettableBridgeOption(name: string): boolean {
  const o = BRIDGE_OPTIONS[name];
  return o !== undefined && !o.readonly;
}

/** What is wrong with VALUE for the settable option NAME (undefined: nothing). */
export function bridgeOptionProblem(name: string, value: string): string | undefined {
  return BRIDGE_OPTIONS[name]?.check?.(value);
}

/** A whole-number option value as a number (undefined when it is not one). */
export function bridgeOptionNumber(value: string): number | undefined {
  const n = wholeNumber(value);
  return n === undefined ? undefined : Number(n);
}

/** [sysfs name, info_data key] of every option, and of the settable ones. */
const ALL_KEYS = Object.entries(BRIDGE_OPTIONS).map(([sysfs, o]) => [sysfs, o.json] as const);
const SETTABLE_KEYS = ALL_KEYS.filter(([sysfs]) => isSettableBridgeOption(sysfs));

/**
 * info_data (ip -d -json) -> sysfs-named options, values as strings (as sysfs shows them);
 * `settable`: only those a request may set. A lookup per option, not a walk of info_data's
 * ~60 keys: a plan of 1000 bridges reads them twice.
 */
export function bridgeOptsFromInfo(info: Readonly<Record<string, unknown>>, settable = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [sysfs, json] of settable ? SETTABLE_KEYS : ALL_KEYS) {
    const value = info[json];
    if (value !== undefined) out[sysfs] = String(value);
  }
  return out;
}

/** Normalizes a value for comparison: "0x10" and "16", "1" and "1.0" are the same. */
export function sameBridgeValue(a: string, b: string): boolean {
  if (a === b) return true;
  const na = Number(a);
  const nb = Number(b);
  return (!Number.isNaN(na) && !Number.isNaN(nb) && na === nb) || a.toLowerCase() === b.toLowerCase();
}

/**
 * Whether the host's value `have` of option `key` is the value `want` asks for. A timer goes to
 * the kernel as centiseconds and is kept in jiffies: with HZ=250 (4 ms a jiffy, Debian's) a
 * value comes back rounded down by up to a centisecond (1501 -> 1500, the default 3125 of
 * multicast_startup_query_interval -> 3124), and that is the value asked for.
 */
export function sameBridgeOption(key: string, have: string, want: string): boolean {
  if (sameBridgeValue(have, want)) return true;
  if (!BRIDGE_OPTIONS[key]?.timer) return false;
  const h = wholeNumber(have);
  const w = wholeNumber(want);
  return h !== undefined && w !== undefined && (h === w - 1n || h === w + 1n);
}

/** The kernel's defaults: what an option returns to when a request stops setting it. */
export const BRIDGE_DEFAULTS: Record<string, string> = {
  forward_delay: '1500',
  hello_time: '200',
  max_age: '2000',
  ageing_time: '30000',
  stp_state: '0',
  priority: '32768',
  vlan_filtering: '0',
  vlan_protocol: '802.1Q',
  default_pvid: '1',
  vlan_stats_enabled: '0',
  vlan_stats_per_port: '0',
  group_fwd_mask: '0',
  group_addr: '01:80:c2:00:00:00',
  multicast_snooping: '1',
  multicast_router: '1',
  multicast_query_use_ifaddr: '0',
  multicast_querier: '0',
  hash_elasticity: '16',
  hash_max: '4096',
  multicast_last_member_count: '2',
  multicast_startup_query_count: '2',
  multicast_last_member_interval: '100',
  multicast_membership_interval: '26000',
  multicast_querier_interval: '25500',
  multicast_query_interval: '12500',
  multicast_query_response_interval: '1000',
  multicast_startup_query_interval: '3125',
  multicast_stats_enabled: '0',
  multicast_igmp_version: '2',
  multicast_mld_version: '1',
  nf_call_iptables: '0',
  nf_call_ip6tables: '0',
  nf_call_arptables: '0',
  no_linklocal_learn: '0',
};
