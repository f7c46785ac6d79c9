// A sandbox host: a fake host made of network namespaces with its own private Open vSwitch,
// which the demo and the host-tier tests run netswitch against. The host namespace holds the
// NICs (eth0..) and ovs-vswitchd; the wire namespace holds the far ends of the NICs' veth
// pairs (peer0..) and stands for the switch ports or peers the host is cabled to. Nothing of
// a sandbox ever appears in the root namespace: links are created directly inside the
// namespaces, and only ovsdb-server (a unix socket, no links) runs outside them.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, NetswitchError, isNetswitchError } from '../model/errors.ts';
import { liveProcess } from '../sys/process.ts';
import { run, runJson } from '../sys/run.ts';
import { type OvsPids, ovsDaemonPids, ovsEnv, ovsdbSocket, startOvs } from './ovs.ts';

export interface Sandbox {
  name: string;
  /** The host's network namespace: its NICs, bridges, addresses and ovs-vswitchd. */
  hostNs: string;
  /** The other ends of the NICs' cables. */
  wireNs: string;
  /** Everything on disk: `<root>/<name>`. */
  dir: string;
  /** netswitch's state dir for this host. */
  stateDir: string;
  /** The private OVS's database, socket, pidfiles, control sockets and logs. */
  ovsDir: string;
  /** NIC names in the host namespace, eth0.. */
  nics: string[];
  /** Their veth peers in the wire namespace, peer0.. (peers[i] is cabled to nics[i]). */
  peers: string[];
  ovsdbSocket: string;
  pids: Partial<OvsPids>;
}

export interface UpOptions {
  /** How many NICs the host gets (default 4). */
  nics?: number;
  /** Start a private Open vSwitch (default true). */
  ovs?: boolean;
}

export type Side = 'host' | 'wire';

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,11}$/;
const MAX_NICS = 64;
const NS_PREFIX = 'nsw-';
const WIRE_SUFFIX = '-wire';
const RECORD_FILE = 'sandbox.json';
const STOP_GRACE_MS = 2_000;

export function sandboxRoot(): string {
  return process.env.NETSWITCH_SANDBOX_ROOT ?? '/run/netswitch-sandbox';
}

export function validateSandboxName(name: string): void {
  // Namespace names are derived by appending `-wire`, so a name ending in it would make
  // `list` unable to tell a host namespace from another sandbox's wire namespace.
  if (!NAME_RE.test(name) || name.endsWith(WIRE_SUFFIX)) {
    throw new NetswitchError(ErrorCode.Sandbox, `invalid sandbox name '${name}'`, {
      hint: `use 1-12 characters of a-z, 0-9 and '-', starting with a letter or digit and not ending in '${WIRE_SUFFIX}' (e.g. demo1)`,
    });
  }
}

/** Create (or re-create) the sandbox host NAME; leftovers of the same name are removed first. */
export async function up(name: string, options: UpOptions = {}): Promise<Sandbox> {
  validateSandboxName(name);
  const nicCount = options.nics ?? 4;
  if (!Number.isInteger(nicCount) || nicCount < 0 || nicCount > MAX_NICS) {
    throw new NetswitchError(ErrorCode.Sandbox, `a sandbox host has 0-${MAX_NICS} NICs, not ${nicCount}`, {
      hint: 'pass a whole number of NICs, e.g. 4',
    });
  }
  if (process.getuid?.() !== 0) {
    throw new NetswitchError(ErrorCode.Sandbox, 'creating a sandbox host needs root', {
      hint: 'run it as root: it creates network namespaces and starts Open vSwitch',
    });
  }
  await down(name);
  const sb = sandboxRecord(name, nicCount);
  try {
    await build(sb);
    if (options.ovs ?? true) sb.pids = await startOvs(sb.ovsDir, sb.hostNs);
    await writeFile(join(sb.dir, RECORD_FILE), `${JSON.stringify(sb, null, 2)}\n`);
  } catch (e) {
    await down(name).catch(() => {}); // the first error is the one worth reporting
    throw new NetswitchError(ErrorCode.Sandbox, `cannot create sandbox ${name}: ${(e as Error).message}`, {
      hint: (isNetswitchError(e) && e.hint) || 'the partial sandbox was removed; see the message for the cause',
      cause: e,
    });
  }
  return sb;
}

