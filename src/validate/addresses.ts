// Addresses across networks: one static address on two networks (the kernel takes it twice,
// and replies leave by either), and IPv6 on a network whose MTU is too small for it.
import type { Config } from '../model/config.ts';
import type { Issue } from '../model/errors.ts';
import { ipv6Subnet } from '../model/ip.ts';

/** IPv6's minimum link MTU (RFC 8200): the kernel removes IPv6 from a device below it. */
export const IPV6_MIN_MTU = 1280;

export function addressIssues(config: Config): Issue[] {
  const issues: Issue[] = [];
  const holders = new Map<string, string>();
  const claim = (key: string, shown: string, name: string, field: string) => {
    const other = holders.get(key);
    if (other === undefined) holders.set(key, name);
    else issues.push({ path: `networks.${name}.${field}`, message: `${shown} is also the address of network ${other}`, hint: `give each network an address of its own (or remove it from network ${other})` });
  };
  for (const [name, net] of Object.entries(config.networks)) {
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
