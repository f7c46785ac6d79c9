// After an address appears on a device (a new network, one moved to another switch, a bridge
// re-created) neighbours may still map it to an old MAC, or a switch's table to another port:
// a gratuitous ARP tells them at once, as network managers do. It is best effort and must not
// slow the apply down — one arping process per address costs ~20 ms to start and lingers ~1 s —
// so one detached announcer process (this file, run as a program) sends them all, a few at a
// time, after netswitch has returned. Its program is announce-main.ts (dist/announce.js when built).
import { join } from 'node:path';
import { launch, run } from '../sys/run.ts';

export interface Announcement {
  dev: string;
  cidr: string;
}

const CONCURRENCY = 16;

/** The announcer's program: the source next to this file, or the build's own entry. */
const PROGRAM = join(import.meta.dirname, import.meta.filename.endsWith('.ts') ? 'announce-main.ts' : 'announce.js');

export function announceAddresses(addresses: readonly Announcement[]): void {
  const v4 = addresses.filter((a) => !a.cidr.includes(':')); // IPv6 neighbours learn from the unsolicited NAs the kernel sends
  if (v4.length === 0) return;
  launch([process.execPath, '--disable-warning=ExperimentalWarning', PROGRAM, JSON.stringify(v4)]);
}

/** Sends one gratuitous ARP per address, a few at a time (the announcer process's work). */
export async function announceAll(list: Announcement[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const { dev, cidr } = list[next++];
      await run(['arping', '-q', '-U', '-c', '1', '-I', dev, cidr.split('/')[0]], { check: false, timeoutMs: 5000 }).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker));
}
