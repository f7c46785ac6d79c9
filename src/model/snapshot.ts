// What the host has, as read at one moment (src/host builds it). Immutable: every consumer
// (validation, planning, report, rollback proof) sees the same picture.

import type { OvsSnapshot } from './ovs.ts';
import type { QosLayout } from '../qos/hfsc.ts';

/** 'ovs': an Open vSwitch internal port (a network of the ovs switch, or a bridge's local port). */
export type LinkKind = 'nic' | 'bridge' | 'bond' | 'vlan' | 'ovs' | 'other';

export interface Address {
  family: 4 | 6;
  /** "192.0.2.10/24" */
  cidr: string;
  scope: string;
  /** Kernel-made (IPv6 link-local, SLAAC) or leased: not part of any config. */
  dynamic: boolean;
}

export interface LinkStats {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
}

export interface Link {
  name: string;
  ifindex: number;
  kind: LinkKind;
  /** The kernel's type (info_kind): bridge, bond, vlan, veth, openvswitch, ... or '' for hardware. */
  type: string;
  mtu: number;
  mac: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  operstate: string;
  master?: string;
  /** A VLAN's lower device, from `link`. */
  link?: string;
  vlanId?: number;
  /** The kernel's info_data: bridge or bond attributes, as ip -d -json names them. */
  info: Readonly<Record<string, unknown>>;
  /** info_slave_data: a bond slave's or bridge port's attributes. */
  slaveInfo: Readonly<Record<string, unknown>>;
  addresses: readonly Address[];
  stats?: LinkStats;
  speed?: number;
}

export interface Route {
  family: 4 | 6;
  /** "default" or a prefix */
  dst: string;
  gateway?: string;
  dev?: string;
  table: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  type?: string;
}

/**
 * Route protocols a configuration sets: boot (ip's default: netswitch, the DHCP client's
 * script, most administrators), static and dhcp (NetworkManager, systemd-networkd). An apply
 * reads only these (the kernel filters the dump: with thousands of devices their kernel and
 * local routes are most of it); what it plans, verifies and proves a rollback against is
 * among them (plan/layout.ts, host/compare.ts).
 */
export const CONFIGURED_ROUTE_PROTOCOLS = ['boot', 'static', 'dhcp'] as const;

export interface Rule {
  family: 4 | 6;
  priority: number;
  src?: string;
  table: string;
  iif?: string;
}

/** A DHCP client netswitch runs for an interface. */
export interface DhcpClient {
  dev: string;
  family: 4 | 6;
  /** The network holds the default route (and takes its nameservers from the lease). */
  defaultRoute: boolean;
  /** The network's source-routing table. */
  table: string;
  /**
   * false (blockingdhcp: false): the client is started in the background and the apply does
   * not wait for its lease; otherwise the start waits for the lease and fails without one.
   */
  wait?: boolean;
}

/** Parts of a host read that can be left out (each costs a process): see readSnapshot's `known`. */
export interface Unread {
  /** The IPv6 policy rules (\`ip -6 rule\`). */
  rules6?: boolean;
  /** Traffic shaping (\`tc\`): the root qdiscs, and netswitch's HFSC classes and filters. */
  shaping?: boolean;
}

export interface Snapshot {
  /** ms since the epoch, when it was read */
  time: number;
  links: Readonly<Record<string, Link>>;
  /**
   * The routes configuration makes, of every table and both families: those of the protocols
   * in CONFIGURED_ROUTE_PROTOCOLS. A report's read (with counters) has every route: the
   * kernel's and those learnt from router advertisements too.
   */
  routes: readonly Route[];
  rules: readonly Rule[];
  nameservers: readonly string[];
  /** Open vSwitch, when an OVSDB server was reachable. */
  ovs?: OvsSnapshot;
  /** netswitch's running DHCP clients (read from its state dir). */
  dhcp?: readonly DhcpClient[];
  /** netswitch's traffic shaping (HFSC under handle 1389:), by device. */
  qos?: QosLayout;
  /** Root qdiscs that are not netswitch's and not the kernel's default, by device ("htb 1:"). */
  foreignQdiscs?: Readonly<Record<string, string>>;
  /** The kernel has IPv6 (not built without it, not disabled). */
  ipv6?: boolean;
  /** IPv6 autoconfiguration sysctls of the devices asked for (accept_ra, autoconf). */
  ipv6conf?: Readonly<Record<string, Ipv6Conf>>;
}

/** net.ipv6.conf.<dev>.accept_ra and .autoconf, as the kernel shows them. */
export interface Ipv6Conf {
  accept_ra: string;
  autoconf: string;
}
