// The canonical desired config: what a request means once defaults are filled and every
// spelling is normalized (prefix not netmask, numbers not strings, bond options parsed, bond
// NICs sorted). The running and safe configs on disk are of this type, and the planner
// compares these, never raw requests.
import type { SwitchType } from './request.ts';

export interface ServiceCurve {
  m1?: number;
  d?: number;
  m2: number;
}

export interface HostQos {
  out: { ls?: ServiceCurve; ul?: ServiceCurve; rt?: ServiceCurve };
}

export interface Network {
  nic?: string;
  bonding?: string;
  vlan?: number;
  bridged: boolean;
  /** true: spanning tree (802.1D); 'rstp': rapid spanning tree (802.1w), Open vSwitch bridges only. */
  stp: boolean | 'rstp';
  mtu: number;
  switch: SwitchType;
  bootproto: 'none' | 'dhcp';
  ipaddr?: string;
  prefix?: number;
  gateway?: string;
  defaultRoute: boolean;
  /** undefined: keep the host's; []: clear them. Meaningful on the default-route network. */
  nameservers?: string[];
  /** "address/prefix" */
  ipv6addr?: string;
  ipv6gateway?: string;
  ipv6autoconf: boolean;
  dhcpv6: boolean;
  hostQos?: HostQos;
  multicastSnooping?: boolean;
  /** custom.bridge_opts parsed: sysfs option name -> value, in the order given. */
  bridgeOpts?: Record<string, string>;
  blockingdhcp: boolean;
}

export interface Bond {
  /** Sorted, so the bond's MAC does not depend on request order. */
  nics: string[];
  /** Kernel bonding options; `mode` always present, as its name (balance-rr, 802.3ad, ...). */
  options: Record<string, string>;
  switch: SwitchType;
  hwaddr?: string;
}

export interface Options {
  connectivityCheck: boolean;
  connectivityTimeout: number;
  commitOnSuccess: boolean;
}

/** A full desired (or running, or safe) config: every network and bond of the host. */
export interface Config {
  networks: Record<string, Network>;
  bondings: Record<string, Bond>;
}

/** A canonical request: a delta over the running config. */
export interface ChangeRequest {
  networks: Record<string, Network | { remove: true }>;
  bondings: Record<string, Bond | { remove: true }>;
  options: Options;
}

export const DEFAULT_MTU = 1500;
export const DEFAULT_CONNECTIVITY_TIMEOUT = 120;

export function emptyConfig(): Config {
  return { networks: {}, bondings: {} };
}

export function isRemoval(entry: object): entry is { remove: true } {
  return 'remove' in entry && entry.remove === true;
}

/** The device a network sits on (its NIC or bond), or undefined for a NIC-less network. */
export function southbound(net: Network): string | undefined {
  return net.nic ?? net.bonding;
}
