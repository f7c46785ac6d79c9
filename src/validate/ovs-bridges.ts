// The OVS networks of one NIC or bond share its OVS bridge: what is a bridge setting there
// (the spanning tree protocol, multicast snooping) must not be asked two ways, and OVS treats
// VLAN tag 0 as untagged, so a VLAN 0 network would share the untagged network's segment.
// custom.bridge_opts are Linux bridge (sysfs) options: refused on OVS, never dropped.
import { type Config, type Network, southbound } from '../model/config.ts';
import type { Issue } from '../model/errors.ts';

/** `named`: the networks the request names (a running network is not refused again). */
export function ovsBridgeIssues(config: Config, named?: ReadonlySet<string>): Issue[] {
  const issues: Issue[] = [];
  const bridges = new Map<string, [string, Network][]>();
  for (const [name, net] of Object.entries(config.networks)) {
    if (net.switch === 'ovs' && net.bridgeOpts && (!named || named.has(name))) issues.push(bridgeOptsOnOvs(name, net.bridgeOpts));
    const sb = southbound(net);
    if (net.switch !== 'ovs' || sb === undefined) continue;
    bridges.set(sb, [...(bridges.get(sb) ?? []), [name, net]]);
  }
  for (const [sb, nets] of bridges) {
    // One spanning tree protocol per bridge: RSTP beside STP is refused (an explicit stp: false
    // beside either is refused where the request is read: canonicalize.ts).
    const rstp = nets.find(([, n]) => n.stp === 'rstp');
    if (rstp) {
      for (const [name, net] of nets) {
        if (net.stp === true) {
          issues.push({ path: `networks.${name}.stp`, message: `${sb}'s OVS bridge also carries network ${rstp[0]} with stp: rstp; one bridge runs one spanning tree protocol`, hint: `use the same stp (rstp or true) on every network of ${sb}` });
        }
      }
    }
    // Multicast snooping: networks that say nothing follow the bridge; two that say differently
    // cannot both be right. The one the request did not name (if any) is taken as the bridge's.
    const snooping = nets.filter(([, n]) => n.multicastSnooping !== undefined);
    const ref = snooping.find(([name]) => named && !named.has(name)) ?? snooping[0];
    for (const [name, net] of snooping) {
      if (ref && net.multicastSnooping !== ref[1].multicastSnooping) {
        issues.push({
          path: `networks.${name}.multicastSnooping`,
          message: `${sb}'s OVS bridge also carries network ${ref[0]} with multicastSnooping: ${ref[1].multicastSnooping}; one bridge has one multicast snooping setting`,
          hint: `use the same multicastSnooping on every network of ${sb}, or leave it out on all but one`,
        });
      }
    }
    const untagged = nets.find(([, n]) => n.vlan === undefined);
    if (untagged) {
      for (const [name, net] of nets) {
        if (net.vlan !== 0) continue;
        issues.push({
          path: `networks.${name}.vlan`,
          message: `Open vSwitch treats VLAN 0 as untagged: network ${name} would share one segment of ${sb} with untagged network ${untagged[0]}`,
          hint: `use another VLAN id, or put network ${name} on another NIC or bond (on a legacy host VLAN 0 is a tag of its own)`,
        });
      }
    }
  }
  return issues;
}

/**
 * Where a Linux bridge option has a counterpart in the request (stp, multicastSnooping) the hint
 * names it. The rest (timers, priorities, multicast_router, group_addr, ...) are not mapped: OVS's
 * STP/RSTP timers and priorities are per-bridge other_config keys with other units and ranges,
 * and the networks of one NIC share one OVS bridge, so a per-network option has no clean home.
 */
function bridgeOptsOnOvs(name: string, opts: Readonly<Record<string, string>>): Issue {
  const keys = Object.keys(opts);
  const fields: Record<string, string> = { stp_state: 'stp: true|false|rstp', multicast_snooping: 'multicastSnooping: true|false' };
  const instead = keys.filter((k) => k in fields).map((k) => `${k} -> ${fields[k]}`);
  return {
    path: `networks.${name}.custom.bridge_opts`,
    message: `custom.bridge_opts (${keys.join(', ')}) are Linux bridge options, and network ${name} is on Open vSwitch, which would not apply them`,
    hint: `drop custom.bridge_opts${instead.length ? ` and use the network's own fields (${instead.join('; ')})` : ''}, or use switch: legacy`,
  };
}
