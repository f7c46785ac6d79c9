// Open vSwitch as netswitch models it: the bridges, ports and interfaces of a layout (what a
// config needs, or netswitch's rows as OVSDB has them), the QoS rows and OpenFlow flows of
// host QoS, and the OVS part of a host snapshot.

import { type Config, southbound } from './config.ts';
import type { OvsBondStatus } from './report.ts';

/**
 * The kernel devices of OVS's datapaths: ovs-system (kernel datapath) and ovs-netdev (the
 * userspace datapath's tap). ovs-vswitchd makes them, with a random MAC, when the first bridge
 * of the datapath comes and deletes them when the last goes: they are OVS's, not configuration.
 */
export const OVS_DATAPATH_DEVICES: ReadonlySet<string> = new Set(['ovs-system', 'ovs-netdev']);

export interface OvsInterfaceSpec {
  name: string;
  /** '' for a system (NIC) interface */
  type: '' | 'internal';
  mtu?: number;
  /**
   * Read from OVSDB for internal interfaces (mac_in_use): OVS picks a random MAC when it makes
   * one, so a port re-created by a rollback asks for the MAC it had.
   */
  mac?: string;
}

export interface OvsPortAttrs {
  tag?: number;
  /**
   * The VLANs a trunk port carries (none: all). An untagged network's internal port carries
   * only VLAN 0, the untagged frames: without it, OVS would hand it every VLAN's traffic.
   */
  trunks?: number[];
  bond_mode?: string;
  lacp?: string;
  bond_updelay?: number;
  bond_downdelay?: number;
  other_config?: Record<string, string>;
}

export interface OvsPortSpec extends OvsPortAttrs {
  name: string;
  interfaces: OvsInterfaceSpec[];
  /** Port.qos: a QoS row of netswitch's (applied by OVS to every interface of the port). */
  qos?: OvsQosSpec;
}

/**
 * One linux-hfsc queue (a Queue row): OVS makes it an HFSC class whose real-time and
 * link-share curves are both min-rate and whose upper limit is max-rate (bit/s).
 */
export interface OvsQueueSpec {
  minRate?: number;
  maxRate?: number;
  /** external_ids: the network whose traffic the queue carries (none: the default queue 0). */
  network?: string;
  /** external_ids: what min-rate stands for — a link share (ls m2 x 8) or a committed rate (rt m2). */
  basis?: 'ls' | 'rt';
}

/** A QoS row of type linux-hfsc with its queues. */
export interface OvsQosSpec {
  type: string;
  /** other_config:max-rate, bit/s: the rate of the root class all queues share. */
  maxRate?: number;
  /** By queue id (what OpenFlow's set_queue names); queue 0 is the default queue. */
  queues: Record<string, OvsQueueSpec>;
}

/**
 * An OpenFlow flow netswitch adds (OVS does not keep flows across a restart of ovs-vswitchd:
 * they are read back and re-added). `match` and `actions` are as ovs-ofctl prints them.
 */
export interface OvsFlowSpec {
  bridge: string;
  /** "0x6e73770000001388": netswitch's cookie prefix and the queue id. */
  cookie: string;
  /** "priority=100,in_port=vm100" */
  match: string;
  /** "set_queue:100,NORMAL" */
  actions: string;
}

export interface OvsBridgeAttrs {
  /** stp_enable */
  stp: boolean;
  /** rstp_enable (OVS runs RSTP when both are on: netswitch never sets both) */
  rstp: boolean;
  mcastSnooping: boolean;
}

export interface OvsBridgeSpec extends OvsBridgeAttrs {
  name: string;
  datapath: string;
  /** Ports other than the bridge's own local port. */
  ports: Record<string, OvsPortSpec>;
  /** The local port's MAC, read from OVSDB (see OvsInterfaceSpec.mac). */
  mac?: string;
}

export interface OvsLayout {
  bridges: Record<string, OvsBridgeSpec>;
  /** netswitch's flows, sorted by bridge and cookie (read only on bridges with its QoS rows). */
  flows?: OvsFlowSpec[];
}

export interface OvsSnapshot {
  /** netswitch's own bridges (external_ids marks them), as a layout. */
  layout: OvsLayout;
  /** Every bridge, port and interface, netswitch's or not. */
  bridges: Record<string, { name: string; datapath: string; ports: string[]; owned: boolean; stp: boolean; rstp: boolean; mcastSnooping: boolean }>;
  ports: Record<string, { name: string; bridge: string; interfaces: string[]; tag?: number; owned: boolean; foreignQos?: boolean; bond?: OvsBondStatus }>;
  interfaces: Record<string, OvsInterfaceState>;
}

export interface OvsInterfaceState {
  name: string;
  type: string;
  error?: string;
  ofport?: number;
  mtu?: number;
  linkState?: string;
  statistics: Record<string, number>;
  owned: boolean;
}

/** A deterministic OVS bridge name of at most 15 characters. */
export function ovsBridgeName(prefix: 'br' | 'brn', device: string): string {
  const name = `${prefix}-${device}`;
  if (name.length <= 15) return name;
  // node:crypto only here, for the rare long name: loading it costs every plan ~5 ms.
  const { createHash } = process.getBuiltinModule('node:crypto');
  return `${prefix}-${createHash('sha256').update(device).digest('hex').slice(0, 14 - prefix.length)}`;
}

/** The OVS bridge a network's internal port sits on. */
export function ovsBridgeOf(networkName: string, net: Config['networks'][string]): string {
  const sb = southbound(net);
  return sb === undefined ? ovsBridgeName('brn', networkName) : ovsBridgeName('br', sb);
}
