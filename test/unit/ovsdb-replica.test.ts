import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Replica } from '../../src/ovsdb/replica.ts';
import type { TableUpdates, TableUpdates2 } from '../../src/ovsdb/replica.ts';
import type { DatabaseSchema } from '../../src/ovsdb/schema.ts';

// The Port table's shape in vswitch.ovsschema, cut down to one column of each kind.
const SCHEMA: DatabaseSchema = {
  name: 'Open_vSwitch',
  version: '8.3.1',
  tables: {
    Port: {
      columns: {
        name: { type: 'string' },
        tag: { type: { key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 1 } },
        trunks: { type: { key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 4096 } },
        external_ids: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        interfaces: { type: { key: { type: 'uuid', refTable: 'Interface' }, min: 1, max: 'unlimited' } },
        bond_fake_iface: { type: 'boolean' },
      },
    },
  },
};
const COLUMNS = { Port: ['name', 'tag', 'trunks', 'external_ids', 'interfaces', 'bond_fake_iface'] };
const P = '71e0d609-2f05-4d8e-bea7-052d5466c15c';
const Q = '5dcd4499-e95a-4fa2-b3e2-8ebebb3cd360';
const I1 = ['uuid', '2af84426-36ea-4873-a0f5-46de81577d0c'] as const;
const I2 = ['uuid', '81d7f20c-741d-4fb9-b9c2-49de1a01cff8'] as const;

// The same changes as ovsdb-server 3.1 reported them to a "monitor" and a "monitor_cond"
// (captured from a real server: ovs-vsctl set/remove/clear/add-br/del-br).
const V1: TableUpdates[] = [
  { Port: { [P]: { new: { name: 'br0', tag: 5, trunks: ['set', []], external_ids: ['map', []], interfaces: I1, bond_fake_iface: false } } } },
  {
    Port: {
      [P]: {
        new: { name: 'br0', tag: 10, trunks: ['set', [1, 2, 3]], external_ids: ['map', [['a', '1'], ['b', '2']]], interfaces: I1, bond_fake_iface: false },
        old: { external_ids: ['map', []], trunks: ['set', []], tag: 5 },
      },
    },
  },
  {
    Port: {
      [P]: {
        new: { name: 'br0', tag: 11, trunks: ['set', [2, 3, 4]], external_ids: ['map', [['a', '9']]], interfaces: I1, bond_fake_iface: false },
        old: { external_ids: ['map', [['a', '1'], ['b', '2']]], trunks: ['set', [1, 2, 3]], tag: 10 },
      },
    },
  },
  {
    Port: {
      [P]: {
        new: { name: 'br0', tag: ['set', []], trunks: ['set', [2, 3, 4]], external_ids: ['map', [['a', '9']]], interfaces: I1, bond_fake_iface: false },
        old: { tag: 11 },
      },
      [Q]: { new: { name: 'br1', tag: ['set', []], trunks: ['set', []], external_ids: ['map', []], interfaces: I2, bond_fake_iface: false } },
    },
  },
  { Port: { [P]: { new: { name: 'br0', tag: ['set', []], trunks: 3, external_ids: ['map', [['a', '9']]], interfaces: ['set', [I1, I2]], bond_fake_iface: false }, old: { trunks: ['set', [2, 3, 4]], interfaces: I1 } } } },
  { Port: { [Q]: { old: { name: 'br1', tag: ['set', []], trunks: ['set', []], external_ids: ['map', []], interfaces: I2, bond_fake_iface: false } } } },
];
const V2: TableUpdates2[] = [
  { Port: { [P]: { initial: { interfaces: I1, name: 'br0', tag: 5 } } } },
  { Port: { [P]: { modify: { external_ids: ['map', [['a', '1'], ['b', '2']]], tag: 10, trunks: ['set', [1, 2, 3]] } } } },
  { Port: { [P]: { modify: { external_ids: ['map', [['a', '9'], ['b', '2']]], tag: 11, trunks: ['set', [1, 4]] } } } },
  { Port: { [Q]: { insert: { interfaces: I2, name: 'br1' } }, [P]: { modify: { tag: ['set', []] } } } },
  // A one-element diff arrives as the bare element.
  { Port: { [P]: { modify: { trunks: ['set', [2, 4]], interfaces: I2 } } } },
  { Port: { [Q]: { delete: null } } },
];

describe('Replica', () => {
  it('ends up with identical rows from update and update2 streams of the same changes', () => {
    const r1 = new Replica(SCHEMA, COLUMNS);
    const r2 = new Replica(SCHEMA, COLUMNS);
    for (let i = 0; i < V1.length; i++) {
      r1.applyUpdate(V1[i]);
      r2.applyUpdate2(V2[i]);
      assert.deepEqual(r2.toJSON(), r1.toJSON(), `after update ${i}`);
    }
    assert.deepEqual(r1.get('Port', P), {
      name: 'br0',
      tag: ['set', []],
      trunks: 3,
      external_ids: ['map', [['a', '9']]],
      interfaces: ['set', [I1, I2]],
      bond_fake_iface: false,
    });
    assert.equal(r1.get('Port', Q), undefined);
  });

  it('fills the default values update2 leaves out of inserted rows', () => {
    const r = new Replica(SCHEMA, { Port: undefined });
    r.applyUpdate2({ Port: { [P]: { insert: { name: 'p', interfaces: I1 } } } });
    assert.deepEqual(r.get('Port', P), {
      name: 'p',
      tag: ['set', []],
      trunks: ['set', []],
      external_ids: ['map', []],
      interfaces: I1,
      bond_fake_iface: false,
    });
  });

  it('reports inserts, modifies and deletes with the rows before and after', () => {
    const r = new Replica(SCHEMA, COLUMNS);
    assert.deepEqual(
      r.applyUpdate2(V2[0]).map((c) => c.kind),
      ['insert'],
    );
    const [mod] = r.applyUpdate2(V2[1]);
    assert.equal(mod.kind, 'modify');
    assert.equal(mod.old?.tag, 5);
    assert.equal(mod.new?.tag, 10);
    r.applyUpdate2(V2[2]);
    r.applyUpdate2(V2[3]);
    const [del] = r.applyUpdate2(V2[5]);
    assert.deepEqual([del.kind, del.uuid, del.old?.name], ['delete', Q, 'br1']);
    assert.equal(r.find('Port', (row) => row.name === 'br0')?.uuid, P);
    assert.equal(r.size, 1);
  });

  it('refreshes from a new initial state and reports what changed meanwhile', () => {
    const r = new Replica(SCHEMA, COLUMNS);
    r.applyUpdate2({ Port: { [P]: { initial: { name: 'a', interfaces: I1 } }, [Q]: { initial: { name: 'b', interfaces: I2 } } } });
    const fresh = new Replica(SCHEMA, COLUMNS);
    const R = '00000000-0000-0000-0000-0000000000aa';
    fresh.applyUpdate2({ Port: { [P]: { initial: { name: 'a', interfaces: I1, tag: 7 } }, [R]: { initial: { name: 'c', interfaces: I2 } } } });
    const changes = r.replaceWith(fresh);
    assert.deepEqual(
      changes.map((c) => [c.kind, c.uuid]).sort(),
      [
        ['delete', Q],
        ['insert', R],
        ['modify', P],
      ].sort(),
    );
    assert.deepEqual(r.toJSON(), fresh.toJSON());
  });

  it('refuses an update for a table it does not monitor', () => {
    const r = new Replica(SCHEMA, COLUMNS);
    assert.throws(() => r.applyUpdate({ Bridge: {} }), /not monitored/);
  });
});
