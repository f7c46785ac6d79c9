// Kernel bonding options (Documentation/networking/bonding.rst): parsing VDSM's option string
// "mode=802.3ad miimon=100", normalizing the mode to its name, and checking each option's
// name and value so a typo is a validation error instead of a kernel error mid-apply.
import { compareNames } from './order.ts';

export const BOND_MODES = [
  'balance-rr',
  'active-backup',
  'balance-xor',
  'broadcast',
  '802.3ad',
  'balance-tlb',
  'balance-alb',
] as const;
export type BondMode = (typeof BOND_MODES)[number];
export const DEFAULT_BOND_MODE: BondMode = 'balance-rr';

type Check = (value: string) => string | undefined;

const uint: Check = (v) => (/^\d+$/.test(v) ? undefined : 'expected a whole number');
const oneOf =
  (...names: string[]): Check =>
  (v) =>
    names.includes(v) ? undefined : `expected one of ${names.join(', ')}`;
/** Options given by name or by their index (lacp_rate=1 is lacp_rate=fast). */
const named = (...names: string[]): Check => {
  const check = oneOf(...names, ...names.map((_, i) => String(i)));
  return (v) => (check(v) ? `expected one of ${names.join(', ')} (or 0-${names.length - 1})` : undefined);
};
/** The most ARP targets a bond takes (BOND_MAX_ARP_TARGETS). */
const MAX_ARP_TARGETS = 16;
/**
 * ARP targets: unicast IPv4 addresses, by commas. The kernel refuses 0.0.0.0/8 and the
 * broadcast address (bond_is_ip_target_ok) and a target given twice; ip itself stops at a
 * malformed one with no line number, so these never reach it.
 */
const ipv4List: Check = (v) => {
  const targets = v.split(',');
  for (const t of targets) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
    if (!m || m.slice(1).some((o) => Number(o) > 255 || (o.length > 1 && o.startsWith('0')))) return `expected IPv4 addresses separated by commas, and "${t}" is not one`;
    if (m[1] === '0' || t === '255.255.255.255') return `${t} cannot be an ARP target (not a unicast address)`;
  }
  const twice = targets.find((t, i) => targets.indexOf(t) !== i);
  if (twice) return `${twice} is listed twice`;
  return targets.length > MAX_ARP_TARGETS ? `at most ${MAX_ARP_TARGETS} targets, got ${targets.length}` : undefined;
};
const ifname: Check = (v) => (/^[^\s/:]{1,15}$/.test(v) ? undefined : 'expected an interface name');
const mac: Check = (v) => (/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(v) ? undefined : 'expected a MAC address');

/** The options the kernel's bonding driver knows, with a check of each value. */
export const BOND_OPTIONS: Record<string, Check> = {
  mode: named(...BOND_MODES),
  miimon: uint,
  updelay: uint,
  downdelay: uint,
  peer_notif_delay: uint,
  use_carrier: oneOf('0', '1'),
  arp_interval: uint,
  arp_ip_target: ipv4List,
  arp_validate: named('none', 'active', 'backup', 'all', 'filter', 'filter_active', 'filter_backup'),
  arp_all_targets: named('any', 'all'),
  arp_missed_max: uint,
  primary: ifname,
  primary_reselect: named('always', 'better', 'failure'),
  fail_over_mac: named('none', 'active', 'follow'),
  xmit_hash_policy: named('layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4', 'vlan+srcmac'),
  resend_igmp: uint,
  num_grat_arp: uint,
  num_unsol_na: uint,
  all_slaves_active: oneOf('0', '1'),
  min_links: uint,
  lp_interval: uint,
  packets_per_slave: uint,
  tlb_dynamic_lb: oneOf('0', '1'),
  lacp_rate: named('slow', 'fast'),
  ad_select: named('stable', 'bandwidth', 'count'),
  ad_actor_sys_prio: uint,
  ad_user_port_key: uint,
  ad_actor_system: mac,
};

export interface BondOptionProblem {
  option: string;
  message: string;
  hint: string;
}

