// From what a user sent to what it means: schema check of every entry (all problems at
// once, each with its path), then defaults filled and spellings normalized.
import type { z } from 'zod';
import { type Issue, invalid } from './errors.ts';
import {
  bondAttrs,
  type BondAttrs,
  boolOf,
  describeInput,
  isIpv6,
  networkAttrs,
  type NetworkAttrs,
  setupOptions,
  bondName as bondNameSchema,
  networkName as networkNameSchema,
} from './request.ts';
import {
  type Bond,
  type ChangeRequest,
  isRemoval,
  DEFAULT_CONNECTIVITY_TIMEOUT,
  DEFAULT_MTU,
  type Network,
  type Options,
} from './config.ts';
import { kernelMonitoringProblems, parseBondOptions } from './bond-options.ts';
import { ovsBondConflicts } from './ovs-bond.ts';
import { hintFor } from './hints.ts';
import { netmaskToPrefix } from './ip.ts';

const TOP_LEVEL = ['networks', 'bondings', 'options'];

/** Parses and canonicalizes a setup request; throws E_INVALID listing every problem. */
export function canonicalizeRequest(input: unknown): ChangeRequest {
  const { request, issues } = canonicalizeLenient(input);
  if (issues.length) throw invalid(issues);
  return request;
}

/**
 * The same, without throwing: entries with problems are left out of the request and their
 * problems returned, so semantic validation can still report on the rest in the same go.
 */
export function canonicalizeLenient(input: unknown): { request: ChangeRequest; issues: Issue[] } {
  const issues: Issue[] = [];
  const out: ChangeRequest = { networks: {}, bondings: {}, options: defaultOptions() };
  /** Networks that say stp: false (the canonical config cannot tell it from no stp). */
  const stpOff: string[] = [];
  if (input == null) return { request: out, issues };
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw invalid([{ path: '(request)', message: 'the request must be a mapping with networks, bondings and options', hint: 'see examples/ for the format' }]);
  }
  // A network or bond given as null is neither an entry nor a removal: said, not dropped.
  for (const kind of ['networks', 'bondings'] as const) {
    const entries = (input as Record<string, unknown>)[kind];
    if (typeof entries !== 'object' || entries === null) continue;
    for (const [name, value] of Object.entries(entries)) {
      if (value === null) issues.push({ path: `${kind}.${name}`, message: `null is not a ${kind === 'networks' ? 'network' : 'bond'}: it neither sets nor removes ${name}`, hint: hintFor(`${kind}.${name}`) });
    }
  }
  // JSON null for an optional field means the field is absent (VDSM's and nmstate's clients
  // send nulls): dropped here, at every level of mappings, before the schema sees them.
  const req = withoutNulls(input) as Record<string, unknown>;
  for (const key of Object.keys(req)) {
    if (!TOP_LEVEL.includes(key)) {
      issues.push({ path: key, message: `unknown field "${key}"`, hint: `the request has only ${TOP_LEVEL.join(', ')}` });
    }
  }
  for (const [name, value] of entries(req.networks, 'networks', issues)) {
    const path = `networks.${name}`;
    if (!checkName(networkNameSchema, name, path, issues)) continue;
    if (isRemovalInput(value, path, issues)) out.networks[name] = { remove: true };
    else {
      // An entry with problems still goes on to validation (the request is refused anyway),
      // so that its other problems are reported in the same go.
      const failed = new Set<string>();
      const attrs = parse(networkAttrs, value, path, issues, failed);
      const net = attrs && canonicalNetwork(attrs, path, issues, failed);
      if (net) out.networks[name] = net;
      if (net && (attrs.stp ?? attrs.STP) === false) stpOff.push(name);
    }
  }
  issues.push(...stpOffBesideStp(out.networks, stpOff));
  for (const [name, value] of entries(req.bondings, 'bondings', issues)) {
    const path = `bondings.${name}`;
    if (!checkName(bondNameSchema, name, path, issues)) continue;
    if (isRemovalInput(value, path, issues)) out.bondings[name] = { remove: true };
    else {
      const attrs = parse(bondAttrs, value, path, issues);
      if (attrs) out.bondings[name] = canonicalBond(attrs, path, issues);
    }
  }
  if (req.options !== undefined) {
    const opts = parse(setupOptions, req.options, 'options', issues);
    if (opts) {
      out.options = {
        connectivityCheck: opts.connectivityCheck ?? false,
        connectivityTimeout: opts.connectivityTimeout ?? DEFAULT_CONNECTIVITY_TIMEOUT,
        commitOnSuccess: opts.commitOnSuccess ?? false,
      };
    }
  }
  return { request: out, issues };
}

