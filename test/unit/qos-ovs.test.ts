// Host QoS on Open vSwitch: VDSM's curves mapped onto linux-hfsc QoS and Queue rows, what OVS
// cannot express refused with the field's path, flows that put each network's traffic into its
// queue (as ovs-ofctl prints them, texts below verbatim from ovs-ofctl 3.1), the plan between two
// layouts with steps that undo exactly, and the report read back from rows and flows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffSnapshots } from '../../src/host/compare.ts';
import { canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import type { OvsLayout } from '../../src/model/ovs.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { type OvsStep, ovsLayoutOf, planOvs } from '../../src/plan/ovs.ts';
import { type FlowStep, bundleLine, cookieOf, parseFlows, planFlows, portRef, queueFlowOf, queueOfFlow } from '../../src/plan/ovs-flows.ts';
import { type Step, commandsOf, describeStep, invert, undo } from '../../src/plan/steps.ts';
import { hostQosProblems, qosLayoutOf } from '../../src/qos/hfsc.ts';
import { ROOT_RATE, hostQosOfQueue, ovsClassidOf, ovsHostQosProblems, queueIdOf, queueOf } from '../../src/qos/ovs.ts';
import { ovsKernelConfig } from '../../src/report/ovs.ts';
import { ipInfo } from '../../src/report/report.ts';

const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;
const clone = <T>(v: T): T => structuredClone(v);

const REQUEST = {
  bondings: { bond0: { nics: ['eth2', 'eth3'], switch: 'ovs', options: 'mode=active-backup' } },
  networks: {
    mgmt: { nic: 'eth0', switch: 'ovs', hostQos: { out: { ls: { m2: 50 }, ul: { m2: 100_000_000 } } } },
    vm100: { nic: 'eth0', vlan: 100, switch: 'ovs', hostQos: { out: { ls: { m2: 20 } } } },
    plain: { nic: 'eth0', vlan: 300, switch: 'ovs' },
    stor: { bonding: 'bond0', vlan: 0, switch: 'ovs', hostQos: { out: { rt: { m2: 1_000_000 } } } },
    vm_200: { bonding: 'bond0', vlan: 200, switch: 'ovs', hostQos: { out: { rt: { m2: 5_000_000 }, ul: { m2: 10_000_000 } } } },
  },
};
const CONFIG = config(REQUEST);
const LAYOUT = ovsLayoutOf(CONFIG, 'system');

describe('hostQos on OVS: the QoS and Queue rows', () => {
  it('a linux-hfsc QoS row on each shaped southbound port (NIC port and bond port), none elsewhere', () => {
    const eth0 = LAYOUT.bridges['br-eth0'].ports.eth0.qos;
    assert.deepEqual(eth0, {
      type: 'linux-hfsc',
      maxRate: ROOT_RATE,
      queues: {
        0: { minRate: 400, maxRate: ROOT_RATE },
        100: { minRate: 160, maxRate: ROOT_RATE, network: 'vm100', basis: 'ls' },
        5000: { minRate: 400, maxRate: 100_000_000, network: 'mgmt', basis: 'ls' },
      },
    });
    const bond = LAYOUT.bridges['br-bond0'].ports.bond0.qos;
    assert.deepEqual(bond?.queues, {
      0: { minRate: 5_000_000, maxRate: ROOT_RATE },
      200: { minRate: 5_000_000, maxRate: 10_000_000, network: 'vm_200', basis: 'rt' },
      4096: { minRate: 1_000_000, maxRate: ROOT_RATE, network: 'stor', basis: 'rt' },
    });
    for (const b of Object.values(LAYOUT.bridges)) for (const p of Object.values(b.ports)) if (p.name !== 'eth0' && p.name !== 'bond0') assert.equal(p.qos, undefined, p.name);
    assert.equal(ROOT_RATE, 34_359_738_360);
  });

  it('queue ids: the VLAN id, VLAN 0 4096, untagged 5000; OVS makes class 1:<id+1> in hex', () => {
    assert.deepEqual([queueIdOf(100), queueIdOf(0), queueIdOf(undefined), queueIdOf(4094)], [100, 4096, 5000, 4094]);
    assert.deepEqual([ovsClassidOf(0), ovsClassidOf(100), ovsClassidOf(5000)], ['1:1', '1:65', '1:1389']);
  });

  it('a flow per shaped network, on its bridge, with a cookie of its own', () => {
    assert.deepEqual(LAYOUT.flows, [
      { bridge: 'br-bond0', cookie: '0x6e737700000000c8', match: 'priority=100,in_port="vm_200"', actions: 'set_queue:200,NORMAL' },
      { bridge: 'br-bond0', cookie: '0x6e73770000001000', match: 'priority=100,in_port=stor', actions: 'set_queue:4096,NORMAL' },
      { bridge: 'br-eth0', cookie: '0x6e73770000000064', match: 'priority=100,in_port=vm100', actions: 'set_queue:100,NORMAL' },
      { bridge: 'br-eth0', cookie: '0x6e73770000001388', match: 'priority=100,in_port=mgmt', actions: 'set_queue:5000,NORMAL' },
    ]);
    assert.equal(ovsLayoutOf(config({ networks: { n: { nic: 'eth0', switch: 'ovs' } } }), 'system').flows, undefined);
  });

  it('the report maps a queue back to the request (ls, rt, ul)', () => {
    for (const qos of [{ out: { ls: { m2: 50 }, ul: { m2: 100_000_000 } } }, { out: { ls: { m2: 1 } } }, { out: { rt: { m2: 5_000_000 }, ul: { m2: 10_000_000 } } }]) {
      assert.deepEqual(hostQosOfQueue(queueOf('n', qos)), qos);
    }
    // rows someone changed by hand still read as something a request can say
    assert.deepEqual(hostQosOfQueue({ minRate: 401, maxRate: 7, basis: 'ls' }), { out: { rt: { m2: 401 }, ul: { m2: 7 } } });
  });

  it('legacy shaping (tc) is left to the legacy networks: the layout skips OVS networks', () => {
    assert.deepEqual(qosLayoutOf(CONFIG), { devs: {} });
    const legacy = config({ networks: { a: { nic: 'eth0', hostQos: { out: { ls: { m2: 5 } } } } } });
    assert.deepEqual(Object.keys(qosLayoutOf(legacy).devs), ['eth0']);
  });
});

describe('hostQos on OVS: what linux-hfsc cannot express is refused', () => {
  it('accepts the mapping above; OVS bonds are no longer refused', () => {
    assert.deepEqual(ovsHostQosProblems(CONFIG), []);
    assert.deepEqual(hostQosProblems(CONFIG), []);
  });

  it('refuses m1/d, rt with ls, rt beside shares, ul below min-rate, neither ls nor rt — each with its path and a hint', () => {
    const bad = config({
      networks: {
        burst: { nic: 'eth0', switch: 'ovs', hostQos: { out: { ls: { m2: 10 }, ul: { m1: 20_000_000, d: 5000, m2: 10_000_000 } } } },
        both: { nic: 'eth1', switch: 'ovs', vlan: 1, hostQos: { out: { ls: { m2: 10 }, rt: { m2: 1_000_000 } } } },
        share: { nic: 'eth1', switch: 'ovs', vlan: 2, hostQos: { out: { ls: { m2: 10 } } } },
        low: { nic: 'eth2', switch: 'ovs', hostQos: { out: { rt: { m2: 2_000_000 }, ul: { m2: 1_000_000 } } } },
        none: { nic: 'eth3', switch: 'ovs', hostQos: { out: { ul: { m2: 1_000_000 } } } },
      },
    });
    const problems = ovsHostQosProblems(bad);
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'networks.both.hostQos.out.rt',
      'networks.both.hostQos.out.rt',
      'networks.burst.hostQos.out.ul.d',
      'networks.burst.hostQos.out.ul.m1',
      'networks.low.hostQos.out.ul.m2',
      'networks.none.hostQos.out.ls',
    ]);
    assert.ok(problems.every((p) => p.message && p.hint));
    assert.match(problems.find((p) => p.path.endsWith('ul.m1'))?.message ?? '', /straight lines/);
    assert.match(problems.find((p) => p.path === 'networks.both.hostQos.out.rt' && /eth1 also carries/.test(p.message))?.message ?? '', /share/);
  });

  it('the legacy rule (ls is needed) stays for legacy networks; on OVS a committed rate alone is enough', () => {
    const legacy = config({ networks: { a: { nic: 'eth0', hostQos: { out: { rt: { m2: 1_000_000 } } } } } });
    assert.deepEqual(hostQosProblems(legacy).map((p) => p.path), ['networks.a.hostQos.out.ls']);
    const ovs = config({ networks: { a: { nic: 'eth0', switch: 'ovs', hostQos: { out: { rt: { m2: 1_000_000 } } } } } });
    assert.deepEqual([...hostQosProblems(ovs), ...ovsHostQosProblems(ovs)], []);
  });
});

