// The OVS networks of one NIC or bond share its OVS bridge: what is a bridge setting there
// (the spanning tree protocol, multicast snooping) must not be asked two ways, and OVS treats
// VLAN tag 0 as untagged, so a VLAN 0 network would share the untagged network's segment.
import { type Config, type Network, southbound } from '../model/config.ts';
import type { Issue } from '../model/errors.ts';

export function ovsBridgeIssues(config: Config, named?: ReadonlySet<string>): Issue[] {
  const issues: Issue[] = [];
  const bridges = new Map<string, [string, Network][]>();
  for (const [name, net] of Object.entries(config.networks)) {
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
