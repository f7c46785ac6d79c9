import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isNetswitchError } from '../../src/model/errors.ts';
import {
  byUuid,
  canonicalSet,
  comment,
  del,
  deleteFrom,
  eq,
  fromMap,
  fromOptional,
  fromSet,
  fromStringMap,
  includes,
  insert,
  insertInto,
  isMap,
  isNamedUuid,
  isSet,
  isUuid,
  mutate,
  namedUuid,
  select,
  toMap,
  toSet,
  update,
  uuid,
  uuidOf,
  wait,
} from '../../src/ovsdb/datum.ts';
import type { Datum } from '../../src/ovsdb/datum.ts';

const U1 = '3f123626-542d-46d8-babb-e02d3db7db3b';
const U2 = 'b227f2d5-90d4-42f2-b121-04e82fe91e9b';

/** What a value looks like after a trip over the wire. */
const wire = (d: unknown): unknown => JSON.parse(JSON.stringify(d));

describe('OVSDB datum', () => {
  it('encodes uuid and named-uuid atoms and reads them back', () => {
    assert.deepEqual(uuid(U1), ['uuid', U1]);
    assert.deepEqual(uuid(U1.toUpperCase()), ['uuid', U1], 'normalized to lower case like the server');
    assert.deepEqual(namedUuid('row_1'), ['named-uuid', 'row_1']);
    assert.ok(isUuid(wire(uuid(U1))));
    assert.ok(isNamedUuid(wire(namedUuid('p'))));
    assert.equal(uuidOf(wire(uuid(U2)) as Datum as ['uuid', string]), U2);
    assert.throws(() => uuid('not-a-uuid'), (e: unknown) => isNetswitchError(e, ErrorCode.Ovsdb));
    assert.throws(() => namedUuid('1bad'), /not a valid uuid-name/);
    assert.throws(() => namedUuid('has-dash'), /not a valid uuid-name/);
    assert.throws(() => uuidOf('x'), /expected a \["uuid"/);
  });

  it('round-trips sets, including the bare-atom form of one element', () => {
    const s = toSet([1, 2, 3]);
    assert.deepEqual(s, ['set', [1, 2, 3]]);
    assert.deepEqual(fromSet(wire(s) as Datum), [1, 2, 3]);
    assert.deepEqual(fromSet(toSet([])), []);
    // The server sends a one-element set as the element itself.
    assert.deepEqual(fromSet(5), [5]);
    assert.deepEqual(fromSet(['uuid', U1]), [['uuid', U1]]);
    const refs = toSet([uuid(U1), namedUuid('new_port')]);
    assert.deepEqual(fromSet(wire(refs) as Datum), [
      ['uuid', U1],
      ['named-uuid', 'new_port'],
    ]);
    assert.ok(isSet(wire(refs)));
    assert.throws(() => fromSet(toMap({ a: 'b' })), /expected a set, got a map/);
  });

  it('reads optional columns', () => {
    assert.equal(fromOptional(['set', []]), undefined);
    assert.equal(fromOptional(10), 10);
    assert.equal(fromOptional(['set', ['secure']]), 'secure');
    assert.throws(() => fromOptional(['set', [1, 2]]), /at most one/);
  });

  it('round-trips maps from objects, Maps and entry lists', () => {
    const m = toMap({ 'netswitch-owner': 'net1', b: '2' });
    assert.deepEqual(m, ['map', [['netswitch-owner', 'net1'], ['b', '2']]]);
    assert.ok(isMap(wire(m)));
    assert.deepEqual(fromStringMap(wire(m) as Datum), { 'netswitch-owner': 'net1', b: '2' });
    const byQueue = toMap(new Map([[0, uuid(U1)], [1, uuid(U2)]]));
    assert.deepEqual(wire(byQueue), ['map', [[0, ['uuid', U1]], [1, ['uuid', U2]]]]);
    assert.deepEqual(fromMap(wire(byQueue) as Datum), new Map([[0, ['uuid', U1]], [1, ['uuid', U2]]]));
    assert.deepEqual(toMap([['k', 'v']]), ['map', [['k', 'v']]]);
    assert.deepEqual(fromMap(['map', []]), new Map());
    assert.throws(() => fromMap(['set', []]), /expected a map/);
    assert.throws(() => fromStringMap(byQueue), /strings to strings/);
  });

  it('puts sets in the order the server uses, one element bare', () => {
    assert.deepEqual(canonicalSet([3, 1, 2]), ['set', [1, 2, 3]]);
    assert.deepEqual(canonicalSet(['b', 'a']), ['set', ['a', 'b']]);
    assert.deepEqual(canonicalSet([uuid(U2), uuid(U1)]), ['set', [['uuid', U1], ['uuid', U2]]]);
    assert.equal(canonicalSet([7]), 7);
    assert.deepEqual(canonicalSet([]), ['set', []]);
  });

  it('builds operations as RFC 7047 spells them', () => {
    assert.deepEqual(insert('Bridge', { name: 'br0' }, 'br'), { op: 'insert', table: 'Bridge', row: { name: 'br0' }, 'uuid-name': 'br' });
    assert.deepEqual(insert('Bridge', { name: 'br0' }), { op: 'insert', table: 'Bridge', row: { name: 'br0' } });
    assert.throws(() => insert('Bridge', {}, 'bad name'), /uuid-name/);
    assert.deepEqual(update('Port', [eq('name', 'p1')], { tag: 10 }), {
      op: 'update',
      table: 'Port',
      where: [['name', '==', 'p1']],
      row: { tag: 10 },
    });
    assert.deepEqual(mutate('Open_vSwitch', [], [insertInto('bridges', namedUuid('br'))]), {
      op: 'mutate',
      table: 'Open_vSwitch',
      where: [],
      mutations: [['bridges', 'insert', ['named-uuid', 'br']]],
    });
    assert.deepEqual(deleteFrom('external_ids', toSet(['a'])), ['external_ids', 'delete', ['set', ['a']]]);
    assert.deepEqual(del('Bridge', [byUuid(U1)]), { op: 'delete', table: 'Bridge', where: [['_uuid', '==', ['uuid', U1]]] });
    assert.deepEqual(select('Bridge'), { op: 'select', table: 'Bridge', where: [] });
    assert.deepEqual(select('Bridge', [includes('ports', uuid(U2))], ['name']), {
      op: 'select',
      table: 'Bridge',
      where: [['ports', 'includes', ['uuid', U2]]],
      columns: ['name'],
    });
    assert.deepEqual(wait('Bridge', [eq('name', 'br0')], ['name'], '==', [{ name: 'br0' }], 500), {
      op: 'wait',
      table: 'Bridge',
      where: [['name', '==', 'br0']],
      columns: ['name'],
      until: '==',
      rows: [{ name: 'br0' }],
      timeout: 500,
    });
    assert.equal('timeout' in wait('Bridge', [], [], '!=', []), false);
    assert.deepEqual(comment('netswitch apply'), { op: 'comment', comment: 'netswitch apply' });
  });
});
