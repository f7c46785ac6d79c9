// What configuration decides about a host's links, from `ip -d -json addr show`: the equality a
// rollback must keep (ifindexes, counters, timers, STP and LACP negotiation, IPv6 link-local
// addresses left out). Shared by the host and kernel tiers; independent of netswitch's reader.

// ip's JSON is loosely typed; the fields used are named here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const VOLATILE = /timer|^root_|^bridge_id|^topology_change|active_slave|ad_info/;

/**
 * The devices of OVS's datapaths: ovs-vswitchd makes them (with a random MAC) when the first
 * bridge of a datapath comes and deletes them with the last one; not configuration.
 */
const OVS_DATAPATH = new Set(['ovs-system', 'ovs-netdev']);

export function configuredLinks(links: readonly Json[]): Json[] {
  // A bridge without ports has a random MAC that no neighbour knows: not configuration (a
  // rollback re-creates such a bridge without one, so that it has carrier).
  const masters = new Set(links.map((l) => l.master).filter((m) => m !== undefined));
  return links
    .filter((l) => !OVS_DATAPATH.has(l.ifname))
    .map((l) => ({
      name: l.ifname,
      kind: l.linkinfo?.info_kind ?? '',
      master: l.master ?? null,
      mtu: l.mtu,
      mac: l.linkinfo?.info_kind === 'bridge' && !masters.has(l.ifname) ? '(port-less bridge)' : l.address,
      up: l.flags.includes('UP'),
      info: Object.fromEntries(Object.entries(l.linkinfo?.info_data ?? {}).filter(([k]) => !VOLATILE.test(k))),
      addrs: (l.addr_info ?? []).filter((a: Json) => a.scope !== 'link').map((a: Json) => `${a.local}/${a.prefixlen}`).sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
