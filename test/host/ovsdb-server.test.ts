// The OVSDB client against a real ovsdb-server of our own (no ovs-vswitchd needed), checked
// with ovs-vsctl/ovsdb-tool, which share none of our code.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, isNetswitchError } from '../../src/model/errors.ts';
import {
  OvsdbClient,
  assertLock,
  del,
  deleteFrom,
  eq,
  fromMap,
  fromOptional,
  fromSet,
  fromStringMap,
  insert,
  insertInto,
  mutate,
  namedUuid,
  select,
  toMap,
  toSet,
  update,
  uuid,
  uuidOf,
  wait,
} from '../../src/ovsdb/index.ts';
import type { Datum, Monitor, OvsdbTarget, Replica, RowChange } from '../../src/ovsdb/index.ts';
import { run } from '../../src/sys/run.ts';

const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const PREFIX = 'netswitch-ovsdb-';
const DB = 'Open_vSwitch';

/** A private ovsdb-server in a temp dir, stopped by the pid in its pidfile. */
class OvsdbServer {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  get sock(): string {
    return join(this.dir, 'db.sock');
  }
  get target(): OvsdbTarget {
    return `unix:${this.sock}`;
  }
  private get env(): Record<string, string> {
    return { OVS_RUNDIR: this.dir, OVS_DBDIR: this.dir, OVS_LOGDIR: this.dir };
  }

