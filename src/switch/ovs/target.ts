// Where netswitch finds OVSDB and ovs-vswitchd's bridges, and the datapath type of the bridges
// it makes.
import { dirname } from 'node:path';
import type { OvsdbTarget } from '../../ovsdb/index.ts';

export function ovsdbTarget(): OvsdbTarget {
  return (process.env.NETSWITCH_OVSDB ?? 'unix:/var/run/openvswitch/db.sock') as OvsdbTarget;
}

export function defaultDatapath(): string {
  return process.env.NETSWITCH_OVS_DATAPATH || 'system'; // '' is OVS's spelling of system
}

/**
 * Where ovs-ofctl reaches BRIDGE: its management socket in OVS's run directory (OVS_RUNDIR, as
 * OVS's own tools take it; else the directory of NETSWITCH_OVSDB's socket; else OVS's default).
 */
export function ofctlTarget(bridge: string): string {
  const db = ovsdbTarget();
  const rundir = process.env.OVS_RUNDIR ?? (db.startsWith('unix:') ? dirname(db.slice('unix:'.length)) : '/var/run/openvswitch');
  return `unix:${rundir}/${bridge}.mgmt`;
}
