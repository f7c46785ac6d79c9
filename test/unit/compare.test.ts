import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffSnapshots } from '../../src/host/compare.ts';
import type { Link, Snapshot } from '../../src/model/snapshot.ts';

const link = (name: string, mac: string, type = 'bridge'): Link => ({
  name,
  ifindex: 1,
  kind: type === 'bridge' ? 'bridge' : 'other',
  type,
  mtu: 1500,
  mac,
  up: true,
  operstate: 'UP',
  info: {},
  slaveInfo: {},
  addresses: [],
});
const snapshot = (...links: Link[]): Snapshot => ({ time: 0, links: Object.fromEntries(links.map((l) => [l.name, l])), routes: [], rules: [], nameservers: [] });

describe('diffSnapshots (the rollback proof)', () => {
  it('names a configured difference', () => {
    const port = { ...link('eth0', '02:00:00:00:00:09', 'veth'), master: 'br0' };
    assert.deepEqual(diffSnapshots(snapshot(link('br0', '02:00:00:00:00:01'), port), snapshot(link('br0', '02:00:00:00:00:02'), port)), ['link br0 mac: "02:00:00:00:00:01" -> "02:00:00:00:00:02"']);
    assert.deepEqual(diffSnapshots(snapshot(link('br0', '02:00:00:00:00:01')), snapshot()), ['link br0 disappeared']);
  });

  it("leaves out a port-less bridge's MAC (random, known to no neighbour; a rollback re-creates it without one)", () => {
    assert.deepEqual(diffSnapshots(snapshot(link('br0', '02:00:00:00:00:01')), snapshot(link('br0', '02:00:00:00:00:02'))), []);
    const port = { ...link('eth0', '02:00:00:00:00:09', 'veth'), master: 'br0' };
    assert.deepEqual(diffSnapshots(snapshot(link('br0', '02:00:00:00:00:01')), snapshot(link('br0', '02:00:00:00:00:02'), port)).length, 2, 'a port came, and with it the MAC counts');
  });

  it("leaves out OVS's datapath devices: ovs-vswitchd re-makes them with a new MAC, or drops them with the last bridge", () => {
    for (const dev of ['ovs-netdev', 'ovs-system']) {
      const type = dev === 'ovs-netdev' ? 'tun' : 'openvswitch';
      assert.deepEqual(diffSnapshots(snapshot(link(dev, '02:00:00:00:00:01', type)), snapshot(link(dev, '02:00:00:00:00:02', type))), [], dev);
      assert.deepEqual(diffSnapshots(snapshot(link(dev, '02:00:00:00:00:01', type)), snapshot()), [], dev);
    }
  });

  it('leaves out the MACs a balance-tlb/alb bond gives its slaves, not those of other slaves', () => {
    const host = (mode: string, eth0: string) => snapshot({ ...link('bond0', '02:00:00:00:00:09', 'bond'), info: { mode } }, { ...link('eth0', eth0, 'veth'), master: 'bond0' });
    assert.deepEqual(diffSnapshots(host('balance-alb', '02:00:00:00:00:01'), host('balance-alb', '02:00:00:00:00:02')), []);
    assert.deepEqual(diffSnapshots(host('active-backup', '02:00:00:00:00:01'), host('active-backup', '02:00:00:00:00:02')), ['link eth0 mac: "02:00:00:00:00:01" -> "02:00:00:00:00:02"']);
  });

  it("leaves out the MTU of an OVS bridge's own port (ovs-vswitchd's), not that of a network's port", () => {
    const withOvs = (mtus: Record<string, number>): Snapshot => {
      const s = snapshot(...Object.entries(mtus).map(([name, mtu]) => ({ ...link(name, '02:00:00:00:00:01', 'openvswitch'), mtu })));
      const bridge = { name: 'br-bond0', ports: {} } as unknown as NonNullable<Snapshot['ovs']>['layout']['bridges'][string];
      return { ...s, ovs: { layout: { bridges: { 'br-bond0': bridge } }, bridges: {}, ports: {}, interfaces: {} } as unknown as Snapshot['ovs'] };
    };
    assert.deepEqual(diffSnapshots(withOvs({ 'br-bond0': 1500, vm1: 1600 }), withOvs({ 'br-bond0': 1600, vm1: 1600 })), []);
    assert.deepEqual(diffSnapshots(withOvs({ 'br-bond0': 1500, vm1: 1600 }), withOvs({ 'br-bond0': 1500, vm1: 1500 })), ['link vm1 mtu: 1600 -> 1500']);
  });

  it('says a route or rule that differs in ip words', () => {
    const route = { family: 4 as const, dst: '198.51.100.0/24', dev: 'eth2', table: '30120550', protocol: 'static', metric: 10 };
    const rule = { family: 4 as const, priority: 32000, src: '198.51.100.0/24', table: '30120550' };
    assert.deepEqual(diffSnapshots(snapshot(), { ...snapshot(), routes: [route], rules: [rule] }), [
      'route new: IPv4 198.51.100.0/24 dev eth2 table 30120550 proto static metric 10',
      'rule new: IPv4 priority 32000 from 198.51.100.0/24 lookup 30120550',
    ]);
  });
});