/**
 * Parses "mode=4 miimon=100" into { mode: '802.3ad', miimon: '100' }. Keys prefixed "ovs:"
 * are native OVS bond settings (bond_mode, lacp, ...), kept for the OVS switch to check.
 */
export function parseBondOptions(text: string | undefined): {
  options: Record<string, string>;
  problems: BondOptionProblem[];
} {
  const options: Record<string, string> = {};
  const problems: BondOptionProblem[] = [];
  for (const word of (text ?? '').split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      problems.push({ option: word, message: `"${word}" is not key=value`, hint: 'write options as key=value separated by spaces, e.g. "mode=802.3ad miimon=100"' });
      continue;
    }
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key.startsWith('ovs:')) {
      options[key] = value;
      continue;
    }
    const check = BOND_OPTIONS[key];
    if (key === 'active_slave') {
      // sysfs has it, but it is the bond's state (which slave carries the traffic now), not a setting.
      problems.push({ option: key, message: 'active_slave is not a setting: the bond picks its active slave itself (show reports it)', hint: 'to prefer a slave, use primary=NIC (modes active-backup, balance-tlb, balance-alb)' });
      continue;
    }
    if (!check) {
      problems.push({ option: key, message: `unknown bonding option "${key}"`, hint: `use one of the kernel's bonding options: ${Object.keys(BOND_OPTIONS).join(', ')}` });
      continue;
    }
    const bad = check(value);
    if (bad) {
      problems.push({ option: key, message: `bad value "${value}" for bonding option ${key}: ${bad}`, hint: `fix ${key}= in the options string` });
      continue;
    }
    options[key] = normalizeBondValue(key, value);
  }
  options.mode ??= DEFAULT_BOND_MODE;
  const { num_grat_arp: grat, num_unsol_na: unsol } = options;
  if (grat !== undefined && unsol !== undefined && grat !== unsol) {
    problems.push({ option: 'num_unsol_na', message: `num_grat_arp=${grat} and num_unsol_na=${unsol} disagree: the kernel has one setting for both (peer notifications)`, hint: 'give one of them, or both with the same value' });
  }
  for (const key of Object.keys(options)) {
    if (!bondOptionFitsMode(key, options.mode)) {
      problems.push({ option: key, message: `bonding option ${key} is not supported in mode ${options.mode} (only in ${BOND_MODE_ONLY[key].join(', ')})`, hint: `drop ${key}, or use a mode that has it` });
    }
  }
  return { options, problems };
}

/**
 * MII and ARP monitoring as the Linux bonding driver takes them (bond_options.c; an OVS bond
 * has its own rules, in milliseconds, carrier or miimon): the delays count in miimon
 * periods, so they need miimon and are rounded down to a multiple of it (the bond would then
 * never read back as asked); ARP monitoring turns MII monitoring off.
 */
export function kernelMonitoringProblems(options: Readonly<Record<string, string>>): BondOptionProblem[] {
  const problems: BondOptionProblem[] = [];
  const miimon = Number(options.miimon ?? 0);
  for (const key of ['updelay', 'downdelay', 'peer_notif_delay']) {
    const value = options[key] === undefined ? 0 : Number(options[key]);
    if (value === 0) continue;
    if (miimon === 0) {
      problems.push({ option: key, message: `${key}=${value} needs MII monitoring, and miimon is 0`, hint: `set miimon as well, e.g. "miimon=100 ${key}=${value}"` });
    } else if (value % miimon !== 0) {
      const lower = value - (value % miimon);
      problems.push({ option: key, message: `${key}=${value} is not a multiple of miimon=${miimon}: the kernel would round it down to ${lower}`, hint: `use a multiple of miimon, e.g. ${key}=${lower || miimon} or ${lower + miimon}` });
    }
  }
  if (miimon > 0 && Number(options.arp_interval ?? 0) > 0) {
    problems.push({ option: 'arp_interval', message: `miimon=${miimon} and arp_interval=${options.arp_interval} exclude each other: the kernel turns MII monitoring off for ARP monitoring`, hint: 'use one link monitor: miimon, or arp_interval with arp_ip_target' });
  }
  return problems;
}

