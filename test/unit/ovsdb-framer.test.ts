import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isNetswitchError } from '../../src/model/errors.ts';
import { JsonFramer } from '../../src/ovsdb/framer.ts';

// Messages chosen to trip a naive framer: braces and brackets inside strings, escaped quotes,
// a string ending in an escaped backslash, multi-byte UTF-8, nesting, a top-level array.
const MESSAGES: unknown[] = [
  { id: 1, method: 'echo', params: [] },
  { id: null, method: 'update', params: ['m', { Bridge: { u: { new: { name: 'br{0}' } } } }] },
  { s: 'quote " brace } bracket ] open { [', t: 'backslash \\', u: '\\"}' },
  { ü: 'grüße €uro 😀 ✓', nested: [[[{}]], { a: [1, 2, { b: 'x' }] }] },
  ['set', [1, 2.5, -3e2, true, false, null]],
  { empty: '', esc: '\n\t\u0001 \u00e9 \\\\' },
];

function encodeAll(separator = ''): Buffer {
  return Buffer.from(MESSAGES.map((m) => JSON.stringify(m)).join(separator), 'utf8');
}

describe('JsonFramer', () => {
  it('returns every message of one chunk, in order', () => {
    assert.deepEqual(new JsonFramer().push(encodeAll()), MESSAGES);
  });

  it('accepts whitespace between and around messages', () => {
    const text = '  \n' + MESSAGES.map((m) => JSON.stringify(m, null, 2)).join('\r\n\t ') + '\n\n';
    assert.deepEqual(new JsonFramer().push(text), MESSAGES);
  });

  it('reassembles the stream split at every byte position', () => {
    const bytes = encodeAll(' ');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const framer = new JsonFramer();
      const out = [...framer.push(bytes.subarray(0, cut)), ...framer.push(bytes.subarray(cut))];
      assert.deepEqual(out, MESSAGES, `split at byte ${cut}`);
      assert.equal(framer.pending, false);
    }
  });

  it('reassembles the stream split into three pieces at every pair of positions', () => {
    const bytes = Buffer.from(JSON.stringify(MESSAGES[2]) + JSON.stringify(MESSAGES[3]), 'utf8');
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b++) {
        const framer = new JsonFramer();
        const out = [...framer.push(bytes.subarray(0, a)), ...framer.push(bytes.subarray(a, b)), ...framer.push(bytes.subarray(b))];
        assert.deepEqual(out, [MESSAGES[2], MESSAGES[3]], `split at ${a} and ${b}`);
      }
    }
  });

  it('reassembles the stream fed one byte at a time', () => {
    const framer = new JsonFramer();
    const out: unknown[] = [];
    for (const byte of encodeAll()) out.push(...framer.push(Buffer.of(byte)));
    assert.deepEqual(out, MESSAGES);
  });

  it('handles splits inside multi-byte UTF-8 sequences', () => {
    const message = { name: '€😀ü', k: 'ş' };
    const bytes = Buffer.from(JSON.stringify(message), 'utf8');
    // Every cut inside the 3-byte €, the 4-byte emoji and the 2-byte ü.
    for (let cut = 1; cut < bytes.length; cut++) {
      const framer = new JsonFramer();
      assert.deepEqual(framer.push(bytes.subarray(0, cut)), []);
      assert.deepEqual(framer.push(bytes.subarray(cut)), [message]);
    }
  });

  it('accepts strings as well as buffers', () => {
    const framer = new JsonFramer();
    assert.deepEqual(framer.push('{"a":"}'), []);
    assert.deepEqual(framer.push('"}{"b":1}'), [{ a: '}' }, { b: 1 }]);
  });

  it('does not keep references to caller buffers it may reuse', () => {
    const framer = new JsonFramer();
    const chunk = Buffer.from('{"a":"xy');
    framer.push(chunk);
    chunk.fill(0x20);
    assert.deepEqual(framer.push('z"}'), [{ a: 'xyz' }]);
  });

  it('rejects a message larger than the limit, in one chunk or over several', () => {
    const big = JSON.stringify({ data: 'x'.repeat(200) });
    assert.throws(
      () => new JsonFramer({ maxMessageBytes: 100 }).push(big),
      (e: unknown) => isNetswitchError(e, ErrorCode.Ovsdb) && /exceeds 100 bytes/.test(e.message),
    );
    const framer = new JsonFramer({ maxMessageBytes: 100 });
    assert.throws(() => {
      for (let i = 0; i < big.length; i += 10) framer.push(big.slice(i, i + 10));
    }, /exceeds 100 bytes/);
    // A message of exactly the limit is fine, and the framer is usable after the error.
    const exact = JSON.stringify({ d: 'y'.repeat(100 - 8) });
    assert.equal(Buffer.byteLength(exact), 100);
    assert.deepEqual(framer.push(exact), [JSON.parse(exact)]);
  });

  it('reports bytes outside a message as a protocol error', () => {
    assert.throws(() => new JsonFramer().push('{"a":1} 42'), (e: unknown) => isNetswitchError(e) && /expected '\{'/.test(e.message));
    assert.throws(() => new JsonFramer().push('HTTP/1.1 400'), /got 'H'/);
  });

  it('reports a balanced but invalid message as a protocol error', () => {
    assert.throws(
      () => new JsonFramer().push('{"a" 1}'),
      (e: unknown) => isNetswitchError(e, ErrorCode.Ovsdb) && /not valid JSON/.test(e.message),
    );
  });

  it('frames a large stream of small messages in linear time', () => {
    const one = JSON.stringify({ id: 7, result: [{ uuid: ['uuid', '00000000-0000-0000-0000-000000000000'] }], error: null });
    const bytes = Buffer.from(one.repeat(20_000));
    const framer = new JsonFramer();
    let n = 0;
    for (let i = 0; i < bytes.length; i += 1000) n += framer.push(bytes.subarray(i, i + 1000)).length;
    assert.equal(n, 20_000);
  });
});