/** Remove the sandbox NAME: its processes, links, namespaces and directory. A no-op if nothing is there. */
export async function down(name: string): Promise<void> {
  validateSandboxName(name); // the name becomes a path we remove recursively
  const dir = join(sandboxRoot(), name);
  const present = await namespaces();
  const nss = [hostNsOf(name), wireNsOf(name)].filter((ns) => present.has(ns));

  // The OVS daemons by their pidfiles first: ovsdb-server runs in the root namespace.
  await stopProcesses(await ovsDaemonPids(join(dir, 'ovs'), await recordedPids(dir)));
  // Then whatever still runs inside (dhclient, dnsmasq, iperf3 a test started); a second
  // look catches anything a dying process started (dhclient runs its script on SIGTERM).
  for (let round = 0; round < 3; round++) {
    const pids = (await Promise.all(nss.map(namespacePids))).flat();
    if (pids.length === 0) break;
    await stopProcesses(pids);
  }
  // OVS's userspace tap devices outlive ovs-vswitchd, and a namespace deleted with many
  // links in it stalls the kernel: delete the links first, one batch per namespace.
  for (const ns of nss) await deleteLinks(ns);
  for (const ns of nss) await run(['ip', 'netns', 'del', ns]);
  await rm(dir, { recursive: true, force: true });
}

/** The sandboxes present: directories under the root and namespaces named nsw-*. */
export async function list(): Promise<string[]> {
  const names = new Set<string>();
  try {
    for (const entry of await readdir(sandboxRoot(), { withFileTypes: true })) {
      if (entry.isDirectory()) names.add(entry.name);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const ns of await namespaces()) {
    if (!ns.startsWith(NS_PREFIX)) continue;
    const rest = ns.slice(NS_PREFIX.length);
    names.add(rest.endsWith(WIRE_SUFFIX) ? rest.slice(0, -WIRE_SUFFIX.length) : rest);
  }
  return [...names].filter((n) => NAME_RE.test(n) && !n.endsWith(WIRE_SUFFIX)).sort();
}

/** The record `up` wrote for NAME. */
export async function load(name: string): Promise<Sandbox> {
  validateSandboxName(name);
  const file = join(sandboxRoot(), name, RECORD_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NetswitchError(ErrorCode.Sandbox, `no sandbox named ${name} (${file} is missing)`, {
      hint: `run: netswitch sandbox up ${name}`,
      cause: e,
    });
  }
  const sb = JSON.parse(text) as Sandbox;
  if (sb.name !== name) {
    throw new NetswitchError(ErrorCode.Sandbox, `${file} describes sandbox '${sb.name}', not '${name}'`, {
      hint: `re-create it: netswitch sandbox up ${name}`,
    });
  }
  return sb;
}

/** The environment that points netswitch and the OVS tools (ovs-vsctl, ovs-appctl) at this sandbox. */
export function sandboxEnv(sb: Sandbox): Record<string, string> {
  return {
    NETSWITCH_STATE_DIR: sb.stateDir,
    NETSWITCH_SANDBOX: sb.name,
    NETSWITCH_OVSDB: `unix:${sb.ovsdbSocket}`,
    NETSWITCH_OVS_DATAPATH: 'netdev', // the sandbox has no kernel datapath module
    NETSWITCH_OVS_RUNDIR: sb.ovsDir,
    NETSWITCH_RESOLV_CONF: join(sb.dir, 'resolv.conf'),
    ...ovsEnv(sb.ovsDir),
  };
}

/** argv that runs ARGV inside one of the sandbox's namespaces with its environment. */
export function execArgv(sb: Sandbox, argv: readonly string[], ns: Side = 'host'): string[] {
  const env = Object.entries(sandboxEnv(sb)).map(([key, value]) => `${key}=${value}`);
  return ['ip', 'netns', 'exec', ns === 'host' ? sb.hostNs : sb.wireNs, 'env', ...env, ...argv];
}

/** Whether PID is a live process (a zombie counts as gone: nothing may reap it here). */
export async function isRunning(pid: number): Promise<boolean> {
  return liveProcess(pid) !== undefined;
}

function hostNsOf(name: string): string {
  return `${NS_PREFIX}${name}`;
}

function wireNsOf(name: string): string {
  return `${NS_PREFIX}${name}${WIRE_SUFFIX}`;
}

function sandboxRecord(name: string, nicCount: number): Sandbox {
  const dir = join(sandboxRoot(), name);
  const ovsDir = join(dir, 'ovs');
  const indexes = Array.from({ length: nicCount }, (_, i) => i);
  return {
    name,
    hostNs: hostNsOf(name),
    wireNs: wireNsOf(name),
    dir,
    stateDir: join(dir, 'state'),
    ovsDir,
    nics: indexes.map((i) => `eth${i}`),
    peers: indexes.map((i) => `peer${i}`),
    ovsdbSocket: ovsdbSocket(ovsDir),
    pids: {},
  };
}

/** Directories, namespaces and cabled NICs: a fresh host whose NICs are still down. */
async function build(sb: Sandbox): Promise<void> {
  await mkdir(sb.stateDir, { recursive: true });
  await mkdir(sb.ovsDir, { recursive: true });
  await writeFile(join(sb.dir, 'resolv.conf'), '');
  await run(['ip', 'netns', 'add', sb.hostNs]);
  await run(['ip', 'netns', 'add', sb.wireNs]);
  if (sb.nics.length > 0) {
    const cables = sb.nics.map(
      (nic, i) => `link add ${nic} netns ${sb.hostNs} type veth peer name ${sb.peers[i]} netns ${sb.wireNs}`,
    );
    await run(['ip', '-batch', '-'], { input: lines(cables) });
  }
  await run(['ip', '-n', sb.hostNs, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', sb.wireNs, '-batch', '-'], {
    input: lines(['link set lo up', ...sb.peers.map((peer) => `link set ${peer} up`)]),
  });
  // OVS's userspace datapath does not complete checksums a veth left to offload: without
  // this, DHCP and TCP through an OVS bridge fail.
  await Promise.all([
    ...sb.nics.map((nic) => run(['ip', 'netns', 'exec', sb.hostNs, 'ethtool', '-K', nic, 'tx', 'off'])),
    ...sb.peers.map((peer) => run(['ip', 'netns', 'exec', sb.wireNs, 'ethtool', '-K', peer, 'tx', 'off'])),
  ]);
}

/** The OVS pids a sandbox's record names, if it has one (up may have died before writing it). */
async function recordedPids(dir: string): Promise<(number | undefined)[]> {
  try {
    const { pids } = JSON.parse(await readFile(join(dir, RECORD_FILE), 'utf8')) as Sandbox;
    return [pids?.vswitchd, pids?.ovsdbServer];
  } catch {
    return [];
  }
}

async function namespaces(): Promise<Set<string>> {
  const found = await runJson<{ name: string }[] | null>(['ip', '-json', 'netns', 'list']);
  return new Set((found ?? []).map((ns) => ns.name));
}

async function namespacePids(ns: string): Promise<number[]> {
  const { stdout } = await run(['ip', 'netns', 'pids', ns], { check: false });
  return stdout
    .split('\n')
    .map((line) => Number.parseInt(line, 10))
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid); // never ourselves (`sandbox exec ... down`)
}