describe('OpenFlow flows', () => {
  it('port names as ovs-ofctl prints them: letters and digits bare, anything else quoted', () => {
    assert.deepEqual(['vm100', 'vm_100', 'vm-1', '100', 'vm.1'].map(portRef), ['vm100', '"vm_100"', '"vm-1"', '"100"', '"vm.1"']);
    assert.deepEqual(queueOfFlow(queueFlowOf('br-eth0', 'vm.1', 7)), { port: 'vm.1', queue: 7 });
    assert.equal(cookieOf(5000), '0x6e73770000001388');
  });

  it('reads dump-flows --names --no-stats (ovs-ofctl 3.1), flags and table 0 left out, other cookies skipped', () => {
    const text = [
      ' cookie=0x6e73770000000066, priority=100,in_port=nb actions=set_queue:0,NORMAL',
      ' cookie=0x6e73770000000064, reset_counts priority=100,in_port="vm_1" actions=set_queue:100,NORMAL',
      ' cookie=0x6e73770000000065, priority=100,in_port=3 actions=set_queue:101,NORMAL',
      ' priority=0 actions=NORMAL',
      '',
    ].join('\n');
    assert.deepEqual(parseFlows('br0', text), [
      { bridge: 'br0', cookie: '0x6e73770000000064', match: 'priority=100,in_port="vm_1"', actions: 'set_queue:100,NORMAL' },
      { bridge: 'br0', cookie: '0x6e73770000000065', match: 'priority=100,in_port=3', actions: 'set_queue:101,NORMAL' },
      { bridge: 'br0', cookie: '0x6e73770000000066', match: 'priority=100,in_port=nb', actions: 'set_queue:0,NORMAL' },
    ]);
    assert.deepEqual(queueOfFlow(parseFlows('br0', text)[0]), { port: 'vm_1', queue: 100 });
  });

  it('a changed flow is deleted (by its cookie) and added; a flow whose port or bridge goes is re-added', () => {
    const f = queueFlowOf('br-eth0', 'vm100', 100);
    const g = queueFlowOf('br-eth0', 'mgmt', 5000);
    const none = { bridges: new Set<string>(), ports: new Set<string>() };
    assert.deepEqual(planFlows([f, g], [f, g], none), { before: [], after: [] });
    const stale = { ...f, match: 'priority=100,in_port=3' };
    assert.deepEqual(planFlows([stale, g], [f, g], none), { before: [{ op: 'of.flow.del', flow: stale }], after: [{ op: 'of.flow.add', flow: f }] });
    assert.deepEqual(planFlows([f, g], [f, g], { bridges: new Set(), ports: new Set(['vm100']) }), { before: [{ op: 'of.flow.del', flow: f }], after: [{ op: 'of.flow.add', flow: f }] });
    assert.deepEqual(planFlows([f, g], [], { bridges: new Set(['br-eth0']), ports: new Set() }).before.length, 2);
    assert.equal(bundleLine({ op: 'of.flow.add', flow: f }), 'add cookie=0x6e73770000000064,priority=100,in_port=vm100,actions=set_queue:100,NORMAL');
    assert.equal(bundleLine({ op: 'of.flow.del', flow: f }), 'delete cookie=0x6e73770000000064/-1');
  });
});

