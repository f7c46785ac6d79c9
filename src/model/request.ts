// The setup request as users send it (VDSM's setupNetworks format, STATE-FORMAT.md), as zod
// schemas: one source for the TypeScript types, runtime validation and the JSON Schema.
// The schemas accept what an oVirt engine sends unchanged, in VDSM's spellings
// (lib/vdsm/network/canonicalize.py): numbers may come as numeric strings, booleans as
// "true"/"false" (any letter case) or "1"/"0" (VDSM's tobool), stp also as yes/no/on/off
// (VDSM's stp_booleanize), and an empty vlan, ipaddr, netmask, prefix, gateway, ipv6addr or
// ipv6gateway means the field is absent. Cross-field and host-dependent rules live in
// src/validate; the schema only checks each field on its own.
import { z } from 'zod';

/** A value as a message quotes it: strings quoted, lists and mappings by kind. */
export function describeInput(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** A type error that says what was expected and what came instead. */
const expected = (what: string) => ({ error: (issue: { input?: unknown }) => `expected ${what}, got ${describeInput(issue.input)}` });

/** An integer within [min, max], as the second stage of a number field. */
function intRange(min: number, max: number) {
  return z
    .number()
    .int(expected(`an integer from ${min} to ${max}`))
    .min(min, `must be from ${min} to ${max}`)
    .max(max, `must be from ${min} to ${max}`);
}
const digits = () => z.string().regex(/^-?\d+$/).transform(Number);

/** An integer, or a string of digits (VDSM sends "100"), within [min, max]. */
export function intField(min: number, max: number) {
  return z.union([z.number(), digits()], expected('an integer')).pipe(intRange(min, max));
}

/** The same, or "" for no value at all (VDSM reads an empty vlan or prefix as none). */
export function optionalIntField(min: number, max: number) {
  return z
    .union([z.number(), digits(), z.literal('').transform(() => undefined)], expected('an integer'))
    .pipe(intRange(min, max).optional());
}

/** A number of seconds, fractions allowed, possibly as a string. */
function secondsField() {
  return z
    .union([z.number(), z.string().regex(/^\d+(\.\d+)?$/).transform(Number)], expected('a number of seconds'))
    .pipe(z.number().positive('must be more than 0 seconds').max(86_400, 'must be at most 86400 seconds (a day)'));
}

/**
 * WORDS in any letter case, as a pattern JSON Schema can carry too (its patterns take no
 * flags, so each letter is a class: [tT][rR][uU][eE]).
 */
function anyCase(words: readonly string[]): RegExp {
  const caseless = (w: string) => [...w].map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`)).join('');
  return new RegExp(`^(${words.map(caseless).join('|')})$`);
}

// VDSM's tobool: "true" in any case, or a number in a string ("1", "0"). A number itself is
// not taken: tobool reads 1 as false (it calls .lower() on it), so no meaning is safe.
const TRUE_WORDS = ['true', '1'];
const FALSE_WORDS = ['false', '0'];
const isTrueWord = (s: string) => TRUE_WORDS.includes(s.toLowerCase());

/** true/false, or a string boolean as VDSM's JSON-RPC clients send it: "true"/"false" in any case, "1"/"0". */
export const boolField = z
  .union([z.boolean(), z.string().regex(anyCase([...TRUE_WORDS, ...FALSE_WORDS])).transform(isTrueWord)], expected('true or false'))
  .pipe(z.boolean());

/** One boolean value, in any spelling boolField takes (remove: true marks a removal, remove: false does not). */
function boolConst<B extends boolean>(b: B, said = String(b)) {
  return z.union([z.literal(b), z.string().regex(anyCase(b ? TRUE_WORDS : FALSE_WORDS)).transform((): B => b)], expected(said));
}

/** VALUE as a boolean field reads it, or undefined if it is no boolean. */
export function boolOf(value: unknown): boolean | undefined {
  // Most values are absent or plain booleans: no parse (a failed one builds an error) for them.
  if (value === undefined || typeof value === 'boolean') return value;
  const r = boolField.safeParse(value);
  return r.success ? r.data : undefined;
}

// VDSM's stp_booleanize: true/on/yes and false/off/no in any case; anything else (also "1"
// and "0") it refuses, and so does netswitch. "rstp" is netswitch's (OVS rapid spanning tree).
const STP_ON = ['true', 'on', 'yes'];
const STP_OFF = ['false', 'off', 'no'];
export const stpField = z
  .union(
    [z.boolean(), z.literal('rstp'), z.string().regex(anyCase([...STP_ON, ...STP_OFF])).transform((s) => STP_ON.includes(s.toLowerCase()))],
    expected('true, false (or yes/no, on/off) or "rstp"'),
  )
  .describe('true (or "yes", "on"): spanning tree (STP); "rstp": rapid spanning tree, on Open vSwitch bridges only');

const IPV4_WORDS = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}';
const IPV4 = new RegExp(`^${IPV4_WORDS}$`);
export const ipv4 = z.string().regex(IPV4, 'expected an IPv4 address like 192.0.2.10');
export const ipv6 = z.string().refine(isIpv6, 'expected an IPv6 address like 2001:db8::10');

/** "" is no value (VDSM checks these fields with `if address:`): the field reads as absent. */
const absentIfEmpty = (s: string) => (s === '' ? undefined : s);
/** An IPv4 address, or "" for none. */
export const optionalIpv4 = z.string().regex(new RegExp(`^(${IPV4_WORDS})?$`), 'expected an IPv4 address like 192.0.2.10').transform(absentIfEmpty);
/** An IPv6 address, or "" for none. */
export const optionalIpv6 = z
  .string()
  .refine((s) => s === '' || isIpv6(s), 'expected an IPv6 address like 2001:db8::10')
  .transform(absentIfEmpty);
export const ipAddress = z.string().refine((s) => IPV4.test(s) || isIpv6(s), 'expected an IPv4 or IPv6 address');
export const macAddress = z
  .string()
  .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, { error: 'expected a MAC address like 52:54:00:aa:bb:cc', abort: true })
  .refine((s) => !/^(00:){5}00$/.test(s), 'the all-zero MAC address is no device\'s address')
  // The I/G bit (the lowest bit of the first octet) marks a group address: the kernel
  // refuses it as a device's own address.
  .refine((s) => (parseInt(s.slice(0, 2), 16) & 1) === 0, 'a multicast address (the lowest bit of the first octet is set) is no device\'s address');

export function isIpv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = [...groups(halves[0]), ...(halves.length === 2 ? groups(halves[1]) : [])];
  let words = 0;
  for (const [i, g] of all.entries()) {
    if (i === all.length - 1 && g.includes('.')) {
      if (!IPV4.test(g)) return false;
      words += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) words += 1;
    else return false;
  }
  return halves.length === 2 ? words < 8 : words === 8;
}

export const switchType = z.enum(['legacy', 'ovs']);
export type SwitchType = z.infer<typeof switchType>;

/** An HFSC service curve as VDSM sends it: m1, m2 in bit/s, d in microseconds. */
const serviceCurve = z.strictObject({
  m1: intField(0, 2 ** 53).optional(),
  d: intField(0, 2 ** 53).optional(),
  m2: intField(0, 2 ** 53),
});
export const hostQos = z.strictObject({
  out: z.strictObject({
    ls: serviceCurve.optional(),
    ul: serviceCurve.optional(),
    rt: serviceCurve.optional(),
  }),
});

const NETWORK_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
export const networkName = z
  .string()
  .regex(NETWORK_NAME, 'a network name is 1-15 characters of letters, digits, _ . -')
  .refine((s) => !s.startsWith('-'), 'a network name may not start with -');
export const bondName = z
  .string()
  .regex(/^bond[A-Za-z0-9_]{1,11}$/, 'a bond name is "bond" followed by letters, digits or _ (at most 15 characters)');
export const nicName = z
  .string()
  .regex(/^[^\s/:]{1,15}$/, 'a device name is 1-15 characters without spaces, "/" or ":"')
  .refine((s) => s !== '.' && s !== '..', 'not a device name');

export const networkAttrs = z.strictObject({
  nic: nicName.optional(),
  bonding: bondName.optional(),
  vlan: optionalIntField(0, 4094).optional(),
  bridged: boolField.optional(),
  stp: stpField.optional(),
  STP: stpField.optional().describe('VDSM\'s legacy spelling of stp (give one of them)'),
  mtu: intField(68, 65535).optional(),
  switch: switchType.optional(),
  bootproto: z.enum(['none', 'dhcp']).optional(),
  ipaddr: optionalIpv4.optional(),
  netmask: z.string().regex(new RegExp(`^(${IPV4_WORDS})?$`), 'expected a netmask like 255.255.255.0').transform(absentIfEmpty).optional(),
  prefix: optionalIntField(0, 32).optional(),
  gateway: optionalIpv4.optional(),
  defaultRoute: boolField.optional(),
  nameservers: z.array(ipAddress).optional(),
  ipv6addr: z.string().transform(absentIfEmpty).optional(),
  ipv6gateway: optionalIpv6.optional(),
  ipv6autoconf: boolField.optional(),
  dhcpv6: boolField.optional(),
  hostQos: hostQos.optional(),
  multicastSnooping: boolField.optional(),
  // VDSM's custom properties (a map of strings): the ones VDSM itself reads.
  custom: z
    .strictObject({
      bridge_opts: z.string().optional().describe('Linux bridge options, key=value separated by spaces (sysfs names); switch: legacy only'),
      ovs: boolField.optional().describe('true: switch: ovs (the property of VDSM\'s old OVS hook); false says nothing'),
      default_route: boolField.optional().describe('deprecated in VDSM: the same as defaultRoute'),
    })
    .optional(),
  blockingdhcp: boolField.optional(),
  remove: boolConst(false, 'true or false').optional(), // a true one is a removal
});
export type NetworkAttrs = z.infer<typeof networkAttrs>;

const removal = z.strictObject({ remove: boolConst(true) });

export const bondAttrs = z.strictObject({
  nics: z.array(nicName),
  options: z.string().optional(),
  switch: switchType.optional(),
  hwaddr: macAddress.optional(),
  remove: boolConst(false, 'true or false').optional(), // a true one is a removal
});
export type BondAttrs = z.infer<typeof bondAttrs>;

export const setupOptions = z.strictObject({
  connectivityCheck: boolField.optional(),
  connectivityTimeout: secondsField().optional(),
  commitOnSuccess: boolField.optional(),
});
export type SetupOptions = z.infer<typeof setupOptions>;

/** A removal is told apart from attributes by its `remove` key, so errors point at the right one. */
function entry<T extends z.ZodType>(attrs: T) {
  return z.union([removal, attrs]);
}

export const setupRequest = z.strictObject({
  networks: z.record(networkName, entry(networkAttrs)).optional(),
  bondings: z.record(bondName, entry(bondAttrs)).optional(),
  options: setupOptions.optional(),
});
export type SetupRequest = z.infer<typeof setupRequest>;
export type SetupRequestInput = z.input<typeof setupRequest>;
