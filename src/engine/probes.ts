// The connectivity check's probes: is the default gateway answering, is a given host, does a
// TCP port accept a connection. A probe that worked before a change and fails after it (within
// the timeout: links and STP need a moment) means the change cut the host off: roll back.
import { connect } from 'node:net';
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { run } from '../sys/run.ts';

export type Probe = { kind: 'gateway' } | { kind: 'host'; address: string } | { kind: 'tcp'; address: string; port: number };

/** "gateway", "host=192.0.2.1", "tcp=192.0.2.1:22" */
export function parseProbe(text: string): Probe {
  if (text === 'gateway') return { kind: 'gateway' };
  const host = /^host=(\S+)$/.exec(text);
  if (host) return { kind: 'host', address: host[1] };
  const tcp = /^tcp=(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  if (tcp && Number(tcp[2]) <= 65535) return { kind: 'tcp', address: tcp[1].replace(/^\[|\]$/g, ''), port: Number(tcp[2]) };
  throw new NetswitchError(ErrorCode.Invalid, `bad probe "${text}"`, { path: '--probe', hint: 'use gateway, host=ADDRESS or tcp=ADDRESS:PORT' });
}

export function describeProbe(p: Probe, snapshot?: Snapshot): string {
  switch (p.kind) {
    case 'gateway':
      return `default gateway ${snapshot ? (defaultGateway(snapshot) ?? '(none)') : ''}`.trim();
    case 'host':
      return `host ${p.address}`;
    case 'tcp':
      return `tcp ${p.address}:${p.port}`;
  }
}

function defaultGateway(snapshot: Snapshot): string | undefined {
  return snapshot.routes.find((r) => r.family === 4 && r.dst === 'default' && r.table === 'main' && r.gateway)?.gateway;
}

/** One try of a probe, about a second at most. */
export async function probeOnce(p: Probe, snapshot: Snapshot): Promise<boolean> {
  switch (p.kind) {
    case 'gateway': {
      const gw = defaultGateway(snapshot);
      return gw !== undefined && ping(gw);
    }
    case 'host':
      return ping(p.address);
    case 'tcp':
      return tcpConnect(p.address, p.port, 1000);
  }
}

async function ping(address: string): Promise<boolean> {
  const r = await run(['ping', ...(address.includes(':') ? ['-6'] : []), '-n', '-q', '-c', '1', '-W', '1', address], { check: false, timeoutMs: 5000 });
  return r.code === 0;
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * After the change: every probe that worked before must work again before the deadline. Returns
 * the probes that did not.
 */
export async function regressions(probes: readonly Probe[], before: readonly boolean[], read: () => Promise<Snapshot>, timeoutMs: number): Promise<Probe[]> {
  const pending = probes.filter((_, i) => before[i]);
  const deadline = Date.now() + timeoutMs;
  while (pending.length) {
    const snapshot = await read();
    const results = await Promise.all(pending.map((p) => probeOnce(p, snapshot)));
    for (let i = results.length - 1; i >= 0; i--) if (results[i]) pending.splice(i, 1);
    if (!pending.length || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  return pending;
}
