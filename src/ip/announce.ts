// After an address appears on a device (a new network, one moved to another switch, a bridge
// re-created) neighbours may still map it to an old MAC, or a switch's table to another port:
// a gratuitous ARP tells them at once, as network managers do. It is best effort and must not
// slow the apply down — one arping process per address costs ~20 ms to start and lingers ~1 s —
// so one detached announcer process (this file, run as a program) sends them all, a few at a
// time, after netswitch has returned. Its program is announce-main.ts (dist/announce.js when built).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchFed, run } from '../sys/run.ts';

export interface Announcement {
  dev: string;
  cidr: string;
}

const CONCURRENCY = 16;

/** The announcer's program: the source next to this file, or the build's own entry. */
const PROGRAM = join(import.meta.dirname, import.meta.filename.endsWith('.ts') ? 'announce-main.ts' : 'announce.js');

/** IPv6 neighbours learn from the unsolicited NAs the kernel sends: only IPv4 is announced. */
function ipv4(addresses: readonly Announcement[]): Announcement[] {
  return addresses.filter((a) => !a.cidr.includes(':'));
}

/**
 * Starts the announcer for addresses an apply is about to add (none to announce: nothing
 * starts), and returns how to hand them over once the apply has kept them. The process starts
 * now, while the steps run (starting a process costs the main thread ~4 ms), and waits for its
 * list on stdin; an apply that fails, or a netswitch that dies, closes that stdin with nothing
 * written, and the announcer exits doing nothing.
 */
export function startAnnouncer(addresses: readonly Announcement[]): { announce(): void; cancel(): void } {
  const list = ipv4(addresses);
  if (list.length === 0) return { announce: () => {}, cancel: () => {} };
  // At the lowest priority: its start-up (a Node process loading, ~40 ms of CPU) must not take
  // a CPU from the steps' ip processes, which it would on a host with few CPUs.
  const announcer = launchFed([process.execPath, '--disable-warning=ExperimentalWarning', PROGRAM], { nice: 19 });
  return { announce: () => announcer.feed(JSON.stringify(list)), cancel: () => announcer.close() };
}

/**
 * Sends one gratuitous ARP per address, a few at a time (the announcer process's work), each
 * once its device is up: a bridge just made, or a NIC brought up for the first time, has no
 * carrier for a moment (linkwatch), and an ARP sent then is lost.
 */
export async function announceAll(list: Announcement[]): Promise<void> {
  const ready = new Map<string, Promise<boolean>>();
  const deviceUp = (dev: string) => {
    let up = ready.get(dev);
    if (!up) ready.set(dev, (up = waitUp(dev, Date.now() + UP_WAIT_MS)));
    return up;
  };
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const { dev, cidr } = list[next++];
      if (!(await deviceUp(dev))) continue; // gone
      await run(['arping', '-q', '-U', '-c', '1', '-I', dev, cidr.split('/')[0]], { check: false, timeoutMs: 5000 }).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker));
}

/** How long a device may take to come up (a bridge with STP waits two forward delays: 30 s). */
const UP_WAIT_MS = 35_000;

/**
 * Whether DEV is there, once it is operationally up (or says "unknown", as devices without
 * carrier reporting do) or the deadline has passed; false when it is gone.
 */
async function waitUp(dev: string, deadline: number): Promise<boolean> {
  for (;;) {
    let state: string;
    try {
      state = (await readFile(`/sys/class/net/${dev}/operstate`, 'utf8')).trim();
    } catch {
      return false;
    }
    if (state === 'up' || state === 'unknown' || Date.now() > deadline) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
