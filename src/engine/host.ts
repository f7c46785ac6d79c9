// The engine's view of the host: the kernel through `ip -json`, Open vSwitch through OVSDB
// when its server answers, netswitch's DHCP clients. The OVSDB client and the DHCP code are
// loaded only when needed: `netswitch show` on a legacy host should not pay for them.
import { existsSync } from 'node:fs';
import { type ReadOptions, readSnapshot } from '../host/snapshot.ts';
import type { OvsSnapshot } from '../model/ovs.ts';
import type { Snapshot } from '../model/snapshot.ts';
import type { OvsdbClient } from '../ovsdb/index.ts';
import { ovsdbTarget } from '../switch/ovs/target.ts';

/**
 * Connects to OVSDB when its socket is there. Without it the host is legacy-only; a request
 * that needs OVS is then refused by validation, with the reason.
 */
export async function openOvs(): Promise<OvsdbClient | undefined> {
  const target = ovsdbTarget();
  if (target.startsWith('unix:') && !existsSync(target.slice(5))) return undefined;
  try {
    const { connectOvs } = await import('../switch/ovs/state.ts');
    return await connectOvs();
  } catch {
    return undefined;
  }
}

/** Runs fn with an OVSDB connection (or none), closed afterwards whatever happens. */
export async function withOvs<T>(fn: (ovs: OvsdbClient | undefined) => Promise<T>): Promise<T> {
  const ovs = await openOvs();
  try {
    return await fn(ovs);
  } finally {
    await ovs?.close();
  }
}

/**
 * The host as it is now: the kernel's view, OVSDB's when a client is given, and netswitch's
 * running DHCP clients when its state dir is.
 */
export function readHost(ovs?: OvsdbClient, options: Pick<ReadOptions, 'stats' | 'ipv6confDevs' | 'known' | 'after'> & { stateDir?: string } = {}): Promise<Snapshot> {
  const { stateDir, ...rest } = options;
  return readSnapshot({
    ...rest,
    readOvs: ovs ? async () => toOvsSnapshot(await (await import('../switch/ovs/state.ts')).readOvs(ovs, { stats: options.stats })) : undefined,
    readDhcp: stateDir ? async () => (await import('../ip/dhcp.ts')).runningClients(stateDir) : undefined,
  });
}

function toOvsSnapshot(state: OvsSnapshot): OvsSnapshot {
  return { layout: state.layout, bridges: state.bridges, ports: state.ports, interfaces: state.interfaces };
}
