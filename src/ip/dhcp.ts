// DHCP clients netswitch runs: one dhclient per interface and address family, with its own
// script (src/ip/dhclient-script), lease, pid and config files under the state dir, so that it
// never touches anything but its interface, its network's routing table and the managed
// resolv.conf. Starting one waits for the lease (blocking DHCP) and fails without one, unless
// the network says `blockingdhcp: false`: then the client goes to the background at once and
// keeps asking, as VDSM does.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import type { DhcpClient } from '../model/snapshot.ts';
import { liveProcess } from '../sys/process.ts';
import { run } from '../sys/run.ts';
import { resolvConfPath } from './resolv.ts';

const SCRIPT = join(import.meta.dirname, 'dhclient-script');
/** Below the static rules (32000): a static network's source route wins over a lease's. */
export const DHCP_RULE_PRIORITY = 32001;

export type { DhcpClient };

export function dhcpTimeout(): number {
  return Number(process.env.NETSWITCH_DHCP_TIMEOUT ?? 60);
}

function files(stateDir: string, c: Pick<DhcpClient, 'dev' | 'family'>) {
  const base = join(stateDir, 'dhcp', `${c.dev}.${c.family}`);
  // nameservers: the script's own (dhclient-script set_nameservers), for the union it writes.
  return { lease: `${base}.lease`, pid: `${base}.pid`, conf: `${base}.conf`, params: `${base}.json`, nameservers: `${base}.nameservers` };
}

/**
 * Starts the client and (unless c.wait is false) waits for its lease; on failure nothing is
 * left running.
 */
export async function startDhcp(stateDir: string, c: DhcpClient): Promise<void> {
  const f = files(stateDir, c);
  await mkdir(join(stateDir, 'dhcp'), { recursive: true });
  const timeout = dhcpTimeout();
  // dhclient.conf: how long to try; what to ask for is dhclient's default set.
  await writeFile(f.conf, `timeout ${timeout};\nretry 60;\ninitial-interval 1;\n`);
  await writeFile(f.params, JSON.stringify(c));
  // A servers file a client of this interface and family left behind (killed, or before a
  // reboot) stays: the script's first bind reads it, so those servers leave resolv.conf
  // (without it they would look like static ones and stay for good).
  if (c.family === 6) await linkLocalReady(c.dev, timeout);
  const background = c.wait === false;
  const argv = ['dhclient', `-${c.family}`, background ? '-nw' : '-1', '-cf', f.conf, '-sf', SCRIPT, '-lf', f.lease, '-pf', f.pid, ...scriptEnv(stateDir, c), c.dev];
  const r = await run(argv, { check: false, timeoutMs: (timeout + 15) * 1000 });
  // In the background, the daemon writes its pid file just after the command returns.
  if (r.code === 0 && background && !(await pidFileWithin(f.pid, 5000))) {
    await stopDhcp(stateDir, c);
    throw new NetswitchError(ErrorCode.Host, `the DHCPv${c.family === 4 ? 4 : 6} client on ${c.dev} did not start`, { hint: 'see the system log for dhclient', context: { stderr: r.stderr.slice(-2000) } });
  }
  if (r.code !== 0) {
    await stopDhcp(stateDir, c);
    throw new NetswitchError(ErrorCode.Host, `no DHCPv${c.family === 4 ? 4 : 6} lease on ${c.dev} within ${timeout} s`, {
      hint: 'check that a DHCP server answers on that network (NETSWITCH_DHCP_TIMEOUT sets how long to wait)',
      context: { stderr: r.stderr.slice(-2000) },
    });
  }
}

async function pidFileWithin(pidFile: string, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; !isRunning(pidFile); ) {
    if (Date.now() >= deadline) return false;
    await new Promise((res) => setTimeout(res, 20));
  }
  return true;
}

/**
 * DHCPv6 talks from the link-local address, which stays tentative until duplicate address
 * detection is done (seconds on an interface just brought up); dhclient -6 fails before that.
 */
async function linkLocalReady(dev: string, timeoutS: number): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const r = await run(['ip', '-6', '-json', 'addr', 'show', 'dev', dev, 'scope', 'link'], { check: false });
    const infos: { tentative?: boolean }[] = r.code === 0 ? ((JSON.parse(r.stdout || '[]') as { addr_info?: { tentative?: boolean }[] }[])[0]?.addr_info ?? []) : [];
    if (infos.some((a) => !a.tentative)) return;
    if (Date.now() >= deadline) return; // dhclient will say what is wrong
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** What the script needs to know, passed with -e (dhclient gives its script no other environment). */
function scriptEnv(stateDir: string, c: DhcpClient): string[] {
  return [
    ['NETSWITCH_DHCP_DIR', join(stateDir, 'dhcp')],
    ['NETSWITCH_DEFAULT_ROUTE', c.defaultRoute ? '1' : '0'],
    ['NETSWITCH_TABLE', c.table],
    ['NETSWITCH_RULE_PRIORITY', String(DHCP_RULE_PRIORITY)],
    ['NETSWITCH_RESOLV_CONF', resolvConfPath()],
  ].flatMap(([k, v]) => ['-e', `${k}=${v}`]);
}

/**
 * Stops the client. The stopping dhclient runs the script (reason STOP), which removes the
 * address, table and rule the lease had set: it gets the same -e environment.
 */
export async function stopDhcp(stateDir: string, c: DhcpClient): Promise<void> {
  const f = files(stateDir, c);
  if (isRunning(f.pid)) {
    await run(['dhclient', `-${c.family}`, '-x', '-sf', SCRIPT, '-pf', f.pid, '-lf', f.lease, ...scriptEnv(stateDir, c), c.dev], { check: false, timeoutMs: 15_000 });
  }
  // The lease file stays: it holds the client's DUID, so a client started again (a rollback)
  // is the same client to the server and gets the same address back.
  // (The stopping client's script took its nameservers out of resolv.conf and removed its
  // nameserver file; one left by a client that died is removed here.)
  await Promise.all([f.pid, f.conf, f.params, f.nameservers].map((file) => rm(file, { force: true })));
}

/** The clients of ours that run now. */
export async function runningClients(stateDir: string): Promise<DhcpClient[]> {
  const dir = join(stateDir, 'dhcp');
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: DhcpClient[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const c = JSON.parse(await readFile(join(dir, name), 'utf8')) as DhcpClient;
    if (isRunning(files(stateDir, c).pid)) out.push(c);
  }
  return out;
}

function isRunning(pidFile: string): boolean {
  if (!existsSync(pidFile)) return false;
  // A stale pid file may name a pid reused by something else: it must be a dhclient.
  return liveProcess(Number(readFileSync(pidFile, 'utf8').trim()))?.comm === 'dhclient';
}
