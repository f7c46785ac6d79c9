// The far side of an OVS test: a second private Open vSwitch whose ovs-vswitchd runs in the
// sandbox's wire namespace, so peers can be VLAN access ports or an LACP bond (the host
// kernel has no 8021q or bonding driver). It has its own directory and database, and is
// always addressed explicitly (--db, -t) so it is never confused with the host's OVS.
// Also: the host's OVSDB and kernel read back (ovsdb-client, `ip -json`), reduced to what
// configuration decides, for before/after equality.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning } from '../../../src/sandbox/sandbox.ts';
import { type RunResult, run } from '../../../src/sys/run.ts';
import type { SandboxHarness } from './harness.ts';
import { hostState } from './host-state.ts';

export interface WireOvs {
  /** `ovs-vsctl --db=<wire db> ARGS`; throws on failure. */
  vsctl(...args: string[]): Promise<RunResult>;
  /** `ovs-appctl -t <wire vswitchd> ARGS`; never throws. */
  appctl(...args: string[]): Promise<RunResult>;
  /** Stop both daemons by pid (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

export async function startWireOvs(h: SandboxHarness): Promise<WireOvs> {
  const dir = join(h.sb.dir, 'wire-ovs');
  await mkdir(dir, { recursive: true });
  const sock = join(dir, 'db.sock');
  const db = `--db=unix:${sock}`;
  // Both daemons inside the wire namespace (a unix socket works across namespaces): if a
  // run crashes, `down` of its sandbox stops them with everything else running in there.
  const inWire = ['ip', 'netns', 'exec', h.sb.wireNs];
  const daemon = (name: string) => [`--pidfile=${join(dir, `${name}.pid`)}`, '--detach', `--log-file=${join(dir, `${name}.log`)}`];
  await run(['ovsdb-tool', 'create', join(dir, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
  await run([...inWire, 'ovsdb-server', join(dir, 'conf.db'), `--remote=punix:${sock}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, ...daemon('ovsdb-server')]);
  await run(['ovs-vsctl', db, '--no-wait', 'init']);
  await run([...inWire, 'ovs-vswitchd', `unix:${sock}`, `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`, ...daemon('ovs-vswitchd')]);
  const pids = await Promise.all(['ovs-vswitchd', 'ovsdb-server'].map(async (name) => Number((await readFile(join(dir, `${name}.pid`), 'utf8')).trim())));
  const ctl = join(dir, 'ovs-vswitchd.ctl');
  return {
    vsctl: (...args) => run(['ovs-vsctl', db, '--timeout=10', ...args]),
    appctl: (...args) => run(['ovs-appctl', '-t', ctl, ...args], { check: false }),
    async stop() {
      for (const pid of pids) await stopPid(pid);
    },
  };
}

async function stopPid(pid: number): Promise<void> {
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(pid, sig);
    } catch {
      return; // already gone
    }
    for (let i = 0; i < 40; i++) {
      if (!(await isRunning(pid))) return;
      await sleep(50);
    }
  }
}

/** Poll CHECK (every 250 ms) until it returns true or TIMEOUT_MS passed; returns its last answer. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

// The columns netswitch (or a test) sets; everything else in these tables is written by
// ovs-vswitchd (statistics, status, ofport, link state, mac_in_use, ...) and varies.
const COLUMNS: Record<string, string[]> = {
  Bridge: ['name', 'datapath_type', 'stp_enable', 'rstp_enable', 'mcast_snooping_enable', 'fail_mode', 'other_config', 'external_ids', 'ports'],
  Port: ['name', 'interfaces', 'tag', 'trunks', 'vlan_mode', 'bond_mode', 'lacp', 'bond_updelay', 'bond_downdelay', 'other_config', 'external_ids', 'qos'],
  Interface: ['name', 'type', 'mtu_request', 'options', 'other_config', 'external_ids'],
  QoS: ['name', 'type', 'other_config', 'external_ids', 'queues'],
  Queue: ['name', 'dscp', 'other_config', 'external_ids'],
};

// ovsdb-client's JSON is loosely typed; the reader names the fields it uses.
type Datum = unknown;

/**
 * The host's Bridge, Port, Interface, QoS and Queue tables as `ovsdb-client dump` prints them,
 * rows keyed by name and references resolved to names (a row re-created by a rollback gets a
 * new uuid). QoS and Queue rows have no name: they are named after the port (and queue id) that
 * refers to them, and a row nothing refers to (root tables: OVSDB keeps it) by its content.
 */
export async function ovsdbState(h: SandboxHarness): Promise<string> {
  const tables: Record<string, { headings: string[]; data: Datum[][] }> = {};
  for (const table of Object.keys(COLUMNS)) {
    const { stdout } = await run(['ovsdb-client', '-f', 'json', 'dump', `unix:${h.sb.ovsdbSocket}`, 'Open_vSwitch', table]);
    tables[table] = JSON.parse(stdout);
  }
  const names = new Map<string, string>();
  const uuidOf = (d: Datum) => (d as [string, string])[1];
  for (const { headings, data } of Object.values(tables)) {
    if (!headings.includes('name')) continue;
    for (const row of data) names.set(uuidOf(row[headings.indexOf('_uuid')]), row[headings.indexOf('name')] as string);
  }
  const col = (table: string, row: Datum[], c: string) => row[tables[table].headings.indexOf(c)];
  for (const port of tables.Port.data) {
    const qos = col('Port', port, 'qos') as [string, Datum];
    if (qos[0] !== 'uuid') continue;
    const name = `qos of ${col('Port', port, 'name') as string}`;
    names.set(uuidOf(qos), name);
    const row = tables.QoS.data.find((r) => uuidOf(col('QoS', r, '_uuid')) === uuidOf(qos));
    for (const [id, q] of row ? ((col('QoS', row, 'queues') as [string, [number, Datum][]])[1]) : []) names.set(uuidOf(q), `queue ${id} of ${name}`);
  }
  for (const table of ['QoS', 'Queue']) {
    const { headings, data } = tables[table];
    headings.push('name');
    for (const row of data) row.push(names.get(uuidOf(col(table, row, '_uuid'))) ?? `unreferenced ${JSON.stringify(row.filter((_, i) => headings[i] !== '_uuid' && headings[i] !== '_version'))}`);
  }
  const decode = (d: Datum): Datum => {
    if (!Array.isArray(d)) return d;
    const [kind, value] = d as [string, Datum[]];
    if (kind === 'uuid' || kind === 'named-uuid') return names.get(value as unknown as string) ?? '?';
    if (kind === 'set') return value.map(decode).sort();
    if (kind === 'map') return Object.fromEntries((value as [Datum, Datum][]).map(([k, v]) => [decode(k), decode(v)]).sort());
    return d;
  };
  const state: Record<string, Record<string, Datum>> = {};
  for (const [table, { headings, data }] of Object.entries(tables)) {
    const rows = data.map((row) => Object.fromEntries(COLUMNS[table].map((c) => [c, decode(row[headings.indexOf(c)])])));
    // A bridge re-created by a rollback pins the MAC it had (other_config:hwaddr), as its
    // internal ports do (Interface.mac, not compared here either): the MACs themselves are
    // compared on the kernel side.
    if (table === 'Bridge') for (const r of rows) delete (r.other_config as Record<string, Datum>).hwaddr;
    state[table] = Object.fromEntries(rows.map((r) => [r.name as string, r]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  }
  return JSON.stringify(state, null, 1);
}

/** Every flow of every bridge of the host's OVS (OVS keeps flows in ovs-vswitchd only). */
export async function flowsState(h: SandboxHarness): Promise<Record<string, string[]>> {
  const bridges = (await h.sh(['ovs-vsctl', '--timeout=10', 'list-br'])).stdout.split('\n').filter(Boolean);
  const out: Record<string, string[]> = {};
  for (const br of bridges) {
    const r = await h.sh(['ovs-ofctl', 'dump-flows', '--names', '--no-stats', br]);
    out[br] = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
  }
  return out;
}

/** Both halves of the host, for before/after equality. */
export async function wholeHost(h: SandboxHarness) {
  return { ovsdb: await ovsdbState(h), flows: await flowsState(h), kernel: await hostState(h) };
}
