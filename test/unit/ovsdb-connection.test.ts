import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duplexPair } from 'node:stream';
import type { Duplex } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, isNetswitchError } from '../../src/model/errors.ts';
import { Connection } from '../../src/ovsdb/connection.ts';
import { JsonFramer } from '../../src/ovsdb/framer.ts';

type Msg = Record<string, unknown>;

/** The far end of the stream, playing ovsdb-server: reads our messages, writes its own. */
class FakeServer {
  readonly received: Msg[] = [];
  private readonly framer = new JsonFramer();
  private waiters: (() => void)[] = [];
  readonly end: Duplex;

  constructor(end: Duplex) {
    this.end = end;
    end.on('data', (chunk: Buffer) => {
      for (const m of this.framer.push(chunk)) this.received.push(m as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Wait until `n` messages have arrived. */
  async nth(n: number): Promise<Msg> {
    while (this.received.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received[n - 1];
  }

  send(message: unknown): void {
    this.end.write(JSON.stringify(message));
  }
}

const open: Connection[] = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

function pair(timeoutMs?: number): { conn: Connection; server: FakeServer } {
  const [ours, theirs] = duplexPair();
  const conn = new Connection(ours, { label: 'test', timeoutMs });
  open.push(conn);
  return { conn, server: new FakeServer(theirs) };
}

describe('Connection', () => {
  it('pairs replies with their requests, whatever order they come in', async () => {
    const { conn, server } = pair();
    const a = conn.request('list_dbs', []);
    const b = conn.request('get_schema', ['Open_vSwitch']);
    const c = conn.request('echo', [1]);
    const [ma, mb, mc] = [await server.nth(1), await server.nth(2), await server.nth(3)];
    assert.deepEqual(ma, { method: 'list_dbs', params: [], id: ma.id });
    assert.equal(new Set([ma.id, mb.id, mc.id]).size, 3);
    // Replies in reverse order, two of them in one chunk, one split in the middle.
    server.end.write(JSON.stringify({ id: mc.id, result: ['c'], error: null }) + JSON.stringify({ id: mb.id, result: { name: 'b' }, error: null }));
    const last = JSON.stringify({ id: ma.id, result: ['Open_vSwitch'], error: null });
    server.end.write(last.slice(0, 9));
    server.end.write(last.slice(9));
    assert.deepEqual(await Promise.all([a, b, c]), [['Open_vSwitch'], { name: 'b' }, ['c']]);
    assert.equal(conn.pendingCount, 0);
  });

  it('rejects a request the server answers with an error, keeping its words', async () => {
    const { conn, server } = pair();
    const p = conn.request('transact', ['NoDb']);
    const m = await server.nth(1);
    server.send({ id: m.id, result: null, error: { error: 'unknown database', details: 'transact request specifies unknown database NoDb' } });
    await assert.rejects(p, (e: unknown) => {
      assert.ok(isNetswitchError(e, ErrorCode.Ovsdb));
      assert.match(e.message, /transact failed: unknown database: transact request specifies/);
      assert.equal(e.context.error, 'unknown database');
      return true;
    });
    const q = conn.request('bogus', []);
    server.send({ id: (await server.nth(2)).id, error: 'unknown method' });
    await assert.rejects(q, (e: unknown) => isNetswitchError(e) && e.context.error === 'unknown method');
  });

  it('dispatches notifications to the handlers of their method', async () => {
    const { conn, server } = pair();
    const seen: unknown[][] = [];
    const off = conn.onNotification('update2', (params) => seen.push(params));
    conn.onNotification('locked', (params) => seen.push(['locked', ...params]));
    // A reply sent after the notifications proves they have been read when it resolves.
    const first = conn.request('echo', []);
    const id1 = (await server.nth(1)).id;
    server.send({ id: null, method: 'update2', params: ['m', { Bridge: {} }] });
    server.send({ id: null, method: 'locked', params: ['netswitch'] });
    server.send({ id: null, method: 'stolen', params: ['nobody listens'] });
    server.send({ id: id1, result: [], error: null });
    await first;
    assert.deepEqual(seen, [['m', { Bridge: {} }], ['locked', 'netswitch']]);
    off();
    const second = conn.request('echo', []);
    server.send({ id: null, method: 'update2', params: ['m', {}] });
    server.send({ id: (await server.nth(2)).id, result: [], error: null });
    await second;
    assert.equal(seen.length, 2);
  });

  it('survives a notification handler that throws', async () => {
    const [ours, theirs] = duplexPair();
    const errors: unknown[] = [];
    const conn = new Connection(ours, { onHandlerError: (e) => errors.push(e) });
    open.push(conn);
    const server = new FakeServer(theirs);
    conn.onNotification('update', () => {
      throw new Error('listener bug');
    });
    server.send({ id: null, method: 'update', params: [] });
    const p = conn.request('echo', []);
    server.send({ id: (await server.nth(1)).id, result: [], error: null });
    assert.deepEqual(await p, []);
    assert.equal(errors.length, 1);
  });

  it("answers the server's echo requests itself", async () => {
    const { server } = pair();
    server.send({ id: 'echo', method: 'echo', params: ['ping', 42] });
    assert.deepEqual(await server.nth(1), { id: 'echo', result: ['ping', 42], error: null });
    server.send({ id: 7, method: 'frobnicate', params: [] });
    const reply = await server.nth(2);
    assert.equal(reply.id, 7);
    assert.deepEqual((reply.error as Msg).error, 'unknown method');
  });

  it('times a request out, ignores its late reply and can ask the server to cancel it', async () => {
    const { conn, server } = pair(30);
    const started = Date.now();
    await assert.rejects(conn.request('transact', ['db'], { cancelOnTimeout: true }), (e: unknown) => {
      assert.ok(isNetswitchError(e, ErrorCode.Timeout));
      assert.match(e.message, /transact request to test timed out after 30 ms/);
      return true;
    });
    assert.ok(Date.now() - started >= 25);
    const request = await server.nth(1);
    assert.deepEqual(await server.nth(2), { method: 'cancel', params: [request.id], id: null });
    server.send({ id: request.id, result: [], error: null }); // too late: dropped
    const next = conn.request('echo', ['x'], { timeoutMs: 0 });
    server.send({ id: (await server.nth(3)).id, result: ['x'], error: null });
    assert.deepEqual(await next, ['x']);
  });

  it('rejects every pending request when the stream closes, and later ones at once', async () => {
    const { conn, server } = pair();
    const closed = new Promise<Error | undefined>((resolve) => conn.onClose(resolve));
    const pending = [conn.request('transact', ['db']), conn.request('monitor', ['db', 'm', {}])];
    await server.nth(2);
    server.end.end();
    for (const p of pending) {
      await assert.rejects(p, (e: unknown) => isNetswitchError(e, ErrorCode.Ovsdb) && /closed before (transact|monitor) was answered/.test(e.message));
    }
    await closed;
    assert.equal(conn.closed, true);
    await assert.rejects(conn.request('echo', []), /closed before echo/);
  });

  it('closes on a protocol error, saying why', async () => {
    const { conn, server } = pair();
    const p = conn.request('echo', []);
    const closed = new Promise<Error | undefined>((resolve) => conn.onClose(resolve));
    server.end.write('<html>');
    const why = await closed;
    assert.match(String(why?.message), /protocol error/);
    await assert.rejects(p, /closed before echo was answered: OVSDB protocol error/);
  });

  it('works over a real unix socket pair', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ovsdb-conn-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 's');
    const accepted = new Promise<net.Socket>((resolve) => {
      const srv = net.createServer((s) => {
        srv.close();
        resolve(s);
      });
      srv.listen(path);
    });
    await new Promise((r) => setTimeout(r, 10));
    const socket = net.connect(path);
    const conn = new Connection(socket, { label: `unix:${path}` });
    open.push(conn);
    const server = new FakeServer(await accepted);
    const big = 'é'.repeat(100_000); // forces several chunks, with splits inside characters
    const p = conn.request('echo', [big]);
    const m = await server.nth(1);
    server.send({ id: m.id, result: m.params, error: null });
    assert.deepEqual(await p, [big]);
    server.end.destroy();
  });
});
