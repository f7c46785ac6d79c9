// The typed client against a scripted fake server on a unix socket: the behaviours a real
// ovsdb-server 3.1 cannot be made to show (no monitor_cond, an update glued to a reply, an
// unresponsive peer).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, isNetswitchError } from '../../src/model/errors.ts';
import { JsonFramer } from '../../src/ovsdb/framer.ts';
import { OvsdbClient, eq, insert, update } from '../../src/ovsdb/index.ts';
import type { DatabaseSchema, OvsdbTarget } from '../../src/ovsdb/index.ts';

type Msg = { id: unknown; method?: string; params?: unknown[] };
/** Returns the raw text to write back (may hold several messages), or undefined for silence. */
type Script = (m: Msg) => string | undefined;

const SCHEMA: DatabaseSchema = {
  name: 'Open_vSwitch',
  version: '8.3.1',
  tables: { Bridge: { columns: { name: { type: 'string' }, ports: { type: { key: 'uuid', min: 0, max: 'unlimited' } } } } },
};
const B1 = '0cd11c03-9539-44f5-8a0e-32928ba4e8d1';
const B2 = '101523aa-ccbb-4e12-a83f-22b6390b6dfe';
const reply = (m: Msg, result: unknown, error: unknown = null): string => JSON.stringify({ id: m.id, result, error });
const notification = (method: string, params: unknown[]): string => JSON.stringify({ id: null, method, params });

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ovsdb-client-unit-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A one-connection server answering with `script`; records what it received. */
async function fakeServer(script: Script): Promise<{ target: OvsdbTarget; received: Msg[]; close: () => void }> {
  const path = join(dir, `s${n++}`);
  const received: Msg[] = [];
  const sockets: net.Socket[] = [];
  const srv = net.createServer((socket) => {
    sockets.push(socket);
    const framer = new JsonFramer();
    socket.on('data', (chunk) => {
      for (const m of framer.push(chunk) as Msg[]) {
        received.push(m);
        const out = m.method === 'get_schema' ? reply(m, SCHEMA) : script(m);
        if (out !== undefined) socket.write(out);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  return {
    target: `unix:${path}`,
    received,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

describe('OvsdbClient (fake server)', () => {
  it('falls back to monitor when the server has no monitor_cond, and applies updates', async () => {
    const server = await fakeServer((m) => {
      if (m.method === 'monitor_cond') return reply(m, null, 'unknown method');
      if (m.method === 'monitor') return reply(m, { Bridge: { [B1]: { new: { name: 'br0', ports: ['set', []] } } } });
      return reply(m, {});
    });
    const client = await OvsdbClient.connect(server.target);
    try {
      const mon = await client.monitor('Open_vSwitch', 'm', { Bridge: {} });
      assert.equal(mon.method, 'monitor');
      assert.deepEqual(
        server.received.map((m) => m.method),
        ['get_schema', 'monitor_cond', 'monitor'],
      );
      assert.deepEqual(mon.replica.toJSON(), { Bridge: { [B1]: { name: 'br0', ports: ['set', []] } } });
      // The second monitor goes straight to "monitor": the client remembers.
      await client.monitor('Open_vSwitch', 'm2', { Bridge: { columns: ['name'] } });
      assert.equal(server.received.at(-1)?.method, 'monitor');
      await assert.rejects(client.monitor('Open_vSwitch', 'm', { Bridge: {} }), /already active/);
      await assert.rejects(client.monitor('Open_vSwitch', 'm3', { Bridge: { where: [eq('name', 'x')] } }), /needs monitor_cond/);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('applies an update that arrives glued to the monitor reply after the initial rows', async () => {
    const server = await fakeServer((m) => {
      if (m.method !== 'monitor_cond') return reply(m, {});
      return (
        reply(m, { Bridge: { [B1]: { initial: { name: 'br0' } } } }) +
        notification('update2', ['m', { Bridge: { [B1]: { modify: { ports: ['uuid', B2] } }, [B2]: { insert: { name: 'br1' } } } }])
      );
    });
    const client = await OvsdbClient.connect(server.target);
    try {
      const mon = await client.monitor('Open_vSwitch', 'm', { Bridge: {} });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(mon.replica.toJSON(), {
        Bridge: { [B1]: { name: 'br0', ports: ['uuid', B2] }, [B2]: { name: 'br1', ports: ['set', []] } },
      });
    } finally {
      await client.close();
      server.close();
    }
  });

  it('sends the comment as a last operation and hides its result', async () => {
    const server = await fakeServer((m) => {
      const ops = (m.params ?? []).slice(1) as { op: string }[];
      if (ops.some((o) => o.op === 'update')) return reply(m, [{ uuid: ['uuid', B1] }, { error: 'constraint violation', details: 'nope' }, null]);
      return reply(m, [{ uuid: ['uuid', B1] }, {}]);
    });
    const client = await OvsdbClient.connect(server.target);
    try {
      const results = await client.transact('Open_vSwitch', [insert('Bridge', { name: 'b' })], { comment: 'why' });
      assert.deepEqual(results, [{ uuid: ['uuid', B1] }]);
      assert.deepEqual(server.received.at(-1)?.params, ['Open_vSwitch', { op: 'insert', table: 'Bridge', row: { name: 'b' } }, { op: 'comment', comment: 'why' }]);
      await assert.rejects(
        client.transact('Open_vSwitch', [insert('Bridge', { name: 'b' }), update('Bridge', [], { name: 'c' })], { comment: 'x' }),
        (e: unknown) =>
          isNetswitchError(e, ErrorCode.Ovsdb) &&
          /failed at operation 2 of 3 \(update on Bridge\): constraint violation: nope/.test(e.message) &&
          e.context.index === 1,
      );
    } finally {
      await client.close();
      server.close();
    }
  });

  it('stops reconnecting when closed, and refuses requests meanwhile', async () => {
    const server = await fakeServer((m) => reply(m, m.params));
    const client = await OvsdbClient.connect(server.target, { reconnect: { initialDelayMs: 20, maxDelayMs: 40 } });
    const attempts: number[] = [];
    client.on('reconnecting', (attempt) => attempts.push(attempt));
    const disconnected = new Promise((resolve) => client.once('disconnected', resolve));
    server.close(); // nobody listens any more: every attempt fails
    await disconnected;
    await assert.rejects(client.echo(), /\(reconnecting\)/);
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(attempts.length >= 3, `attempts: ${attempts.join()}`);
    const closed = new Promise((resolve) => client.once('closed', resolve));
    await client.close();
    await closed;
    const count = attempts.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(attempts.length, count);
    await assert.rejects(client.echo(), /not connected/);
  });

  it('drops a connection whose server stops answering its inactivity probe', async () => {
    const server = await fakeServer((m) => (m.method === 'echo' && m.params?.[0] === 'probe' ? undefined : reply(m, m.params)));
    const client = await OvsdbClient.connect(server.target, { probeIntervalMs: 50 });
    const closed = new Promise<Error | undefined>((resolve) => client.once('closed', resolve));
    const why = await closed;
    assert.match(String(why?.message), /stopped answering/);
    assert.equal(client.connected, false);
    assert.ok(server.received.some((m) => m.method === 'echo'));
    server.close();
  });
});
