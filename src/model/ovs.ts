// Open vSwitch as netswitch models it: the bridges, ports and interfaces of a layout (what a
// config needs, or netswitch's rows as OVSDB has them), and the OVS part of a host snapshot.

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
  bond_mode?: string;
  lacp?: string;
  bond_updelay?: number;
  bond_downdelay?: number;
  other_config?: Record<string, string>;
}

export interface OvsPortSpec extends OvsPortAttrs {
  name: string;
  interfaces: OvsInterfaceSpec[];
}

export interface OvsBridgeAttrs {
  stp: boolean;
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
}

export interface OvsSnapshot {
  /** netswitch's own bridges (external_ids marks them), as a layout. */
  layout: OvsLayout;
  /** Every bridge, port and interface, netswitch's or not. */
  bridges: Record<string, { name: string; datapath: string; ports: string[]; owned: boolean; stp: boolean; mcastSnooping: boolean }>;
  ports: Record<string, { name: string; bridge: string; interfaces: string[]; tag?: number; owned: boolean }>;
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