/** The layout as OVSDB and ovs-vswitchd would have it after the steps (a model, for undo checks). */
function applySteps(layout: OvsLayout, steps: readonly Step[]): OvsLayout {
  const l = clone(layout);
  const portOf = (name: string) => Object.values(l.bridges).find((b) => b.ports[name])?.ports[name];
  for (const s of steps as (OvsStep | FlowStep)[]) {
    switch (s.op) {
      case 'ovs.br.add':
        l.bridges[s.bridge.name] = clone(s.bridge);
        break;
      case 'ovs.br.del':
        delete l.bridges[s.bridge.name];
        break;
      case 'ovs.port.add':
        l.bridges[s.bridge].ports[s.port.name] = clone(s.port);
        break;
      case 'ovs.port.del':
        delete l.bridges[s.bridge].ports[s.port.name];
        break;
      case 'ovs.qos.set': {
        const p = portOf(s.port) as NonNullable<ReturnType<typeof portOf>>;
        if (s.to) p.qos = clone(s.to);
        else delete p.qos;
        break;
      }
      case 'of.flow.add':
        l.flows = [...(l.flows ?? []).filter((f) => !(f.bridge === s.flow.bridge && f.cookie === s.flow.cookie)), s.flow];
        break;
      case 'of.flow.del':
        l.flows = (l.flows ?? []).filter((f) => !(f.bridge === s.flow.bridge && f.cookie === s.flow.cookie));
        break;
      default:
        throw new Error(`not modelled: ${s.op}`);
    }
  }
  l.flows = (l.flows ?? []).sort((a, b) => a.bridge.localeCompare(b.bridge) || a.cookie.localeCompare(b.cookie));
  if (l.flows.length === 0) delete l.flows;
  return l;
}