export function bondModeName(value: string): BondMode {
  return /^\d$/.test(value) ? BOND_MODES[Number(value)] : (value as BondMode);
}

/** Back to VDSM's string form, mode first, the rest sorted (stable output). */
export function formatBondOptions(options: Record<string, string>): string {
  const keys = Object.keys(options).sort((a, b) => (a === 'mode' ? -1 : b === 'mode' ? 1 : compareNames(a, b)));
  return keys.map((k) => `${k}=${options[k]}`).join(' ');
}

/**
 * Options the bonding driver accepts only in some modes (bond_options.c's unsuppmodes); any
 * other mode refuses them ("option not supported in mode").
 */
export const BOND_MODE_ONLY: Record<string, readonly BondMode[]> = {
  lacp_rate: ['802.3ad'],
  ad_actor_sys_prio: ['802.3ad'],
  ad_user_port_key: ['802.3ad'],
  ad_actor_system: ['802.3ad'],
  arp_interval: ['balance-rr', 'active-backup', 'balance-xor', 'broadcast'],
  arp_missed_max: ['balance-rr', 'active-backup', 'balance-xor', 'broadcast'],
  arp_validate: ['balance-rr', 'active-backup', 'balance-xor', 'broadcast'],
  primary: ['active-backup', 'balance-tlb', 'balance-alb'],
  packets_per_slave: ['balance-rr'],
  tlb_dynamic_lb: ['balance-tlb', 'balance-alb'],
};

/** Options the driver changes only while the bond is down (BOND_OPTFLAG_IFDOWN). */
export const BOND_IFDOWN_OPTIONS: ReadonlySet<string> = new Set(['lacp_rate', 'ad_select', 'tlb_dynamic_lb', 'ad_user_port_key']);
/** Options the driver changes only while the bond has no slaves (BOND_OPTFLAG_NOSLAVES): a change re-creates it. */
export const BOND_NOSLAVES_OPTIONS: ReadonlySet<string> = new Set(['mode', 'fail_over_mac']);

/** Whether the option may be set on a bond of this mode. */
export function bondOptionFitsMode(key: string, mode: string): boolean {
  const only = BOND_MODE_ONLY[key];
  return only === undefined || (only as readonly string[]).includes(mode);
}

/**
 * The kernel's defaults: what an option returns to when a request stops setting it. '' is
 * "none": no primary slave, no ARP targets (ip leaves such an option out of its output).
 */
export const BOND_DEFAULTS: Record<string, string> = {
  miimon: '0',
  updelay: '0',
  downdelay: '0',
  peer_notif_delay: '0',
  use_carrier: '1',
  arp_interval: '0',
  arp_validate: 'none',
  arp_all_targets: 'any',
  arp_ip_target: '',
  arp_missed_max: '2',
  primary: '',
  primary_reselect: 'always',
  fail_over_mac: 'none',
  xmit_hash_policy: 'layer2',
  resend_igmp: '1',
  num_grat_arp: '1',
  num_unsol_na: '1',
  all_slaves_active: '0',
  min_links: '0',
  lp_interval: '1',
  packets_per_slave: '1',
  tlb_dynamic_lb: '1',
  lacp_rate: 'slow',
  ad_select: 'stable',
  ad_actor_sys_prio: '65535',
  ad_user_port_key: '0',
  ad_actor_system: '00:00:00:00:00:00',
};

/** sysfs option name -> key in `ip -d -json` info_data, where they differ. */
const BOND_JSON_KEYS: Record<string, string> = {
  lacp_rate: 'ad_lacp_rate',
  num_grat_arp: 'num_peer_notif',
  num_unsol_na: 'num_peer_notif',
  peer_notif_delay: 'peer_notify_delay',
};

