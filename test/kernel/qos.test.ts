// Kernel tier, host QoS: HFSC shaping built from src/qos/hfsc.ts's tc lines on a real kernel
// (UML 6.1: the host kernel has no HFSC), read back with tc and parsed by src/qos/tc-read.ts,
// and the limits checked with real traffic (iperf3 across a veth, VLAN-tagged and untagged).
// Every tc script is made here on the host and handed to the guest in its environment: node
// inside UML is slow, tc is not.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import { type QosLayout, type QosStep, planQos, qosLayoutOf, sameQos, tcBatchScript, undoQos } from '../../src/qos/hfsc.ts';
import { qosReadBatch, readQos, readQosAll } from '../../src/qos/tc-read.ts';
import { type CheckContext, type Scenario, runScenario } from './scenario.ts';
import { umlSkipReason } from './uml.ts';

const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;

const UL_VLAN100 = 20_000_000;
const UL_UNTAGGED = 10_000_000;
const UL_VLAN100_AFTER = 30_000_000;

// Before: the untagged network and VLAN 100 on the veth va shaped, VLAN 10 on a bond.
const BEFORE = qosLayoutOf(
  config({
    bondings: { bond0: { nics: ['d0'], options: 'mode=active-backup' } },
    networks: {
      mgmt: { nic: 'va', bridged: false, hostQos: { out: { ls: { m2: 50 }, ul: { m2: UL_UNTAGGED } } } },
      vm100: { nic: 'va', vlan: 100, bridged: false, hostQos: { out: { ls: { m2: 50 }, ul: { m2: UL_VLAN100 } } } },
      b10: { bonding: 'bond0', vlan: 10, hostQos: { out: { ls: { m2: 10 }, rt: { m1: 2_000_000, d: 10_000, m2: 1_000_000 } } } },
    },
  }),
);
// After: VLAN 100's limit raised (a class change), the untagged network's limit dropped (its
// class re-created), VLAN 0 shaped (a new class and filter), the bond no longer shaped.
const AFTER = qosLayoutOf(
  config({
    bondings: { bond0: { nics: ['d0'], options: 'mode=active-backup' } },
    networks: {
      mgmt: { nic: 'va', bridged: false, hostQos: { out: { ls: { m2: 50 } } } },
      vm100: { nic: 'va', vlan: 100, bridged: false, hostQos: { out: { ls: { m2: 50 }, ul: { m2: UL_VLAN100_AFTER } } } },
      stor: { nic: 'va', vlan: 0, bridged: false, hostQos: { out: { ls: { m2: 20 }, ul: { m2: 5_000_000 } } } },
      b10: { bonding: 'bond0', vlan: 10 },
    },
  }),
);
const BUILD = planQos({ devs: {} }, BEFORE);
const CHANGE = planQos(BEFORE, AFTER);
const DEVS = ['va', 'bond0'];

const script = (steps: QosStep[]) => tcBatchScript(steps).input;

