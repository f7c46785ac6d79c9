// The setup request as users send it (VDSM's setupNetworks format, STATE-FORMAT.md), as zod
// schemas: one source for the TypeScript types, runtime validation and the JSON Schema.
// The schemas accept what an oVirt engine sends unchanged: numbers may come as numeric
// strings and booleans as "true"/"false". Cross-field and host-dependent rules live in
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

/** An integer, or a string of digits (VDSM sends "100"), within [min, max]. */
export function intField(min: number, max: number) {
  return z
    .union([z.number(), z.string().regex(/^-?\d+$/).transform(Number)], expected('an integer'))
    .pipe(
      z
        .number()
        .int(expected(`an integer from ${min} to ${max}`))
        .min(min, `must be from ${min} to ${max}`)
        .max(max, `must be from ${min} to ${max}`),
    );
}

/** A number of seconds, fractions allowed, possibly as a string. */
function secondsField() {
  return z
    .union([z.number(), z.string().regex(/^\d+(\.\d+)?$/).transform(Number)], expected('a number of seconds'))
    .pipe(z.number().positive('must be more than 0 seconds').max(86_400, 'must be at most 86400 seconds (a day)'));
}

/** true/false, or the strings "true"/"false" as VDSM's JSON-RPC sometimes sends them. */
export const boolField = z
  .union([z.boolean(), z.enum(['true', 'false', 'True', 'False']).transform((s) => s.toLowerCase() === 'true')], expected('true or false'))
  .pipe(z.boolean());

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const ipv4 = z.string().regex(IPV4, 'expected an IPv4 address like 192.0.2.10');
export const ipv6 = z.string().refine(isIpv6, 'expected an IPv6 address like 2001:db8::10');
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
  vlan: intField(0, 4094).optional(),
  bridged: boolField.optional(),
  stp: z.union([z.literal('rstp'), boolField], expected('true, false or "rstp"')).optional().describe('true: spanning tree (STP); "rstp": rapid spanning tree, on Open vSwitch bridges only'),
  mtu: intField(68, 65535).optional(),
  switch: switchType.optional(),
  bootproto: z.enum(['none', 'dhcp']).optional(),
  ipaddr: ipv4.optional(),
  netmask: ipv4.optional(),
  prefix: intField(0, 32).optional(),
  gateway: ipv4.optional(),
  defaultRoute: boolField.optional(),
  nameservers: z.array(ipAddress).optional(),
  ipv6addr: z.string().optional(),
  ipv6gateway: ipv6.optional(),
  ipv6autoconf: boolField.optional(),
  dhcpv6: boolField.optional(),
  hostQos: hostQos.optional(),
  multicastSnooping: boolField.optional(),
  custom: z.strictObject({ bridge_opts: z.string().optional() }).optional(),
  blockingdhcp: boolField.optional(),
  remove: z.literal(false).optional(),
});
export type NetworkAttrs = z.infer<typeof networkAttrs>;

const removal = z.strictObject({ remove: z.union([z.literal(true), z.literal('true')]) });

export const bondAttrs = z.strictObject({
  nics: z.array(nicName),
  options: z.string().optional(),
  switch: switchType.optional(),
  hwaddr: macAddress.optional(),
  remove: z.literal(false).optional(),
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
