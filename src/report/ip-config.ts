// The IP part of a network's kernel_config entry, the same on both switches: what a request
// would have to say for the host to have the addresses, routes and autoconfiguration it has.
import type { IpInfo } from '../model/report.ts';
import type { Link, Snapshot } from '../model/snapshot.ts';
import { mainGateway, networkGateway } from './gateways.ts';

export function ipConfigOf(snapshot: Snapshot, network: string, link: Link | undefined, info: IpInfo, nameservers: readonly string[]): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  const dev = link?.name ?? network;
  entry.bootproto = info.dhcpv4 ? 'dhcp' : 'none';
  const static4 = link?.addresses.find((a) => a.family === 4 && !a.dynamic);
  if (static4) {
    const [addr, prefix] = static4.cidr.split('/');
    entry.ipaddr = addr;
    entry.prefix = Number(prefix);
  }
  const static6 = link?.addresses.find((a) => a.family === 6 && !a.dynamic);
  if (static6) entry.ipv6addr = static6.cidr;
  // Only routes a request makes: a lease's gateway comes with the lease, a router
  // advertisement's with autoconfiguration.
  const gateway = info.dhcpv4 ? '' : networkGateway(snapshot, network, dev, 4, true);
  const ipv6gateway = networkGateway(snapshot, network, dev, 6, true);
  if (gateway) entry.gateway = gateway;
  if (ipv6gateway) entry.ipv6gateway = ipv6gateway;
  if (info.ipv6autoconf) entry.ipv6autoconf = true;
  if (info.dhcpv6) entry.dhcpv6 = true;
  entry.defaultRoute = mainGateway(snapshot, dev, 4, true) !== '' || mainGateway(snapshot, dev, 6, true) !== '';
  // A DHCPv4 network's nameservers come with its lease (a request's are not used then).
  if (entry.defaultRoute && nameservers.length && !info.dhcpv4) entry.nameservers = [...nameservers];
  return entry;
}
