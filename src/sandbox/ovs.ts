// A sandbox's private Open vSwitch: ovsdb-server in the root namespace (it is only a unix
// socket) and ovs-vswitchd inside the host namespace, so the tap devices of its userspace
// datapath land there. Everything lives in one directory, which OVS_RUNDIR/OVS_DBDIR/
// OVS_LOGDIR name: the control sockets keep their default names (`<daemon>.<pid>.ctl` beside
// `<daemon>.pid`), so plain `ovs-vsctl` and `ovs-appctl -t ovs-vswitchd` find this instance.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import { run } from '../sys/run.ts';

export interface OvsPids {
  ovsdbServer: number;
  vswitchd: number;
}

const OVSDB_PIDFILE = 'ovsdb-server.pid';
const VSWITCHD_PIDFILE = 'ovs-vswitchd.pid';
const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const READY_TIMEOUT_MS = 10_000;

export function ovsEnv(ovsDir: string): Record<string, string> {
  return { OVS_RUNDIR: ovsDir, OVS_DBDIR: ovsDir, OVS_LOGDIR: ovsDir };
}

/** Where ovsdb-server listens (also ovs-vsctl's default under OVS_RUNDIR). */
export function ovsdbSocket(ovsDir: string): string {
  return join(ovsDir, 'db.sock');
}

/** Create the database, start both daemons, and wait until both answer. */
export async function startOvs(ovsDir: string, hostNs: string): Promise<OvsPids> {
  const env = ovsEnv(ovsDir);
  const db = `unix:${ovsdbSocket(ovsDir)}`;
  const logs = `see ${join(ovsDir, 'ovsdb-server.log')} and ${join(ovsDir, 'ovs-vswitchd.log')}`;
  await run(['ovsdb-tool', 'create', join(ovsDir, 'conf.db'), OVS_SCHEMA], { env });
  await run(
    [
      'ovsdb-server', join(ovsDir, 'conf.db'), `--remote=punix:${ovsdbSocket(ovsDir)}`,
      `--pidfile=${join(ovsDir, OVSDB_PIDFILE)}`, '--detach', `--log-file=${join(ovsDir, 'ovsdb-server.log')}`,
    ],
    { env },
  );
  await run(['ovs-vsctl', `--db=${db}`, '--no-wait', 'init'], { env });
  await run(
    [
      'ip', 'netns', 'exec', hostNs, 'ovs-vswitchd', db,
      `--pidfile=${join(ovsDir, VSWITCHD_PIDFILE)}`, '--detach', `--log-file=${join(ovsDir, 'ovs-vswitchd.log')}`,
    ],
    { env },
  );
  const ovsdbServer = await readPidfile(join(ovsDir, OVSDB_PIDFILE));
  const vswitchd = await readPidfile(join(ovsDir, VSWITCHD_PIDFILE));
  if (ovsdbServer === undefined || vswitchd === undefined) {
    throw new NetswitchError(ErrorCode.Sandbox, `Open vSwitch wrote no pidfile in ${ovsDir}`, { hint: logs });
  }
  // --detach returns once a daemon is set up; this confirms both really answer.
  const ctl = join(ovsDir, `ovs-vswitchd.${vswitchd}.ctl`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const dbAnswer = await run(['ovs-vsctl', `--db=${db}`, '--timeout=5', 'show'], { check: false });
    const answer = dbAnswer.code === 0 ? await run(['ovs-appctl', '-t', ctl, 'version'], { check: false }) : dbAnswer;
    if (answer.code === 0) return { ovsdbServer, vswitchd };
    if (Date.now() > deadline) {
      throw new NetswitchError(ErrorCode.Sandbox, `the private Open vSwitch does not answer: ${answer.stderr.trim()}`, {
        hint: logs,
      });
    }
    await sleep(100);
  }
}

/**
 * The OVS daemons of OVSDIR that are still running: the pids recorded plus those in the
 * pidfiles. A pid is only trusted if its command line names OVSDIR, since a stale pidfile
 * may name a pid that now belongs to some other process.
 */
export async function ovsDaemonPids(ovsDir: string, recorded: readonly (number | undefined)[]): Promise<number[]> {
  const candidates = new Set([
    ...recorded,
    await readPidfile(join(ovsDir, VSWITCHD_PIDFILE)),
    await readPidfile(join(ovsDir, OVSDB_PIDFILE)),
  ]);
  const owned: number[] = [];
  for (const pid of candidates) {
    if (pid === undefined) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').some((arg) => arg.includes(`${ovsDir}/`))) owned.push(pid);
  }
  return owned;
}

async function readPidfile(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