const qos: Scenario = {
  name: 'host QoS: HFSC from tcBatchLines on a veth and a bond, read back, changed, undone; iperf3 within the limits',
  timeoutMs: 120_000,
  env: {
    QOS_BUILD: script(BUILD),
    QOS_CHANGE: script(CHANGE),
    QOS_UNDO_CHANGE: script(undoQos(CHANGE)),
    QOS_UNDO_BUILD: script(undoQos(BUILD)),
    QOS_READ: qosReadBatch(DEVS)
      .map((l) => `${l.join(' ')}\n`)
      .join(''),
  },
  script: String.raw`
modprobe -a sch_hfsc cls_basic em_meta sch_fq_codel veth 8021q bonding dummy
ip netns add h
ip netns add p
ip link add dev va netns h type veth peer name vb netns p
ip -n h link add link va name va.100 type vlan id 100
ip -n p link add link vb name vb.100 type vlan id 100
ip -n h link add bond0 type bond mode active-backup
ip -n h link add d0 type dummy
ip -n h link set d0 master bond0
for l in va va.100 bond0; do ip -n h link set $l up; done
for l in vb vb.100; do ip -n p link set $l up; done
ip -n h addr add 10.0.0.1/24 dev va
ip -n p addr add 10.0.0.2/24 dev vb
ip -n h addr add 10.1.0.1/24 dev va.100
ip -n p addr add 10.1.0.2/24 dev vb.100
ip netns exec p iperf3 -s -D -p 5201
# tc_run VAR: run the tc script in the environment variable VAR in namespace h, as the
# executor will (tc -batch -).
tc_run() { printenv "$1" | ip netns exec h tc -batch -; }
# read_qos TAG: what the reader runs (all qdiscs, then one batch of class/filter shows), and
# per device the three shows with statistics.
read_qos() {
  ip netns exec h tc qdisc show > "$UML_OUT/$1.qdisc"
  printf '%s' "$QOS_READ" | ip netns exec h tc -batch - > "$UML_OUT/$1.batch"
  for d in va bond0; do
    ip netns exec h tc -s qdisc show dev $d > "$UML_OUT/$1.$d.qdisc"
    ip netns exec h tc class show dev $d > "$UML_OUT/$1.$d.class"
    ip netns exec h tc filter show dev $d > "$UML_OUT/$1.$d.filter"
  done
}
wait_for 10 ip netns exec h ping -c1 -W1 10.1.0.2
tc_run QOS_BUILD
read_qos before
save iperf-vlan100.json ip netns exec h iperf3 -c 10.1.0.2 -p 5201 -t 3 -J
save iperf-untagged.json ip netns exec h iperf3 -c 10.0.0.2 -p 5201 -t 3 -J
save classes-after-traffic.txt ip netns exec h tc -s class show dev va
tc_run QOS_CHANGE
read_qos after
save iperf-vlan100-after.json ip netns exec h iperf3 -c 10.1.0.2 -p 5201 -t 2 -J
tc_run QOS_UNDO_CHANGE
read_qos undone-change
tc_run QOS_UNDO_BUILD
read_qos undone-build
`,
  async check(_r, c) {
    const readAll = (tag: string): QosLayout => readQosAll(c.file(`${tag}.qdisc`), c.file(`${tag}.batch`));
    const readEach = (tag: string): QosLayout => {
      const layout: QosLayout = { devs: {} };
      for (const d of DEVS) Object.assign(layout.devs, readQos(d, { qdisc: c.file(`${tag}.${d}.qdisc`), class: c.file(`${tag}.${d}.class`), filter: c.file(`${tag}.${d}.filter`) }).devs);
      return layout;
    };
    const roundTrip = async (tag: string, want: QosLayout, what: string) => {
      await c.sub(`${tag}: tc shows ${what}`, () => {
        assert.deepEqual(readAll(tag), want);
        assert.deepEqual(readEach(tag), want);
        assert.ok(sameQos(readAll(tag), want));
      });
    };
    await roundTrip('before', BEFORE, 'exactly the layout built (veth and bond, read both ways)');
    await roundTrip('after', AFTER, 'the changed layout (class changed, re-created, added; the bond cleared)');
    await roundTrip('undone-change', BEFORE, 'the layout before the change again (undo of the change)');
    await roundTrip('undone-build', { devs: {} }, 'no shaping (undo of the build): root qdiscs back to the default');
    await c.sub('undone-build: the root qdiscs are the kernel defaults again', () => {
      assert.match(c.file('undone-build.va.qdisc'), /^qdisc noqueue 0: root/m);
      assert.match(c.file('undone-build.bond0.qdisc'), /^qdisc noqueue 0: root/m);
    });
    await c.sub('the change plan had every kind of step', () => {
      const ops = new Set(CHANGE.map((s) => s.op));
      for (const op of ['tc.filter.del', 'tc.class.del', 'tc.qdisc.del', 'tc.class.add', 'tc.class.change', 'tc.filter.add']) assert.ok(ops.has(op as QosStep['op']), `${op} in ${[...ops].join(', ')}`);
    });
    await checkRate(c, 'iperf-vlan100.json', UL_VLAN100, 'VLAN 100 (its own class, ul 20 Mbit/s)');
    await checkRate(c, 'iperf-untagged.json', UL_UNTAGGED, 'untagged (the default class, ul 10 Mbit/s)');
    await checkRate(c, 'iperf-vlan100-after.json', UL_VLAN100_AFTER, 'VLAN 100 after the change (ul 30 Mbit/s)');
    await c.sub('the tagged traffic went through class 1389:64, the untagged through 1389:1388', () => {
      const sent = (classid: string) => Number(new RegExp(`^class hfsc ${classid} .*\\n Sent (\\d+) bytes`, 'm').exec(c.file('classes-after-traffic.txt'))?.[1] ?? 0);
      assert.ok(sent('1389:64') > 2_000_000, `1389:64 sent ${sent('1389:64')} bytes`);
      assert.ok(sent('1389:1388') > 1_000_000, `1389:1388 sent ${sent('1389:1388')} bytes`);
    });
  },
};

/** The receiver's rate of an iperf3 -J run lies within loose bounds of the limit (shaping holds it there). */
async function checkRate(c: CheckContext, file: string, limit: number, what: string): Promise<void> {
  await c.sub(`iperf3 ${what}: received rate within 0.3-1.5 x the limit`, () => {
    const rate = c.json(file).end.sum_received.bits_per_second as number;
    c.t.diagnostic(`${what}: ${(rate / 1e6).toFixed(1)} Mbit/s received (limit ${limit / 1e6})`);
    assert.ok(rate > 0.3 * limit && rate < 1.5 * limit, `${(rate / 1e6).toFixed(1)} Mbit/s, limit ${limit / 1e6} Mbit/s`);
  });
}

describe('kernel tier: host QoS (user-mode Linux)', { skip: umlSkipReason() }, () => {
  test(qos.name, async (t) => {
    await runScenario(qos, t);
  });
});
