// Addresses: what a host address cannot be (multicast, loopback, a subnet's network or
// broadcast address, the gateway itself), an IPv6 gateway off the network, one static address
// on two networks (the kernel takes it twice, and replies leave by either), and IPv6 on a
// network whose MTU is too small for it.
import type { Config, Network } from '../model/config.ts';
import type { Issue } from '../model/errors.ts';
import { inSubnet, ipv4ToInt, ipv6Subnet } from '../model/ip.ts';

/** IPv6's minimum link MTU (RFC 8200): the kernel removes IPv6 from a device below it. */
export const IPV6_MIN_MTU = 1280;

/**
 * NAMED: the networks the request names (their own addresses are checked; a network applied
 * earlier that the kernel took is not refused now, or it would block every later apply).
 */
export function addressIssues(config: Config, named?: ReadonlySet<string>): Issue[] {
  const issues: Issue[] = [];
  const holders = new Map<string, string>();
  const claim = (key: string, shown: string, name: string, field: string) => {
    const other = holders.get(key);
    if (other === undefined) holders.set(key, name);
    else issues.push({ path: `networks.${name}.${field}`, message: `${shown} is also the address of network ${other}`, hint: `give each network an address of its own (or remove it from network ${other})` });
  };
  for (const [name, net] of Object.entries(config.networks)) {
    if (!named || named.has(name)) issues.push(...hostAddressIssues(net, `networks.${name}`));
    if (net.ipaddr !== undefined) claim(`4/${net.ipaddr}`, net.ipaddr, name, 'ipaddr');
    if (net.ipv6addr !== undefined) {
      const addr = net.ipv6addr.split('/')[0];
      // one spelling per address ("2001:db8:0::1" is "2001:db8::1")
      claim(`6/${ipv6Subnet(`${addr}/128`)}`, addr, name, 'ipv6addr');
    }
    if (net.mtu < IPV6_MIN_MTU) {
      const ipv6 = [
        ['ipv6addr', net.ipv6addr !== undefined],
        ['ipv6gateway', net.ipv6gateway !== undefined],
        ['ipv6autoconf', net.ipv6autoconf],
        ['dhcpv6', net.dhcpv6],
      ] as const;
      for (const [field, set] of ipv6) {
        if (!set) continue;
        issues.push({
          path: `networks.${name}.${field}`,
          message: `IPv6 needs an MTU of at least ${IPV6_MIN_MTU}, and network ${name} has mtu ${net.mtu}: the kernel removes IPv6 from such a device`,
          hint: `raise mtu to ${IPV6_MIN_MTU} or more, or drop ${field}`,
        });
      }
    }
  }
  return issues;
}

/** IPv4 ranges that hold no host address (RFC 1122, 5771, 1112): first octet from..to. */
const NOT_HOST_V4: { from: number; to: number; what: string }[] = [
  { from: 0, to: 0, what: 'an address of "this network" (0.0.0.0/8)' },
  { from: 127, to: 127, what: 'a loopback address (127.0.0.0/8)' },
  { from: 224, to: 239, what: 'a multicast address (224.0.0.0/4)' },
  { from: 240, to: 255, what: 'a reserved or broadcast address (240.0.0.0/4)' },
];

/** A network's own addresses and gateways, each checked by itself. */
function hostAddressIssues(net: Network, path: string): Issue[] {
  const issues: Issue[] = [];
  const add = (field: string, message: string, hint: string) => issues.push({ path: `${path}.${field}`, message, hint });
  if (net.ipaddr !== undefined && net.prefix !== undefined) {
    const first = Number(net.ipaddr.split('.')[0]);
    const range = NOT_HOST_V4.find((r) => first >= r.from && first <= r.to);
    if (range) add('ipaddr', `${net.ipaddr} is ${range.what}, not a host's address`, 'use a unicast address of the network');
    else if (net.prefix === 0) add('prefix', 'prefix 0 makes the whole IPv4 space this network\'s subnet (a route to everything through it)', 'use the prefix of the network\'s subnet (1-32), e.g. 24');
    else if (net.prefix <= 30) {
      const size = 2 ** (32 - net.prefix);
      const offset = ipv4ToInt(net.ipaddr) % size;
      if (offset === 0) add('ipaddr', `${net.ipaddr} is the network address of ${net.ipaddr}/${net.prefix}`, 'use an address inside the subnet, e.g. the first one after it');
      else if (offset === size - 1) add('ipaddr', `${net.ipaddr} is the broadcast address of ${net.ipaddr}/${net.prefix}`, 'use an address inside the subnet, below its broadcast address');
    }
    if (net.gateway !== undefined && net.gateway === net.ipaddr) add('gateway', `the gateway ${net.gateway} is the network's own address`, 'use the router\'s address, or drop the gateway');
  }
  if (net.ipv6gateway !== undefined && net.ipv6addr !== undefined) {
    const gateway = net.ipv6gateway;
    // A link-local gateway is on every link (routers advertise themselves by it).
    const linkLocal = inSubnet(gateway, 'fe80::/10');
    if (!linkLocal && !inSubnet(gateway, net.ipv6addr)) {
      add('ipv6gateway', `IPv6 gateway ${gateway} is outside ${net.ipv6addr}`, 'use a gateway inside the network\'s IPv6 subnet, or the router\'s link-local address (fe80::...)');
    } else if (ipv6Subnet(`${gateway}/128`) === ipv6Subnet(`${net.ipv6addr.split('/')[0]}/128`)) {
      add('ipv6gateway', `the IPv6 gateway ${gateway} is the network's own address`, 'use the router\'s address, or drop ipv6gateway');
    }
  }
  return issues;
}