/**
 * The OVS networks of one NIC or bond share its bridge and its one spanning tree protocol: an
 * explicit stp: false beside stp: true or rstp there asks for two things (a network that says
 * nothing follows the bridge). Checked here because only the request shows an explicit false.
 */
function stpOffBesideStp(networks: ChangeRequest['networks'], stpOff: readonly string[]): Issue[] {
  const issues: Issue[] = [];
  const nets = Object.entries(networks).filter((e): e is [string, Network] => !isRemoval(e[1]) && e[1].switch === 'ovs');
  for (const name of stpOff) {
    const net = networks[name] as Network;
    const sb = net.nic ?? net.bonding;
    if (net.switch !== 'ovs' || sb === undefined) continue;
    const on = nets.find(([, n]) => (n.nic ?? n.bonding) === sb && n.stp !== false);
    if (on) {
      issues.push({
        path: `networks.${name}.stp`,
        message: `stp: false contradicts network ${on[0]}'s stp: ${on[1].stp}: the networks of ${sb} share one OVS bridge, which runs one spanning tree protocol or none`,
        hint: `leave stp out on network ${name} (it follows the bridge), or use the same stp on every network of ${sb}`,
      });
    }
  }
  return issues;
}

/** A copy of VALUE whose mappings have no null-valued keys (list elements are kept). */
function withoutNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withoutNulls);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== null) out[key] = withoutNulls(v);
  }
  return out;
}

export function defaultOptions(): Options {
  return { connectivityCheck: false, connectivityTimeout: DEFAULT_CONNECTIVITY_TIMEOUT, commitOnSuccess: false };
}

function entries(value: unknown, path: string, issues: Issue[]): [string, unknown][] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ path, message: `${path} must be a mapping of names to attributes`, hint: 'see examples/ for the format' });
    return [];
  }
  return Object.entries(value);
}

