// What `show` says of shaping and MTU: capabilities report each network's hostQos (and each NIC's
// or bond's `qos` list, VDSM's shape) from the classes the host has; kernel_config reports a
// bridgeless network's own MTU, not the one its NIC or bond carries for a VLAN sibling.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeLenient } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import { report as reportSchema } from '../../src/model/report.ts';
import type { Link, Snapshot } from '../../src/model/snapshot.ts';
import { layoutOf } from '../../src/plan/layout.ts';
import { qosLayoutOf } from '../../src/qos/hfsc.ts';
import { buildReport } from '../../src/report/report.ts';

/** The request applied with --replace, or merged into `base`. */
const config = (request: unknown, base?: Config): Config => {
  const { request: canonical, issues } = canonicalizeLenient(request);
  assert.deepEqual(issues, []);
  return mergeRequest(base ?? emptyConfig(), canonical, base === undefined).config;
};

let ifindex = 1;
const link = (name: string, kind: Link['kind'], extra: Partial<Link> = {}): Link => ({
  name, ifindex: ifindex++, kind, type: kind === 'nic' ? 'veth' : kind, mtu: 1500, mac: '52:54:00:00:00:01', up: true, operstate: 'UP', info: {}, slaveInfo: {}, addresses: [], ...extra,
});
const host = (links: Link[], extra: Partial<Snapshot> = {}): Snapshot => ({ time: 0, links: Object.fromEntries(links.map((l) => [l.name, l])), routes: [], rules: [], nameservers: [], ...extra });

describe('capabilities report the shaping the host has', () => {
  const request = {
    networks: {
      untagged: { nic: 'eth0', bridged: false, hostQos: { out: { ls: { m2: 1000 } } } },
      v10: { nic: 'eth0', vlan: 10, hostQos: { out: { ls: { m2: 5000000 }, ul: { m2: 40000000 } } } },
      plain: { nic: 'eth1', vlan: 20 },
    },
  };
  const cfg = config(request);
  const links = [link('eth0', 'nic'), link('eth0.10', 'vlan', { link: 'eth0', vlanId: 10, master: 'v10' }), link('v10', 'bridge', { info: { stp_state: 0 } }), link('eth1', 'nic'), link('eth1.20', 'vlan', { link: 'eth1', vlanId: 20, master: 'plain' }), link('plain', 'bridge', { info: { stp_state: 0 } })];

  it('networks.<net>.hostQos and the device\'s qos list, in the request\'s shape', () => {
    const report = buildReport(host(links, { qos: qosLayoutOf(cfg) }), cfg);
    const { networks, nics } = report.capabilities;
    assert.deepEqual(networks.untagged.hostQos, request.networks.untagged.hostQos);
    assert.deepEqual(networks.v10.hostQos, request.networks.v10.hostQos);
    assert.equal(networks.plain.hostQos, undefined);
    assert.deepEqual(nics.eth0.qos, [
      { hostQos: request.networks.untagged.hostQos, vlan: -1 },
      { hostQos: request.networks.v10.hostQos, vlan: 10 },
    ]);
    assert.equal('qos' in nics.eth1, false, 'a device without shaping has no qos key (VDSM\'s assertNoQosOnNic)');
    assert.doesNotThrow(() => reportSchema.parse(report));
  });

  it('what the host has, not what the config says: a class gone is not reported', () => {
    const shaping = qosLayoutOf(cfg);
    const eth0 = shaping.devs.eth0;
    const drifted = { devs: { eth0: { ...eth0, classes: eth0.classes.filter((c) => c.classid !== '1389:a') } } };
    const { networks, nics } = buildReport(host(links, { qos: drifted }), cfg).capabilities;
    assert.equal(networks.v10.hostQos, undefined);
    assert.deepEqual(nics.eth0.qos?.map((q) => q.vlan), [-1]);
  });

  it('the default class of an untagged network without hostQos is no shaping of that network', () => {
    const noQos = config({ networks: { ...request.networks, untagged: { nic: 'eth0', bridged: false } } });
    const { networks, nics } = buildReport(host(links, { qos: qosLayoutOf(noQos) }), noQos).capabilities;
    assert.equal(networks.untagged.hostQos, undefined);
    assert.deepEqual(nics.eth0.qos?.map((q) => q.vlan), [10]);
  });

  it('a bond\'s qos list', () => {
    const bonded = config({ bondings: { bond1: { nics: ['eth2', 'eth3'] } }, networks: { b30: { bonding: 'bond1', vlan: 30, bridged: false, hostQos: { out: { ls: { m2: 2000 } } } } } });
    const snapshot = host([link('eth2', 'nic', { master: 'bond1' }), link('eth3', 'nic', { master: 'bond1' }), link('bond1', 'bond', { info: { mode: 'balance-rr' } }), link('bond1.30', 'vlan', { link: 'bond1', vlanId: 30 })], { qos: qosLayoutOf(bonded) });
    const { networks, bondings } = buildReport(snapshot, bonded).capabilities;
    assert.deepEqual(networks.b30.hostQos, { out: { ls: { m2: 2000 } } });
    assert.deepEqual(bondings.bond1.qos, [{ hostQos: { out: { ls: { m2: 2000 } } }, vlan: 30 }]);
  });
});

describe('kernel_config: a network\'s own MTU', () => {
  // VDSM's link_mtu_test: a bridgeless network on bond1 (1500) beside a VLAN network of 1600.
  const request = {
    bondings: { bond1: { nics: ['eth0', 'eth1'] } },
    networks: {
      'test-network1': { bonding: 'bond1', vlan: 11, bridged: false, mtu: 1600 },
      'test-network2': { bonding: 'bond1', bridged: false },
    },
  };
  const cfg = config(request);
  const links = (bondMtu: number) => [
    link('eth0', 'nic', { master: 'bond1', mtu: bondMtu }),
    link('eth1', 'nic', { master: 'bond1', mtu: bondMtu }),
    link('bond1', 'bond', { mtu: bondMtu, info: { mode: 'balance-rr' } }),
    link('bond1.11', 'vlan', { link: 'bond1', vlanId: 11, mtu: 1600 }),
  ];

  it('the bond carries 1600 for its VLAN; the bridgeless network says its own 1500', () => {
    const kc = buildReport(host(links(1600)), cfg).kernel_config;
    assert.equal(kc.networks['test-network2'].mtu, undefined, '1500, the default, is left out');
    assert.equal(kc.networks['test-network1'].mtu, 1600);
    // Applied with --replace, kernel_config lays out the very MTUs the host has, and removing
    // the VLAN network afterwards takes the bond back to 1500.
    const again = config(kc);
    const mtus = (c: Config) => Object.fromEntries(Object.values(layoutOf(c, cfg).links).map((l) => [l.name, l.mtu]));
    assert.deepEqual(mtus(again), mtus(cfg));
    const removed = config({ networks: { 'test-network1': { remove: true } } }, again);
    assert.equal(layoutOf(removed, again).links.bond1.mtu, 1500);
  });

  it('an MTU no sibling explains is drift, and is reported', () => {
    const kc = buildReport(host(links(9000)), cfg).kernel_config;
    assert.equal(kc.networks['test-network2'].mtu, 9000);
  });

  it('a bridgeless network alone on its NIC: the NIC\'s MTU', () => {
    const alone = config({ networks: { n1: { nic: 'eth0', bridged: false, mtu: 1400 } } });
    assert.equal(buildReport(host([link('eth0', 'nic', { mtu: 1450 })]), alone).kernel_config.networks.n1.mtu, 1450);
  });
});