describe('planOvs with host QoS', () => {
  const changed = config({
    ...REQUEST,
    networks: {
      ...REQUEST.networks,
      mgmt: { nic: 'eth0', switch: 'ovs', hostQos: { out: { ls: { m2: 50 }, ul: { m2: 30_000_000 } } } },
      vm100: { nic: 'eth0', vlan: 100, switch: 'ovs' },
    },
  });
  const CHANGED = ovsLayoutOf(changed, 'system');

  it('from nothing: the bridges with their QoS rows, then the flows after the transaction', () => {
    const steps = planOvs({ bridges: {} }, LAYOUT);
    assert.deepEqual(steps.map((s) => s.op), ['ovs.br.add', 'ovs.br.add', 'of.flow.add', 'of.flow.add', 'of.flow.add', 'of.flow.add']);
    assert.deepEqual(applySteps({ bridges: {} }, steps), LAYOUT);
    assert.deepEqual(planOvs(LAYOUT, LAYOUT), [], 're-planning what is there gives nothing');
  });

  it('a change: the flow that goes before the transaction, the QoS row replaced in it; undo gives back the layout', () => {
    const steps = planOvs(LAYOUT, CHANGED);
    assert.deepEqual(steps.map((s) => s.op), ['of.flow.del', 'ovs.qos.set']);
    assert.deepEqual(applySteps(LAYOUT, steps), CHANGED);
    assert.deepEqual(applySteps(CHANGED, undo(steps)), LAYOUT);
    const set = steps[1] as Extract<OvsStep, { op: 'ovs.qos.set' }>;
    assert.deepEqual(Object.keys(set.to?.queues ?? {}), ['0', '5000']);
    assert.deepEqual(invert(invert(set)), set);
  });

  it('removing hostQos takes the QoS row and the flows; removing the networks takes them with the bridge', () => {
    const bare = ovsLayoutOf(config({ ...REQUEST, networks: Object.fromEntries(Object.entries(REQUEST.networks).map(([k, v]) => { const { hostQos: _, ...rest } = v as Record<string, unknown>; return [k, rest]; })) }), 'system');
    const steps = planOvs(LAYOUT, bare);
    assert.deepEqual(steps.map((s) => s.op), ['of.flow.del', 'of.flow.del', 'of.flow.del', 'of.flow.del', 'ovs.qos.set', 'ovs.qos.set']);
    assert.deepEqual(applySteps(LAYOUT, steps), bare);
    const gone = planOvs(LAYOUT, { bridges: {} });
    assert.deepEqual(gone.map((s) => s.op), ['of.flow.del', 'of.flow.del', 'of.flow.del', 'of.flow.del', 'ovs.br.del', 'ovs.br.del']);
    assert.deepEqual(applySteps({ bridges: {} }, undo(gone)), LAYOUT);
  });

  it('steps print as sentences and as ovs-vsctl / ovs-ofctl commands', () => {
    const steps = planOvs(LAYOUT, CHANGED);
    assert.equal(describeStep(steps[0]), 'on OVS bridge br-eth0, stop sending traffic of vm100 to queue 100 (flow 0x6e73770000000064)');
    assert.deepEqual(commandsOf(steps[0]), ["ovs-ofctl del-flows br-eth0 'cookie=0x6e73770000000064/-1'"]);
    assert.deepEqual(commandsOf(invert(steps[0])), ["ovs-ofctl add-flow br-eth0 'cookie=0x6e73770000000064,priority=100,in_port=vm100,actions=set_queue:100,NORMAL'"]);
    assert.match(describeStep(steps[1]), /^change traffic leaving OVS port eth0: linux-hfsc max 34359738360 bit\/s; queue 0 min 400 max 34359738360, queue 5000 \(mgmt\) min 400 max 30000000$/);
    const [create, destroy] = commandsOf(steps[1]);
    assert.match(create, /^ovs-vsctl set port eth0 qos=@qos_eth0 -- --id=@qos_eth0 create qos type=linux-hfsc other_config:max-rate=34359738360 external_ids:netswitch-owner=netswitch queues:0=@q0_eth0 queues:5000=@q5000_eth0 -- --id=@q0_eth0 create queue other_config:min-rate=400/);
    assert.match(create, /external_ids:netswitch-network=mgmt external_ids:netswitch-min-rate=ls$/);
    assert.match(destroy, /^# and destroy the QoS row of eth0 and its 3 Queue rows$/);
    assert.equal(describeStep({ op: 'ovs.qos.set', port: 'eth0', from: LAYOUT.bridges['br-eth0'].ports.eth0.qos }), 'stop shaping traffic leaving OVS port eth0 (remove its QoS and queues)');
    const del = planOvs(LAYOUT, { bridges: {} }).find((s) => s.op === 'ovs.br.del' && s.bridge.name === 'br-eth0') as Step;
    assert.deepEqual(commandsOf(del), ['ovs-vsctl del-br br-eth0', '# and destroy the QoS row of eth0 and its 3 Queue rows; then tc qdisc del dev eth0 root handle 1: hfsc']);
  });
});

/** A snapshot with only what the OVS comparison and report read. */
function snapshotOf(layout: OvsLayout): Snapshot {
  return { time: 0, links: {}, routes: [], rules: [], nameservers: [], ovs: { layout, bridges: {}, ports: {}, interfaces: {} } };
}

describe('the rollback proof and the report see QoS rows and flows', () => {
  it('diffSnapshots names a QoS row or a flow that differs', () => {
    assert.deepEqual(diffSnapshots(snapshotOf(LAYOUT), snapshotOf(clone(LAYOUT))), []);
    const other = clone(LAYOUT);
    (other.bridges['br-eth0'].ports.eth0.qos as { maxRate?: number }).maxRate = 1;
    other.flows = other.flows?.slice(1);
    assert.deepEqual(diffSnapshots(snapshotOf(LAYOUT), snapshotOf(other)), [
      'QoS of OVS port eth0 differs',
      'OpenFlow flow gone: br-bond0 0x6e737700000000c8 priority=100,in_port="vm_200" actions=set_queue:200,NORMAL',
    ]);
  });

  it('kernel_config says each shaped network\'s hostQos as the request did — only where its flow is', () => {
    const snap = snapshotOf(LAYOUT);
    const ip = (dev: string) => ipInfo(snap, dev);
    const nets = ovsKernelConfig(snap, CONFIG, ip, []).networks;
    for (const name of ['mgmt', 'vm100', 'stor', 'vm_200']) assert.deepEqual(nets[name].hostQos, CONFIG.networks[name].hostQos, name);
    assert.equal(nets.plain.hostQos, undefined);
    const noFlows = snapshotOf({ ...LAYOUT, flows: LAYOUT.flows?.filter((f) => !f.match.endsWith('mgmt')) });
    assert.equal(ovsKernelConfig(noFlows, CONFIG, ip, []).networks.mgmt.hostQos, undefined, 'a queue no flow sends to shapes nothing');
  });
});