/** SIGTERM, up to STOP_GRACE_MS for them to exit, then SIGKILL. */
async function stopProcesses(pids: readonly number[]): Promise<void> {
  signal(pids, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  let left = await running(pids);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = await running(left);
  }
  if (left.length === 0) return;
  signal(left, 'SIGKILL');
  // SIGKILL cannot be refused, but the kernel still needs a moment to tear the process down.
  for (let i = 0; i < 20 && left.length > 0; i++) {
    await sleep(50);
    left = await running(left);
  }
}

async function running(pids: readonly number[]): Promise<number[]> {
  const alive = await Promise.all(pids.map(isRunning));
  return pids.filter((_, i) => alive[i]);
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** The group a sandbox's links join to be deleted together. */
const DOOMED_GROUP = 4242;

/**
 * Every link of NS but lo, deleted in one `link del group` (the kernel batches the work: a
 * namespace of 1000 bridges and 2000 veths goes in ~20 s, where one deletion per link took
 * over a minute). Exported for the benchmarks, which empty namespaces between runs.
 */
export async function deleteLinks(ns: string): Promise<void> {
  const links = await runJson<{ ifname: string }[] | null>(['ip', '-n', ns, '-json', 'link', 'show'], { check: false }).catch(() => null);
  const names = (links ?? []).map((link) => link.ifname).filter((name) => name !== 'lo');
  if (names.length === 0) return;
  // -force: carry on past a link that went with another (a VLAN on a veth whose peer went
  // first); whatever is left goes with the namespace.
  await run(['ip', '-force', '-n', ns, '-batch', '-'], { input: lines(names.map((name) => `link set dev ${name} group ${DOOMED_GROUP}`)), check: false, timeoutMs: 600_000 });
  await run(['ip', '-n', ns, 'link', 'del', 'group', String(DOOMED_GROUP)], { check: false, timeoutMs: 600_000 });
}

function lines(commands: readonly string[]): string {
  return commands.map((c) => `${c}\n`).join('');
}