  static async create(): Promise<OvsdbServer> {
    // The node pid in the name tells a later run whether this dir's owner is still alive.
    const server = new OvsdbServer(await mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`)));
    await run(['ovsdb-tool', 'create', join(server.dir, 'conf.db'), SCHEMA]);
    await server.start();
    await server.vsctl('init');
    return server;
  }

  async start(): Promise<void> {
    const d = this.dir;
    await run(
      ['ovsdb-server', join(d, 'conf.db'), `--remote=punix:${this.sock}`, `--unixctl=${join(d, 'ctl')}`, `--pidfile=${join(d, 'pid')}`, '--detach', `--log-file=${join(d, 'log')}`],
      { env: this.env },
    );
  }

  async stop(): Promise<void> {
    await stopByPidfile(join(this.dir, 'pid'), this.dir);
  }

  vsctl(...args: string[]): Promise<string> {
    return run(['ovs-vsctl', `--db=${this.target}`, '--no-wait', '--timeout=10', ...args], { env: this.env }).then((r) => r.stdout.trim());
  }

  /** Change the database file directly, while the server is down. */
  async offlineTransact(ops: unknown[]): Promise<void> {
    await run(['ovsdb-tool', 'transact', join(this.dir, 'conf.db'), JSON.stringify([DB, ...ops])]);
  }
}

async function stopByPidfile(pidfile: string, dir: string): Promise<void> {
  if (!existsSync(pidfile)) return;
  const pid = Number((await readFile(pidfile, 'utf8')).trim());
  if (!(pid > 0) || !isOurServer(pid, dir)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Only ever signal the ovsdb-server started for `dir` (the pid may have been reused). */
function isOurServer(pid: number, dir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return cmdline.includes('ovsdb-server') && cmdline.includes(dir);
  } catch {
    return false;
  }
}

/** Leftovers of crashed earlier runs: their node process is gone, their server may not be. */
async function cleanLeftovers(): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    const dir = join(tmpdir(), name);
    await stopByPidfile(join(dir, 'pid'), dir);
    await rm(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolve once `predicate` holds for the monitor's replica (checked now and after each change). */
function until(monitor: Monitor, predicate: (r: Replica) => boolean, what: string, timeoutMs = 5000): Promise<void> {
  if (predicate(monitor.replica)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(monitor.replica.toJSON())}`));
    }, timeoutMs);
    const off = monitor.onChange(() => {
      if (!predicate(monitor.replica)) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

const bridgeNames = (r: Replica): string[] => [...r.table('Bridge').values()].map((row) => String(row.name)).sort();
const portByName = (r: Replica, name: string) => r.find('Port', (row) => row.name === name)?.row;

describe('OVSDB client against ovsdb-server', { concurrency: false }, () => {
  let server: OvsdbServer;
  let client: OvsdbClient;

  before(async () => {
    await cleanLeftovers();
    server = await OvsdbServer.create();
    client = await OvsdbClient.connect(server.target, { timeoutMs: 10_000 });
  });

  after(async () => {
    await client?.close();
    if (server) {
      await server.stop();
      await rm(server.dir, { recursive: true, force: true });
    }
  });

  it('lists databases, reads the schema and echoes', async () => {
    assert.deepEqual((await client.listDbs()).sort(), ['Open_vSwitch', '_Server']);
    const schema = await client.getSchema(DB);
    assert.equal(schema.name, DB);
    assert.ok(schema.tables.Bridge.columns.ports);
    assert.deepEqual(await client.echo('ping', 1, { a: [2] }), ['ping', 1, { a: [2] }]);
  });

  it('inserts a bridge with a port and an interface in one transaction using named-uuids', async () => {
    const results = await client.transact(
      DB,
      [
        insert('Interface', { name: 'br-t0', type: 'internal' }, 'iface'),
        insert('Port', { name: 'br-t0', interfaces: namedUuid('iface'), external_ids: toMap({ 'netswitch-owner': 'test' }) }, 'port'),
        insert('Bridge', { name: 'br-t0', ports: toSet([namedUuid('port')]), datapath_type: 'netdev' }, 'br'),
        mutate(DB, [], [insertInto('bridges', namedUuid('br'))]),
      ],
      { comment: 'netswitch test: add-br br-t0' },
    );
    assert.equal(results.length, 4);
    assert.equal(results[3].count, 1);
    assert.equal(await server.vsctl('list-br'), 'br-t0');
    assert.equal(await server.vsctl('get', 'Bridge', 'br-t0', '_uuid'), uuidOf(results[2].uuid));
    assert.equal(await server.vsctl('get', 'Port', 'br-t0', 'interfaces'), `[${uuidOf(results[0].uuid)}]`);
    assert.equal(await server.vsctl('get', 'Interface', 'br-t0', 'type'), 'internal');
    assert.equal(await server.vsctl('list-ports', 'br-t0'), '');
    assert.equal(await server.vsctl('br-get-external-id', 'br-t0'), '');
    assert.equal(await server.vsctl('get', 'Port', 'br-t0', 'external_ids:netswitch-owner'), 'test');
  });

  it('updates and mutates a map (external_ids) and a set (trunks)', async () => {
    const [upd] = await client.transact(DB, [update('Port', [eq('name', 'br-t0')], { trunks: toSet([10, 20]), external_ids: toMap({ a: '1', b: '2' }) })]);
    assert.equal(upd.count, 1);
    assert.equal(await server.vsctl('get', 'Port', 'br-t0', 'trunks'), '[10, 20]');
    assert.equal(await server.vsctl('get', 'Port', 'br-t0', 'external_ids'), '{a="1", b="2"}');
    await client.transact(DB, [
      mutate(
        'Port',
        [eq('name', 'br-t0')],
        [insertInto('trunks', toSet([30])), deleteFrom('trunks', 10), insertInto('external_ids', toMap({ c: '3' })), deleteFrom('external_ids', toSet(['a']))],
      ),
    ]);
    assert.equal(await server.vsctl('get', 'Port', 'br-t0', 'trunks'), '[20, 30]');
    assert.equal(await server.vsctl('get', 'Port', 'br-t0', 'external_ids'), '{b="2", c="3"}');
    const [sel] = await client.transact(DB, [select('Port', [eq('name', 'br-t0')], ['trunks', 'external_ids', 'tag'])]);
    assert.deepEqual(fromSet(sel.rows[0].trunks), [20, 30]);
    assert.deepEqual(fromStringMap(sel.rows[0].external_ids), { b: '2', c: '3' });
    assert.equal(fromOptional(sel.rows[0].tag), undefined);
  });

  it('names the failing operation and applies nothing of a failed transaction', async () => {
    await assert.rejects(
      client.transact(DB, [update('Port', [eq('name', 'br-t0')], { external_ids: toMap({ half: 'done' }) }), update('Port', [eq('name', 'br-t0')], { tag: 5000 })]),
      (e: unknown) => {
        assert.ok(isNetswitchError(e, ErrorCode.Ovsdb));
        assert.match(e.message, /failed at operation 2 of 2 \(update on Port\): constraint violation: 5000 is not in the valid range/);
        assert.deepEqual([e.context.index, e.context.op, e.context.table, e.context.error], [1, 'update', 'Port', 'constraint violation']);
        assert.ok(e.hint);
        return true;
      },
    );
    assert.equal(await server.vsctl('get', 'Port', 'br-t0', 'external_ids'), '{b="2", c="3"}');
  });

  it('reports a commit failure (the extra trailing result) as such', async () => {
    // Bridge names are a unique index: the clash is only found when committing.
    await assert.rejects(
      client.transact(DB, [insert('Bridge', { name: 'br-t0' }, 'dup'), mutate(DB, [], [insertInto('bridges', namedUuid('dup'))])]),
      (e: unknown) => {
        assert.ok(isNetswitchError(e, ErrorCode.Ovsdb));
        assert.match(e.message, /failed to commit: constraint violation: Transaction causes multiple rows in "Bridge" table/);
        assert.equal(e.context.index, 2);
        assert.equal(e.context.op, 'commit');
        return true;
      },
    );
    const brUuid = await server.vsctl('get', 'Bridge', 'br-t0', '_uuid');
    await assert.rejects(client.transact(DB, [del('Bridge', [eq('name', 'br-t0')])]), /failed to commit: referential integrity violation/);
    assert.equal(await server.vsctl('get', 'Bridge', 'br-t0', '_uuid'), brUuid);
  });

  it('waits: holds, fails at once, times out, and blocks until the condition holds', async () => {
    const portWhere = [eq('name', 'br-t0')];
    const [ok] = await client.transact(DB, [wait('Port', portWhere, ['trunks'], '==', [{ trunks: toSet([20, 30]) }], 1000)]);
    assert.deepEqual(ok, {});
    await assert.rejects(
      client.transact(DB, [select('Bridge'), wait('Port', portWhere, ['trunks'], '==', [{ trunks: toSet([1]) }], 0)]),
      (e: unknown) => isNetswitchError(e) && e.context.index === 1 && e.context.op === 'wait' && e.context.error === 'timed out',
    );
    const t0 = Date.now();
    await assert.rejects(client.transact(DB, [wait('Port', portWhere, ['tag'], '==', [{ tag: 7 }], 300)]), /operation 1 of 1 \(wait on Port\): timed out/);
    assert.ok(Date.now() - t0 >= 250, 'the server held the transaction for the wait timeout');
    // A wait that starts false and becomes true while the server holds the transaction.
    const blocked = client.transact(DB, [
      wait('Port', portWhere, ['tag'], '==', [{ tag: 7 }], 5000),
      update('Port', portWhere, { external_ids: toMap({ saw: 'tag7' }) }),
    ]);
    await sleep(100);
    await server.vsctl('set', 'Port', 'br-t0', 'tag=7');
    const [, done] = await blocked;
    assert.equal(done.count, 1);
    assert.equal(await server.vsctl('get', 'Port', 'br-t0', 'external_ids:saw'), 'tag7');
  });

  it('keeps monitor_cond and monitor replicas in step with changes made by ovs-vsctl', async () => {
    const requests = {
      Bridge: { columns: ['name', 'ports', 'external_ids', 'fail_mode'] },
      Port: { columns: ['name', 'tag', 'trunks', 'external_ids', 'interfaces'] },
    };
    const cond = await client.monitor(DB, 'm-cond', requests);
    const v1 = await client.monitor(DB, 'm-v1', requests, { method: 'monitor' });
    assert.equal(cond.method, 'monitor_cond');
    assert.equal(v1.method, 'monitor');
    assert.deepEqual(bridgeNames(cond.replica), ['br-t0']);
    assert.deepEqual(cond.replica.toJSON(), v1.replica.toJSON());
    const changes: RowChange[] = [];
    cond.onChange((c) => changes.push(...c));

    await server.vsctl('add-br', 'br-m1', '--', 'set', 'Bridge', 'br-m1', 'fail_mode=secure', 'external_ids:k=v');
    await until(cond, (r) => bridgeNames(r).includes('br-m1'), 'br-m1 inserted');
    const br = cond.replica.find('Bridge', (row) => row.name === 'br-m1')!;
    assert.equal(br.row.fail_mode, 'secure');
    assert.deepEqual(fromStringMap(br.row.external_ids), { k: 'v' });
    assert.equal(fromSet(br.row.ports).length, 1);
    assert.ok(changes.some((c) => c.kind === 'insert' && c.table === 'Bridge' && c.uuid === br.uuid));

    await server.vsctl('set', 'Port', 'br-m1', 'tag=42', 'trunks=1,2,3', 'external_ids:x=1', 'external_ids:y=2');
    await until(cond, (r) => portByName(r, 'br-m1')?.tag === 42, 'tag=42');
    await server.vsctl('set', 'Port', 'br-m1', 'trunks=2,3,4', 'external_ids:x=9', '--', 'remove', 'Port', 'br-m1', 'external_ids', 'y', '--', 'clear', 'Port', 'br-m1', 'tag');
    await until(cond, (r) => fromOptional(portByName(r, 'br-m1')!.tag) === undefined, 'tag cleared');
    const port = portByName(cond.replica, 'br-m1')!;
    assert.deepEqual(fromSet(port.trunks), [2, 3, 4]);
    assert.deepEqual(fromStringMap(port.external_ids), { x: '9' });
    await server.vsctl('br-set-external-id', 'br-m1', 'k');
    await until(cond, (r) => fromMap(r.find('Bridge', (row) => row.name === 'br-m1')!.row.external_ids).size === 0, 'external id removed');

    await server.vsctl('del-br', 'br-m1');
    await until(cond, (r) => !bridgeNames(r).includes('br-m1') && portByName(r, 'br-m1') === undefined, 'br-m1 deleted');
    assert.ok(changes.some((c) => c.kind === 'delete' && c.table === 'Bridge' && c.uuid === br.uuid));

    // The v1 monitor saw the same end state; both match a fresh select.
    await until(v1, (r) => !bridgeNames(r).includes('br-m1'), 'v1 caught up');
    assert.deepEqual(cond.replica.toJSON(), v1.replica.toJSON());
    const [sel] = await client.transact(DB, [select('Port', [], ['_uuid', 'name', 'tag', 'trunks', 'external_ids', 'interfaces'])]);
    assert.deepEqual(
      Object.fromEntries(sel.rows.map(({ _uuid, ...row }) => [uuidOf(_uuid as ['uuid', string]), row])),
      cond.replica.toJSON().Port,
    );
    await cond.cancel();
    await v1.cancel();
    assert.equal(cond.active, false);
    await assert.rejects(client.request('monitor_cancel', ['m-cond']), /unknown monitor/);
  });

  it('keeps replicas of the QoS and Queue tables (integer-keyed maps of references, Port.qos) in step', async () => {
    const requests = {
      Port: { columns: ['name', 'qos'] },
      QoS: { columns: ['type', 'queues', 'other_config', 'external_ids'] },
      Queue: { columns: ['other_config', 'external_ids'] },
    };
    const cond = await client.monitor(DB, 'm-qos', requests);
    const v1 = await client.monitor(DB, 'm-qos-v1', requests, { method: 'monitor' });
    const qosOf = (r: Replica) => fromOptional(portByName(r, 'br-t0')?.qos as Datum);
    const queueIds = (r: Replica) => {
      const ref = qosOf(r);
      return ref === undefined ? [] : [...fromMap(r.get('QoS', uuidOf(ref))!.queues)].map(([k]) => k).sort();
    };
    await server.vsctl('--', 'set', 'Port', 'br-t0', 'qos=@q', '--', '--id=@q', 'create', 'QoS', 'type=linux-hfsc', 'other_config:max-rate=34359738360', 'queues:0=@q0', 'queues:100=@q1',
      '--', '--id=@q0', 'create', 'Queue', 'other_config:min-rate=400', '--', '--id=@q1', 'create', 'Queue', 'other_config:max-rate=10000000', 'external_ids:netswitch-network=vm100');
    await until(cond, (r) => queueIds(r).length === 2, 'QoS with two queues');
    assert.deepEqual(queueIds(cond.replica), [0, 100]);
    const qos = uuidOf(qosOf(cond.replica)!);
    assert.equal(cond.replica.get('QoS', qos)!.type, 'linux-hfsc');
    assert.deepEqual(fromStringMap(cond.replica.get('QoS', qos)!.other_config), { 'max-rate': '34359738360' });
    await server.vsctl('--', 'set', 'QoS', qos, 'queues:5000=@q', '--', '--id=@q', 'create', 'Queue', 'other_config:min-rate=8', '--', 'remove', 'QoS', qos, 'queues', '100');
    await until(cond, (r) => queueIds(r).join() === '0,5000', 'queue 100 replaced by 5000');
    await server.vsctl('--', 'clear', 'Port', 'br-t0', 'qos', '--', 'destroy', 'QoS', qos);
    await until(cond, (r) => qosOf(r) === undefined && r.table('QoS').size === 0, 'QoS row gone');
    // Queue rows are a root table: OVSDB keeps them until they are destroyed.
    assert.equal(cond.replica.table('Queue').size, 3);
    await server.vsctl('--all', 'destroy', 'Queue');
    await until(cond, (r) => r.table('Queue').size === 0, 'queues gone');
    await until(v1, (r) => r.table('Queue').size === 0 && r.table('QoS').size === 0, 'v1 caught up');
    assert.deepEqual(cond.replica.toJSON(), v1.replica.toJSON());
    await cond.cancel();
    await v1.cancel();
  });

  it('filters rows on the server with a monitor_cond where clause', async () => {
    const m = await client.monitor(DB, 'm-where', { Bridge: { columns: ['name'], where: [eq('name', 'br-w1')] } });
    assert.equal(m.replica.table('Bridge').size, 0);
    await server.vsctl('add-br', 'br-w2', '--', 'add-br', 'br-w1');
    await until(m, (r) => bridgeNames(r).includes('br-w1'), 'br-w1');
    assert.deepEqual(bridgeNames(m.replica), ['br-w1']);
    await server.vsctl('del-br', 'br-w1', '--', 'del-br', 'br-w2');
    await until(m, (r) => r.table('Bridge').size === 0, 'br-w1 gone');
    await m.cancel();
  });

  it('grants, queues, releases and steals locks between two clients', async () => {
    const other = await OvsdbClient.connect(server.target);
    try {
      assert.equal(await client.lock('netswitch_apply'), true);
      assert.equal(await other.lock('netswitch_apply'), false);
      await assert.rejects(other.transact(DB, [assertLock('netswitch_apply')]), /assert.*not owner/);
      const granted = new Promise<string>((resolve) => other.once('locked', resolve));
      await client.unlock('netswitch_apply');
      assert.equal(await granted, 'netswitch_apply');
      await other.transact(DB, [assertLock('netswitch_apply')]);
      const stolen = new Promise<string>((resolve) => other.once('stolen', resolve));
      await client.steal('netswitch_apply');
      assert.equal(await stolen, 'netswitch_apply');
      await client.transact(DB, [assertLock('netswitch_apply')]);
      await assert.rejects(other.transact(DB, [assertLock('netswitch_apply')]), /not owner/);
      await client.unlock('netswitch_apply');
    } finally {
      await other.close();
    }
  });

  it('says what is wrong when it cannot connect', async () => {
    await assert.rejects(OvsdbClient.connect(`unix:${join(server.dir, 'nope.sock')}`), (e: unknown) => {
      assert.ok(isNetswitchError(e, ErrorCode.Ovsdb));
      assert.match(e.message, /cannot connect to OVSDB at unix:.*nope\.sock/);
      assert.match(String(e.hint), /is ovsdb-server running/);
      return true;
    });
    await assert.rejects(OvsdbClient.connect('ssl:1.2.3.4:6640' as OvsdbTarget), /not an OVSDB target/);
  });

  it('reconnects after the server restarts, re-establishing monitors and refreshing replicas', async () => {
    const rc = await OvsdbClient.connect(server.target, { reconnect: { initialDelayMs: 50, maxDelayMs: 400 } });
    try {
      await server.vsctl('add-br', 'br-r1', '--', 'add-br', 'br-r2');
      const m = await rc.monitor(DB, 'm-rc', { Bridge: { columns: ['name', 'external_ids'] } });
      assert.deepEqual(bridgeNames(m.replica), ['br-r1', 'br-r2', 'br-t0']);
      const changes: RowChange[] = [];
      m.onChange((c) => changes.push(...c));
      const events: string[] = [];
      rc.on('disconnected', () => events.push('disconnected'));
      rc.on('reconnected', () => events.push('reconnected'));
      const disconnected = new Promise((resolve) => rc.once('disconnected', resolve));
      // A transaction the server holds (its wait cannot hold) is in flight when the server dies.
      const blocked = assert.rejects(
        rc.transact(DB, [wait('Bridge', [eq('name', 'br-r1')], ['name'], '!=', [{ name: 'br-r1' }], 10_000)]),
        /closed before transact was answered/,
      );
      await sleep(50);

      await server.stop();
      await disconnected;
      await blocked;
      await assert.rejects(rc.echo(), /not connected .*\(reconnecting\)/);
      assert.equal(rc.connected, false);
      // While it is down: one bridge removed, one added, one changed, behind the client's back.
      await server.offlineTransact([
        { op: 'insert', table: 'Bridge', row: { name: 'br-offline' }, 'uuid-name': 'b' },
        { op: 'mutate', table: DB, where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] },
        { op: 'update', table: 'Bridge', where: [['name', '==', 'br-r1']], row: { external_ids: ['map', [['changed', 'offline']]] } },
      ]);
      const r2uuid = m.replica.find('Bridge', (row) => row.name === 'br-r2')!.uuid;
      await server.offlineTransact([{ op: 'mutate', table: DB, where: [], mutations: [['bridges', 'delete', ['uuid', r2uuid]]] }]);

      const reconnected = new Promise<void>((resolve) => rc.once('reconnected', resolve));
      await sleep(200); // let an attempt or two fail first
      await server.start();
      await reconnected;
      assert.deepEqual(events, ['disconnected', 'reconnected']);
      assert.equal(rc.connected, true);
      assert.deepEqual(bridgeNames(m.replica), ['br-offline', 'br-r1', 'br-t0']);
      assert.deepEqual(
        changes.map((c) => [c.kind, c.new?.name ?? c.old?.name]).sort(),
        [
          ['delete', 'br-r2'],
          ['insert', 'br-offline'],
          ['modify', 'br-r1'],
        ].sort(),
      );
      // The monitor is live again on the new connection.
      await server.vsctl('add-br', 'br-r3');
      await until(m, (r) => bridgeNames(r).includes('br-r3'), 'br-r3 after reconnect');
      assert.deepEqual(await rc.echo('back'), ['back']);
      await server.vsctl('del-br', 'br-r1', '--', 'del-br', 'br-r3', '--', 'del-br', 'br-offline');
      await until(m, (r) => bridgeNames(r).join() === 'br-t0', 'cleanup seen');
    } finally {
      const closed = new Promise((resolve) => rc.once('closed', resolve));
      await rc.close();
      await closed;
    }
    await assert.rejects(rc.echo(), /not connected/);
    // The shared client was cut off too; without reconnect it is closed for good.
    await assert.rejects(client.listDbs(), /not connected|closed/);
    client = await OvsdbClient.connect(server.target);
    assert.equal(uuid(await server.vsctl('get', 'Bridge', 'br-t0', '_uuid'))[0], 'uuid');
  });
});
