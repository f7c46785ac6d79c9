// After an address moves to another device (a network changes switch, or a bridge is
// re-created) the neighbours still map it to the old MAC. A gratuitous ARP tells them at once;
// it is best effort and not waited for (arping lingers ~1 s after sending).
import { launch } from '../sys/run.ts';

export function announceAddresses(addresses: readonly { dev: string; cidr: string }[]): void {
  for (const { dev, cidr } of addresses) {
    const [ip] = cidr.split('/');
    if (ip.includes(':')) continue; // IPv6 neighbours learn from unsolicited NAs the kernel sends
    launch(['arping', '-q', '-U', '-c', '1', '-I', dev, ip]);
  }
}
