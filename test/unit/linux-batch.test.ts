// Which step of an `ip -batch` failed: what the rollback of a failed apply undoes depends on it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Link } from '../../src/model/snapshot.ts';
import type { LinuxStep } from '../../src/plan/steps.ts';
import { failedBatchLine, segments } from '../../src/switch/linux/execute.ts';

const lines = [
  'link set dev eth0 down',
  'link set dev eth0 nomaster',
  'link del dev bond1',
  'link add name bond1 type bond mode active-backup arp_interval 100 arp_ip_target 192.0.2.1,300.1.1.1',
  'link set dev eth0 master bond1',
];

describe('failedBatchLine', () => {
  it('takes the line "Command failed" names', () => {
    assert.equal(failedBatchLine('RTNETLINK answers: File exists\nCommand failed -:3\n', lines), 2);
  });
  it('finds a line ip could not parse (it names none) by the value its message quotes, in a list too', () => {
    assert.equal(failedBatchLine('Error: an IP address is expected rather than "300.1.1.1".\n', lines), 3);
    assert.equal(failedBatchLine('Error: argument "bond1" is wrong: invalid\n', lines), 4, 'the last line holding it: later errs on the safe side');
  });
  it('is undefined when nothing tells (every step may have run)', () => {
    assert.equal(failedBatchLine('Segmentation fault\n', lines), undefined);
    assert.equal(failedBatchLine('Error: "nowhere" is bad\n', lines), undefined);
  });
});

// Lanes: long runs of steps split by device family, to run in `ip` processes side by side.
function hostLink(name: string, kind: Link['kind'], extra: Partial<Link> = {}): Link {
  return { name, ifindex: 1, kind, type: kind === 'nic' ? '' : kind, mtu: 1500, mac: '', up: true, operstate: 'UP', info: {}, slaveInfo: {}, addresses: [], ...extra };
}

/** A bridge per NIC, as an apply of N bridged networks plans them (5 steps each). */
function bridges(n: number, from = 0): LinuxStep[] {
  const range = Array.from({ length: n }, (_, k) => k + from);
  return [
    ...range.map((k): LinuxStep => ({ op: 'link.add', link: { name: `net${k}`, kind: 'bridge', mtu: 1500, addresses: [] } })),
    ...range.map((k): LinuxStep => ({ op: 'link.set', name: `eth${k}`, attr: 'master', from: null, to: `net${k}` })),
    ...range.map((k): LinuxStep => ({ op: 'sysctl.set', dev: `net${k}`, key: 'accept_ra', from: '1', to: '0' })),
    ...range.map((k): LinuxStep => ({ op: 'link.set', name: `net${k}`, attr: 'up', from: false, to: true })),
    ...range.map((k): LinuxStep => ({ op: 'addr.add', dev: `net${k}`, cidr: `10.0.${k}.1/30` })),
  ];
}

/** The device of each step of a lane. */
function devicesOf(steps: readonly LinuxStep[], lane: readonly number[]): Set<string> {
  return new Set(lane.map((i) => JSON.stringify(steps[i]).match(/"(?:name|dev)":"([^"]+)"/)?.[1] ?? '?'));
}

describe('segments', () => {
  it('runs a short plan as one lane', () => {
    const steps = bridges(10);
    assert.deepEqual(segments(steps, {}, 4), [{ lanes: [steps.map((_, i) => i)] }]);
  });

  it('splits a long run into balanced lanes, each with whole families in the plan order', () => {
    const steps = bridges(200);
    const [segment, ...more] = segments(steps, {}, 2);
    assert.equal(more.length, 0);
    assert.equal(segment.lanes.length, 2);
    assert.deepEqual([...segment.lanes.flat()].sort((a, b) => a - b), steps.map((_, i) => i), 'every step once');
    for (const lane of segment.lanes) {
      assert.deepEqual(lane, [...lane].sort((a, b) => a - b), 'in order');
      assert.ok(Math.abs(lane.length - steps.length / 2) <= 5, `balanced: ${lane.length}`);
    }
    // A bridge and its port in the same lane: eth7's attach to net7 goes with net7's steps.
    const laneOf = (dev: string) => segment.lanes.findIndex((lane) => devicesOf(steps, lane).has(dev));
    for (const k of [0, 7, 199]) assert.equal(laneOf(`eth${k}`), laneOf(`net${k}`));
  });

  it('keeps devices related on the host together, though no step relates them', () => {
    // eth3 is a port of net3 and vlan eth5.10 is on eth5 already: MTU steps on both ends.
    const links = {
      net3: hostLink('net3', 'bridge'),
      eth3: hostLink('eth3', 'nic', { master: 'net3' }),
      eth5: hostLink('eth5', 'nic'),
      'eth5.10': hostLink('eth5.10', 'vlan', { link: 'eth5' }),
      ovsport: hostLink('ovsport', 'ovs', { master: 'ovs-system' }),
      ovs2: hostLink('ovs2', 'ovs', { master: 'ovs-system' }),
      'ovs-system': hostLink('ovs-system', 'other'),
    };
    const mtu = (name: string): LinuxStep => ({ op: 'link.set', name, attr: 'mtu', from: 1500, to: 9000 });
    const steps = [mtu('eth3'), mtu('eth5'), ...bridges(200, 10), mtu('net3'), mtu('eth5.10'), mtu('ovsport'), mtu('ovs2')];
    const [segment] = segments(steps, links, 4);
    const laneOf = (dev: string) => segment.lanes.findIndex((lane) => devicesOf(steps, lane).has(dev));
    assert.equal(laneOf('eth3'), laneOf('net3'));
    assert.equal(laneOf('eth5'), laneOf('eth5.10'));
    assert.equal(segment.lanes.length, 4);
    assert.notEqual(laneOf('ovsport'), laneOf('ovs2'), 'OVS ports are not related through the datapath device');
  });

  it('relates devices by the steps: a VLAN and its lower device, a slave and the bond it leaves', () => {
    const steps: LinuxStep[] = [
      { op: 'link.set', name: 'eth1', attr: 'master', from: 'bond0', to: null },
      { op: 'link.add', link: { name: 'eth2.20', kind: 'vlan', mtu: 1500, addresses: [], vlan: { link: 'eth2', id: 20 } } },
      ...bridges(200, 10),
      { op: 'link.del', link: { name: 'bond0', kind: 'bond', mtu: 1500, addresses: [] } },
      { op: 'link.set', name: 'eth2', attr: 'up', from: false, to: true },
    ];
    const [segment] = segments(steps, {}, 8);
    const laneOf = (dev: string) => segment.lanes.findIndex((lane) => devicesOf(steps, lane).has(dev));
    assert.equal(laneOf('eth1'), laneOf('bond0'));
    assert.equal(laneOf('eth2'), laneOf('eth2.20'));
  });

  it('runs a step about no one device (routes, nameservers) alone, after all before it', () => {
    const route: LinuxStep = { op: 'route.add', route: { family: 4, dst: 'default', gateway: '10.0.0.2', dev: 'net0', table: 'main' } };
    const steps = [...bridges(100), route, ...bridges(100, 100)];
    const out = segments(steps, {}, 2);
    assert.equal(out.length, 3);
    assert.deepEqual(out[1], { lanes: [[500]] });
    assert.ok(out[0].lanes.flat().every((i) => i < 500) && out[2].lanes.flat().every((i) => i > 500));
    assert.equal(out[0].lanes.length, 2, 'a long segment before it: lanes');
  });
});