/** `{ remove: true }`, alone: other fields beside it are refused (they would be ignored). */
function isRemovalInput(value: unknown, path: string, issues: Issue[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (boolOf((value as Record<string, unknown>).remove) !== true) return false;
  for (const key of Object.keys(value)) {
    if (key !== 'remove') issues.push({ path: `${path}.${key}`, message: `"${key}" beside remove: true`, hint: 'an entry with remove: true takes no other fields' });
  }
  return true;
}

function checkName(schema: z.ZodType, name: string, path: string, issues: Issue[]): boolean {
  const r = schema.safeParse(name);
  if (r.success) return true;
  issues.push({ path, message: r.error.issues[0].message, hint: hintFor(path, 'name') });
  return false;
}

/**
 * Parses one entry. On failure the problems are recorded, the fields that failed are left
 * out (their names added to `failed`) and the rest parsed again, so that the checks after the
 * schema still run on what is left: a request's problems are all reported in one go.
 */
function parse<T>(schema: z.ZodType<T>, value: unknown, base: string, issues: Issue[], failed = new Set<string>()): T | undefined {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  for (const zi of r.error.issues) {
    const path = [base, ...zi.path.map(String)].join('.');
    if (zi.code === 'unrecognized_keys') {
      for (const key of zi.keys) {
        issues.push({ path: `${path}.${key}`, message: `unknown field "${key}"`, hint: hintFor(`${path}.${key}`, 'unknown') });
      }
    } else {
      issues.push({ path, message: messageOf(zi, inputAt(value, zi.path)), hint: hintFor(path) });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const rest = { ...(value as Record<string, unknown>) };
  for (const zi of r.error.issues) {
    const keys = zi.code === 'unrecognized_keys' && zi.path.length === 0 ? zi.keys : zi.path.length ? [String(zi.path[0])] : [];
    for (const k of keys) {
      delete rest[k];
      failed.add(k);
    }
  }
  if (Object.keys(rest).length === Object.keys(value).length) return undefined;
  const inner: Issue[] = [];
  const data = parse(schema, rest, base, inner, failed);
  // A required field that failed is missing from the second try: said once is enough.
  issues.push(...inner.filter((i) => !issues.some((j) => j.path === i.path)));
  return data;
}

const KINDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

/**
 * What a schema problem says: what was expected and what was given. zod's own wording
 * ("Invalid input: expected string, received number") is rewritten; the schemas' own messages
 * get the value given appended, except range messages (the value is right there).
 */
function messageOf(zi: z.core.$ZodIssue, input: unknown): string {
  const got = `got ${describeInput(input)}`;
  if (zi.code === 'invalid_type') {
    const kind = KINDS[zi.expected] ?? zi.expected;
    if (input === undefined) return `required: expected ${kind}`;
    if (!zi.message.startsWith('Invalid ')) return zi.message.includes('got ') ? zi.message : `${zi.message}, ${got}`;
    return `expected ${kind}, ${got}`;
  }
  if (zi.code === 'invalid_value') {
    const values = zi.values.map((v) => String(v));
    return `expected ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}, ${got}`;
  }
  if (zi.code === 'too_big' || zi.code === 'too_small') return zi.message;
  const message = zi.message.startsWith('Invalid ') ? 'not a valid value' : zi.message;
  return message.includes('got ') ? message : `${message}, ${got}`;
}

function inputAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** `failed`: fields the schema refused (left out of `a`); checks involving them are skipped. */
function canonicalNetwork(a: NetworkAttrs, path: string, issues: Issue[], failed: ReadonlySet<string> = new Set()): Network | undefined {
  const before = issues.length;
  let prefix = a.prefix;
  if (a.netmask !== undefined) {
    const fromMask = netmaskToPrefix(a.netmask);
    if (fromMask === undefined) {
      issues.push({ path: `${path}.netmask`, message: `${a.netmask} is not a contiguous netmask`, hint: 'use a netmask like 255.255.255.0, or prefix: 24' });
    } else if (prefix !== undefined && prefix !== fromMask) {
      issues.push({ path: `${path}.netmask`, message: `netmask ${a.netmask} (/${fromMask}) disagrees with prefix ${prefix}`, hint: 'give netmask or prefix, not two different ones' });
    } else prefix = fromMask;
  }
  if (a.ipaddr !== undefined && prefix === undefined && !failed.has('netmask') && !failed.has('prefix')) {
    issues.push({ path: `${path}.ipaddr`, message: 'an address needs its netmask or prefix', hint: 'add prefix: 24 (or netmask: 255.255.255.0)' });
  }
  if (a.ipaddr === undefined && !failed.has('ipaddr') && (a.netmask !== undefined || a.prefix !== undefined)) {
    issues.push({ path: `${path}.${a.netmask !== undefined ? 'netmask' : 'prefix'}`, message: 'a netmask or prefix without ipaddr', hint: 'add ipaddr, or drop the netmask/prefix' });
  }
  let ipv6addr = a.ipv6addr;
  if (ipv6addr !== undefined) {
    const [addr, len, extra] = ipv6addr.split('/');
    if (extra !== undefined || !isIpv6(addr) || len === undefined || !/^\d+$/.test(len) || Number(len) > 128) {
      issues.push({ path: `${path}.ipv6addr`, message: `"${ipv6addr}" is not an IPv6 address with prefix length`, hint: 'write it as address/prefix, e.g. 2001:db8::10/64' });
    } else ipv6addr = `${addr.toLowerCase()}/${Number(len)}`;
  }
  const stp = vdsmStp(a, path, issues);
  const sw = vdsmSwitch(a, path, issues);
  const defaultRoute = vdsmDefaultRoute(a, path, issues);
  let bridgeOpts: Record<string, string> | undefined;
  // An empty bridge_opts is none (VDSM skips it), so it asks nothing of an OVS bridge either.
  if (a.custom?.bridge_opts !== undefined && a.custom.bridge_opts.trim() !== '') {
    bridgeOpts = {};
    for (const word of a.custom.bridge_opts.split(/\s+/).filter(Boolean)) {
      const m = /^([a-z_]+)=(\S+)$/.exec(word);
      if (!m) {
        issues.push({ path: `${path}.custom.bridge_opts`, message: `"${word}" is not key=value`, hint: 'write bridge options as key=value separated by spaces, e.g. "forward_delay=0 multicast_router=1"' });
      } else bridgeOpts[m[1]] = m[2];
    }
  }
  if (issues.length > before) return undefined;
  const net: Network = {
    bridged: a.bridged ?? true,
    stp: stp ?? false,
    mtu: a.mtu ?? DEFAULT_MTU,
    switch: sw ?? 'legacy',
    bootproto: a.bootproto ?? 'none',
    defaultRoute: defaultRoute ?? false,
    ipv6autoconf: a.ipv6autoconf ?? false,
    dhcpv6: a.dhcpv6 ?? false,
    blockingdhcp: a.blockingdhcp ?? true, // absent: wait for the lease (netswitch never leaves a host cut off silently)
  };
  if (a.nic !== undefined) net.nic = a.nic;
  if (a.bonding !== undefined) net.bonding = a.bonding;
  if (a.vlan !== undefined) net.vlan = a.vlan;
  if (a.ipaddr !== undefined) net.ipaddr = a.ipaddr;
  if (prefix !== undefined) net.prefix = prefix;
  if (a.gateway !== undefined) net.gateway = a.gateway;
  if (a.nameservers !== undefined) net.nameservers = [...a.nameservers];
  if (ipv6addr !== undefined) net.ipv6addr = ipv6addr;
  if (a.ipv6gateway !== undefined) net.ipv6gateway = a.ipv6gateway.toLowerCase();
  if (a.hostQos !== undefined) net.hostQos = a.hostQos;
  if (a.multicastSnooping !== undefined) net.multicastSnooping = a.multicastSnooping;
  if (bridgeOpts !== undefined) net.bridgeOpts = bridgeOpts;
  return net;
}

/** stp, or VDSM's legacy key STP: both may be given only if they agree (VDSM would take stp silently). */
function vdsmStp(a: NetworkAttrs, path: string, issues: Issue[]): Network['stp'] | undefined {
  if (a.stp !== undefined && a.STP !== undefined && a.stp !== a.STP) {
    issues.push({ path: `${path}.STP`, message: `STP: ${a.STP} contradicts stp: ${a.stp}`, hint: 'give stp alone (STP is its legacy spelling)' });
  }
  return a.stp ?? a.STP;
}

/**
 * custom.ovs: true (the property of VDSM's old OVS hook) means switch: ovs, as VDSM's
 * canonicalize reads it; false says nothing. Beside switch: legacy it is refused rather than
 * letting one silently win.
 */
function vdsmSwitch(a: NetworkAttrs, path: string, issues: Issue[]): Network['switch'] | undefined {
  if (a.custom?.ovs !== true) return a.switch;
  if (a.switch === 'legacy') {
    issues.push({ path: `${path}.custom.ovs`, message: 'custom.ovs: true contradicts switch: legacy', hint: 'drop custom.ovs (switch is its successor), or use switch: ovs' });
  }
  return 'ovs';
}

/**
 * custom.default_route: deprecated in VDSM, which still honours it as defaultRoute (and logs a
 * warning); so does netswitch. Beside a defaultRoute that says otherwise it is refused (VDSM
 * would let the custom property win silently).
 */
function vdsmDefaultRoute(a: NetworkAttrs, path: string, issues: Issue[]): boolean | undefined {
  const custom = a.custom?.default_route;
  if (custom === undefined) return a.defaultRoute;
  if (a.defaultRoute !== undefined && a.defaultRoute !== custom) {
    issues.push({ path: `${path}.custom.default_route`, message: `custom.default_route: ${custom} contradicts defaultRoute: ${a.defaultRoute}`, hint: 'drop custom.default_route (deprecated) and keep defaultRoute' });
  }
  return custom;
}

function canonicalBond(a: BondAttrs, path: string, issues: Issue[]): Bond {
  const { options, problems } = parseBondOptions(a.options);
  for (const p of problems) issues.push({ path: `${path}.options`, message: p.message, hint: p.hint });
  const bond: Bond = { nics: [...new Set(a.nics)].sort(), options, switch: a.switch ?? 'legacy' };
  if (a.nics.length !== new Set(a.nics).size) {
    issues.push({ path: `${path}.nics`, message: 'a NIC is listed twice', hint: 'list each NIC once' });
  }
  if (a.hwaddr !== undefined) bond.hwaddr = a.hwaddr.toLowerCase();
  if (bond.switch === 'legacy' && problems.length === 0) {
    for (const p of kernelMonitoringProblems(options)) issues.push({ path: `${path}.options`, message: p.message, hint: p.hint });
  }
  if (options.primary !== undefined && !bond.nics.includes(options.primary)) {
    issues.push({ path: `${path}.options`, message: `primary=${options.primary} is not one of the bond's NICs (${bond.nics.join(', ') || 'none'})`, hint: `name one of ${bond.nics.join(', ') || 'its NICs'} as primary, or add ${options.primary} to nics` });
  }
  if (bond.switch === 'ovs' && problems.length === 0) {
    // Only here are the options the request wrote known (parsed options always hold a mode).
    const explicit = new Set((a.options ?? '').split(/\s+/).map((w) => w.slice(0, w.indexOf('='))));
    for (const p of ovsBondConflicts(options, explicit)) {
      issues.push({ path: `${path}.options`, message: p.message, hint: `give each setting once: drop ${p.option}, or make it agree with the kernel option` });
    }
    // An OVS bond given natively (ovs:bond_mode, ovs:lacp) and no kernel mode has no mode: the
    // default one would be written back (running config, kernel_config) and then contradict them.
    if (!explicit.has('mode') && ('ovs:bond_mode' in options || 'ovs:lacp' in options)) delete options.mode;
  }
  return bond;
}

export { netmaskToPrefix, prefixToNetmask } from './ip.ts';
