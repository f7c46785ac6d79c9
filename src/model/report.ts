// The report (the `state` of a node resource, STATE-FORMAT.md) as zod schemas: one source for
// the TypeScript types, the JSON Schema (`netswitch schema --report`) and a check that what
// `netswitch show` prints keeps to the contract. One shape whichever switch a network uses.
import { z } from 'zod';

const switchName = z.enum(['legacy', 'ovs']);
/** As the request says it: true (STP), false, or "rstp" (rapid spanning tree, Open vSwitch only). */
const stp = z.union([z.boolean(), z.literal('rstp')]).describe('true: spanning tree (STP); "rstp": rapid spanning tree (Open vSwitch bridges)');

export const ipInfo = z.object({
  addr: z.string(),
  netmask: z.string(),
  ipv4addrs: z.array(z.string()),
  ipv6addrs: z.array(z.string()),
  gateway: z.string(),
  ipv6gateway: z.string(),
  dhcpv4: z.boolean(),
  dhcpv6: z.boolean(),
  ipv6autoconf: z.boolean(),
  ipv4defaultroute: z.boolean(),
});

/** A service curve as the request says it: m1, m2 in bit/s, d in microseconds. */
const serviceCurve = z.object({ m1: z.number().optional(), d: z.number().optional(), m2: z.number() });
/** A network's shaping, in the request's shape (VDSM's caps report it so). */
const hostQos = z.object({ out: z.object({ ls: serviceCurve.optional(), ul: serviceCurve.optional(), rt: serviceCurve.optional() }) });
/** A NIC's or bond's shaping, one entry per network on it (VDSM's `qos`; vlan -1: untagged). */
const deviceQos = z.array(z.object({ hostQos, vlan: z.number() })).optional().describe('present only where the device shapes traffic');

export const capabilities = z.object({
  nics: z.record(z.string(), ipInfo.extend({ hwaddr: z.string(), permhwaddr: z.string().optional(), mtu: z.number(), speed: z.number(), qos: deviceQos })),
  bondings: z.record(
    z.string(),
    ipInfo.extend({ slaves: z.array(z.string()), opts: z.record(z.string(), z.string()), active_slave: z.string(), hwaddr: z.string(), mtu: z.number(), switch: switchName, qos: deviceQos }),
  ),
  vlans: z.record(z.string(), ipInfo.extend({ iface: z.string(), vlanid: z.number(), mtu: z.number(), switch: switchName })),
  bridges: z.record(
    z.string(),
    ipInfo.extend({ ports: z.array(z.string()), stp, opts: z.record(z.string(), z.string()), mtu: z.number(), switch: switchName }),
  ),
  networks: z.record(
    z.string(),
    ipInfo.extend({
      iface: z.string(),
      bridged: z.boolean(),
      southbound: z.string(),
      vlanid: z.number().nullable(),
      ports: z.array(z.string()),
      stp,
      mtu: z.number(),
      switch: switchName,
      hostQos: hostQos.optional().describe('the shaping the host has for the network'),
    }),
  ),
  nameservers: z.array(z.string()),
  supportsIPv6: z.boolean(),
});

export const interfaceStats = z.object({
  name: z.string(),
  rx: z.string(),
  tx: z.string(),
  rxDropped: z.string(),
  rxErrors: z.string(),
  txDropped: z.string(),
  txErrors: z.string(),
  speed: z.number(),
  state: z.enum(['up', 'down']),
  sampleTime: z.number(),
});

const statusBody = z.object({ message: z.string(), reason: z.string().optional() });
export const status = z.union([z.object({ Success: statusBody }), z.object({ Failed: statusBody })]);

export const report = z.object({
  capabilities,
  statistics: z.record(z.string(), interfaceStats),
  /** A setup request (networks, bondings) that would re-create what the host has. */
  kernel_config: z.object({
    networks: z.record(z.string(), z.record(z.string(), z.unknown())),
    bondings: z.record(z.string(), z.record(z.string(), z.unknown())),
  }),
  setupStatus: status.optional(),
  infoStatus: status,
});

export type IpInfo = z.infer<typeof ipInfo>;
export type Capabilities = z.infer<typeof capabilities>;
export type InterfaceStats = z.infer<typeof interfaceStats>;
export type Status = z.infer<typeof status>;
export type Report = z.infer<typeof report>;

/**
 * What ovs-vswitchd says of an OVS bond now (OVSDB's Port.bond_active_slave, the active
 * member's MAC): the report's input beside the snapshot, as a Linux bond's sysfs is.
 */
export interface OvsBondStatus {
  /** The member whose Interface.mac_in_use is that MAC ('' when none matches). */
  activeSlave: string;
  /** bond_active_slave itself: the MAC the bond sends with. */
  hwaddr: string;
}