/** Options whose value the kernel reports by name even when set by number. */
const NAMED_VALUES: Record<string, readonly string[]> = {
  mode: BOND_MODES,
  lacp_rate: ['slow', 'fast'],
  xmit_hash_policy: ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4', 'vlan+srcmac'],
  arp_validate: ['none', 'active', 'backup', 'all', 'filter', 'filter_active', 'filter_backup'],
  arp_all_targets: ['any', 'all'],
  primary_reselect: ['always', 'better', 'failure'],
  fail_over_mac: ['none', 'active', 'follow'],
  ad_select: ['stable', 'bandwidth', 'count'],
};

/** An option value as the kernel reports it (lacp_rate=1 reads back as fast). */
export function normalizeBondValue(key: string, value: string): string {
  const names = NAMED_VALUES[key];
  return names && /^\d$/.test(value) && Number(value) < names.length ? names[Number(value)] : value;
}

/**
 * info_data (ip -d -json) -> sysfs-named bond options, as strings: every option of the bond's
 * mode, at its default where ip leaves it out or prints null (no primary, no ARP targets,
 * arp_validate none; an option this kernel does not have). Options of other modes are left out:
 * the kernel keeps their values but refuses them, so no request could say them back.
 */
export function bondOptionsFromInfo(info: Readonly<Record<string, unknown>>): Record<string, string> {
  const mode = normalizeBondValue('mode', String(info.mode ?? DEFAULT_BOND_MODE));
  const out: Record<string, string> = { mode };
  for (const [key, fallback] of Object.entries(BOND_DEFAULTS)) {
    if (!bondOptionFitsMode(key, mode)) continue;
    const value = info[BOND_JSON_KEYS[key] ?? key];
    out[key] = value === undefined || value === null ? fallback : Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

/** Mode plus the options that differ from the kernel's defaults: what a request would say (VDSM's form). */
export function bondOptionsSet(options: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(options).filter(([k, v]) => k === 'mode' || (BOND_DEFAULTS[k] !== undefined && !sameBondValue(BOND_DEFAULTS[k], v))));
}

/**
 * Options as `ip link ... type bond` takes them: peer_notif_delay (sysfs) is ip's
 * peer_notify_delay, and num_unsol_na is num_grat_arp (one kernel setting, two names). A
 * layout's bond options are in these names, so that steps pass them to ip as they are.
 */
export function ipBondOptions(options: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'num_unsol_na') out.num_grat_arp ??= value;
    else out[IP_NAMES[key] ?? key] = value;
  }
  return out;
}

const IP_NAMES: Record<string, string> = { peer_notif_delay: 'peer_notify_delay' };
/** BOND_DEFAULTS in ip's names (the names layouts and steps use). */
export const IP_DEFAULTS: Record<string, string> = ipBondOptions(BOND_DEFAULTS);

/** Two spellings of one value: 100 and 0100, or a MAC in either case ('' is not 0: it is "none"). */
export function sameBondValue(a: string, b: string): boolean {
  if (a === b) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) === BigInt(b);
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * What `bond.set` must change on a bond that has `have` (read from the host) so that it has
 * `want` (a request's options), both in ip's names (ipBondOptions). An option either side does
 * not name is at the kernel's default there: the host really matches only when every option of
 * the mode is as asked or, when not asked, at its default. Mode and ovs: options are not the
 * kernel's to set here.
 */
export function bondOptionChanges(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): { from: Record<string, string>; to: Record<string, string> } {
  const from: Record<string, string> = {};
  const to: Record<string, string> = {};
  const mode = want.mode ?? have.mode ?? DEFAULT_BOND_MODE;
  for (const key of new Set([...Object.keys(want), ...Object.keys(have)])) {
    if (key === 'mode' || key.startsWith('ovs:')) continue;
    // An option of another mode the host still holds (the kernel keeps it, and refuses a change).
    if (!(key in want) && !bondOptionFitsMode(key, mode)) continue;
    const w = want[key] ?? IP_DEFAULTS[key];
    const h = have[key] ?? IP_DEFAULTS[key];
    if (w === undefined || (h !== undefined && sameBondValue(h, w))) continue;
    to[key] = w;
    from[key] = h ?? '';
  }
  return { from, to };
}
