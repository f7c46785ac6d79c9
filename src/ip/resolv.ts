// The host's DNS servers live in a resolv.conf (default /etc/resolv.conf; NETSWITCH_RESOLV_CONF
// points elsewhere, as the sandbox does). netswitch owns only its `nameserver` lines: search,
// options and comments are kept as they are.
import { readFile, writeFile } from 'node:fs/promises';

export function resolvConfPath(): string {
  return process.env.NETSWITCH_RESOLV_CONF ?? '/etc/resolv.conf';
}

export async function readNameservers(path = resolvConfPath()): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
    .filter((s): s is string => s !== undefined);
}

/** Replaces the nameserver lines, in place (resolv.conf may be a link that must stay one). */
export async function writeNameservers(nameservers: readonly string[], path = resolvConfPath()): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const kept = text.split('\n').filter((line) => line !== '' && !/^\s*nameserver\s/.test(line));
  await writeFile(path, [...kept, ...nameservers.map((n) => `nameserver ${n}`)].map((l) => `${l}\n`).join(''));
}
