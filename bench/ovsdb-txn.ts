// Baseline (c) of the ovs suite: the rows of N VLAN networks on a two-NIC bond written by
// hand as one raw OVSDB transaction with netswitch's own client, then the wait for
// ovs-vswitchd (next_cfg -> cur_cfg) — the least any OVSDB-based tool can do for this change.
// Imported by bench/ovs.ts (in-process), or run as a program (whole process):
//   node bench/ovsdb-txn.ts unix:/path/db.sock N [datapath]   prints {"ms": ...}
import { fileURLToPath } from 'node:url';
import {
  type Operation,
  OvsdbClient,
  type OvsdbTarget,
  type Row,
  insert,
  insertInto,
  mutate,
  mutation,
  namedUuid,
  select,
  toSet,
  wait,
} from '../src/ovsdb/index.ts';

const DB = 'Open_vSwitch';

/** The same rows as netswitch's layout: bridge br-bond0, bond0 over eth0+eth1, internal port netK tagged K. */
export function vlanNetworkOps(n: number, datapath: string): Operation[] {
  const ops: Operation[] = [];
  const port = (id: string, name: string, interfaces: { name: string; type: string }[], columns: Row = {}) => {
    const ifaceIds = interfaces.map((iface, i) => {
      ops.push(insert('Interface', { name: iface.name, type: iface.type }, `${id}_i${i}`));
      return namedUuid(`${id}_i${i}`);
    });
    ops.push(insert('Port', { name, interfaces: toSet(ifaceIds), ...columns }, id));
    return namedUuid(id);
  };
  const ports = [
    port('local', 'br-bond0', [{ name: 'br-bond0', type: 'internal' }]),
    port('bond', 'bond0', [{ name: 'eth0', type: '' }, { name: 'eth1', type: '' }], { bond_mode: 'active-backup' }),
  ];
  for (let k = 1; k <= n; k++) ports.push(port(`net${k}`, `net${k}`, [{ name: `net${k}`, type: 'internal' }], { tag: k }));
  ops.push(
    insert('Bridge', { name: 'br-bond0', datapath_type: datapath, ports: toSet(ports) }, 'br'),
    mutate('Open_vSwitch', [], [insertInto('bridges', toSet([namedUuid('br')])), mutation('next_cfg', '+=', 1)]),
    select('Open_vSwitch', [], ['next_cfg']),
  );
  return ops;
}

/** Connect, transact, wait until ovs-vswitchd has applied it; resolves to the milliseconds taken. */
export async function applyVlanNetworks(target: OvsdbTarget, n: number, datapath: string): Promise<number> {
  const start = performance.now();
  const client = await OvsdbClient.connect(target, { timeoutMs: 120_000 });
  try {
    const ops = vlanNetworkOps(n, datapath);
    const results = await client.transact(DB, ops);
    const nextCfg = Number((results[results.length - 1] as { rows: Row[] }).rows[0].next_cfg);
    await client.transact(DB, [wait('Open_vSwitch', [], ['cur_cfg'], '==', [{ cur_cfg: nextCfg }], 120_000)]);
  } finally {
    await client.close();
  }
  return performance.now() - start;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [target, n, datapath = 'netdev'] = process.argv.slice(2);
  if (!target?.startsWith('unix:') || !Number.isInteger(Number(n))) {
    process.stderr.write('usage: node bench/ovsdb-txn.ts unix:/path/db.sock N [datapath]\n');
    process.exit(2);
  }
  const ms = await applyVlanNetworks(target as OvsdbTarget, Number(n), datapath);
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
}
