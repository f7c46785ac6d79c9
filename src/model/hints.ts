// What to do about a bad field: one sentence per field, looked up by the last path element.
const FIELD_HINTS: Record<string, string> = {
  nic: 'name an existing NIC, e.g. nic: eth1',
  bonding: 'name a bond of this request or of the host, e.g. bonding: bond0',
  vlan: 'use a VLAN id from 0 to 4094',
  bridged: 'use true (a VM network with a bridge) or false',
  stp: 'use true (STP), false, or rstp (rapid spanning tree, switch: ovs only); yes/no and on/off are taken too',
  STP: 'use stp (STP is VDSM\'s legacy spelling of it): true, false, or rstp',
  mtu: 'use an MTU from 68 to 65535, e.g. 1500 or 9000',
  switch: 'use legacy (Linux bridge/bond/VLAN) or ovs',
  bootproto: 'use none (static or no address) or dhcp',
  ipaddr: 'use an IPv4 address like 192.0.2.10, with prefix or netmask',
  netmask: 'use a netmask like 255.255.255.0, or prefix: 24',
  prefix: 'use a prefix length from 0 to 32',
  gateway: 'use an IPv4 address in the network\'s subnet',
  defaultRoute: 'use true on at most one network',
  nameservers: 'use a list of IP addresses, e.g. [192.0.2.53]',
  ipv6addr: 'write it as address/prefix, e.g. 2001:db8::10/64',
  ipv6gateway: 'use an IPv6 address like 2001:db8::1',
  ipv6autoconf: 'use true or false',
  dhcpv6: 'use true or false',
  hostQos: 'give out: { ls|ul|rt: { m2 (bit/s), optional m1 (bit/s) and d (µs) } }',
  multicastSnooping: 'use true or false',
  nics: 'list the bond\'s NICs, e.g. nics: [eth1, eth2]',
  options: 'kernel bonding options as key=value separated by spaces, e.g. "mode=802.3ad miimon=100"',
  hwaddr: 'use a unicast MAC address like 52:54:00:aa:bb:cc (first octet even, not all zeros)',
  connectivityCheck: 'use true or false',
  connectivityTimeout: 'use a number of seconds, e.g. 120',
  commitOnSuccess: 'use true or false',
  bridge_opts: 'write bridge options as key=value separated by spaces, e.g. "forward_delay=0"',
  ovs: 'use switch: ovs (custom.ovs: "true" is the old spelling of it)',
  default_route: 'use defaultRoute: true or false (custom.default_route is deprecated)',
  remove: 'use remove: true alone to remove the entry',
};

/** The hint for a problem at PATH: with a field (unknown: its name), or with an entry's name. */
export function hintFor(path: string, kind?: 'unknown' | 'name'): string {
  const parts = path.split('.');
  const field = parts[parts.length - 1];
  if (kind === 'unknown') return `remove "${field}" or check its spelling against STATE-FORMAT (netswitch schema lists every field)`;
  if (kind === 'name' && parts[0] === 'networks') return 'a network name is 1-15 characters of letters, digits, _ . - not starting with -';
  if (kind === 'name' && parts[0] === 'bondings') return 'a bond name is "bond" followed by letters, digits or _, e.g. bond0';
  // The entry itself is not a mapping of fields.
  if (parts.length === 2 && parts[0] === 'networks') return `give the network's fields, e.g. ${field}: { nic: eth1, vlan: 100 }, or ${field}: { remove: true } to remove it`;
  if (parts.length === 2 && parts[0] === 'bondings') return `give the bond's fields, e.g. ${field}: { nics: [eth1, eth2] }, or ${field}: { remove: true } to remove it`;
  if (/^\d+$/.test(field) && parts.length > 1) return FIELD_HINTS[parts[parts.length - 2]] ?? 'check the value';
  return FIELD_HINTS[field] ?? 'check the value against the format in README';
}
