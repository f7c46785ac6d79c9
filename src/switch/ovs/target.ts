// Where netswitch finds OVSDB, and the datapath type of the bridges it makes.
import type { OvsdbTarget } from '../../ovsdb/index.ts';

export function ovsdbTarget(): OvsdbTarget {
  return (process.env.NETSWITCH_OVSDB ?? 'unix:/var/run/openvswitch/db.sock') as OvsdbTarget;
}

export function defaultDatapath(): string {
  return process.env.NETSWITCH_OVS_DATAPATH ?? 'system';
}
