// Host QoS as HFSC: the layout a config asks for (VDSM's handles and classes), the plan between
// two layouts with steps that undo exactly, how steps print as tc commands, and reading back
// what tc 6.1 prints (the texts below are verbatim from tc 6.1 on the UML 6.1 kernel).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import {
  DEFAULT_CLASS,
  type QosLayout,
  type QosStep,
  type TcClass,
  classidOf,
  describeQosStep,
  hostQosOfClass,
  hostQosProblems,
  invertQos,
  planQos,
  planQosPhases,
  qosClassOf,
  qosLayoutOf,
  sameQos,
  tcBatchLines,
  tcBatchScript,
  tcCommands,
  undoQos,
} from '../../src/qos/hfsc.ts';
import { byClassid, foreignRootQdisc, parseRate, parseTime, qosDevicesOf, qosReadBatch, readQos, readQosAll, tcRateText, tcTimeText } from '../../src/qos/tc-read.ts';

const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;
const clone = <T>(v: T): T => structuredClone(v);

const LS50_UL100M = { out: { ls: { m2: 50 }, ul: { m2: 100_000_000 } } };

/** A model of what the kernel does with each step (its refusals included), to run plans and undos on. */
function apply(layout: QosLayout, steps: readonly QosStep[]): QosLayout {
  const l = clone(layout);
  const dev = (name: string) => {
    const d = l.devs[name];
    if (!d) throw new Error(`${name}: no HFSC qdisc (ENOENT)`);
    return d;
  };
  for (const step of steps) {
    switch (step.op) {
      case 'tc.qdisc.add':
        if (l.devs[step.dev]) throw new Error(`${step.dev}: qdisc exists (EEXIST)`);
        l.devs[step.dev] = { defaultClass: step.defaultClass, classes: [], filters: [] };
        break;
      case 'tc.qdisc.del':
        dev(step.dev);
        delete l.devs[step.dev];
        break;
      case 'tc.class.add': {
        const d = dev(step.cls.dev);
        if (d.classes.some((c) => c.classid === step.cls.classid)) throw new Error(`${step.cls.classid} exists (EEXIST)`);
        d.classes.push(clone(step.cls));
        break;
      }
      case 'tc.class.change': {
        const d = dev(step.cls.dev);
        const i = d.classes.findIndex((c) => c.classid === step.cls.classid);
        if (i < 0) throw new Error(`${step.cls.classid}: no such class`);
        // A curve the change does not name stays: tc cannot remove one.
        d.classes[i] = { ...d.classes[i], ...Object.fromEntries((['ls', 'ul', 'rt'] as const).filter((k) => step.cls[k]).map((k) => [k, clone(step.cls[k])])) };
        break;
      }
      case 'tc.class.del': {
        const d = dev(step.cls.dev);
        if (d.filters.some((f) => f.flowid === step.cls.classid)) throw new Error(`${step.cls.classid}: a filter points to it (EBUSY)`);
        const i = d.classes.findIndex((c) => c.classid === step.cls.classid);
        if (i < 0) throw new Error(`${step.cls.classid}: no such class`);
        d.classes.splice(i, 1);
        break;
      }
      case 'tc.filter.add': {
        const d = dev(step.filter.dev);
        if (d.filters.some((f) => f.pref === step.filter.pref)) throw new Error(`pref ${step.filter.pref} taken`);
        if (!d.classes.some((c) => c.classid === step.filter.flowid)) throw new Error(`${step.filter.flowid}: no such class`);
        d.filters.push(clone(step.filter));
        break;
      }
      case 'tc.filter.del': {
        const d = dev(step.filter.dev);
        const i = d.filters.findIndex((f) => f.pref === step.filter.pref);
        if (i < 0) throw new Error(`pref ${step.filter.pref}: no filter`);
        d.filters.splice(i, 1);
        break;
      }
    }
  }
  // tc lists classes by number and we compare filters by VLAN: keep the model in that order.
  for (const d of Object.values(l.devs)) {
    d.classes.sort(byClassid);
    d.filters.sort((a, b) => a.vlan - b.vlan);
  }
  return l;
}

describe('qosLayoutOf', () => {
  it('an untagged network with hostQos: its curves on the default class, no filter', () => {
    const layout = qosLayoutOf(config({ networks: { mgmt: { nic: 'eth0', hostQos: LS50_UL100M }, other: { nic: 'eth1' } } }));
    assert.deepEqual(layout, {
      devs: {
        eth0: {
          defaultClass: '1389:1388',
          classes: [{ dev: 'eth0', classid: '1389:1388', parent: '1389:', ls: { m2: 400 }, ul: { m2: 100_000_000 }, leaf: 'fq_codel' }],
          filters: [],
        },
      },
    });
  });

  it('VLAN networks on a NIC: a class and a filter each; the default class gets the largest share', () => {
    const layout = qosLayoutOf(
      config({
        networks: {
          mgmt: { nic: 'eth1' }, // untagged, no hostQos: its traffic is the default class's
          vm100: { nic: 'eth1', vlan: 100, hostQos: { out: { ls: { m2: 20 }, ul: { m2: 20_000_000 } } } },
          vm200: { nic: 'eth1', vlan: '200', hostQos: { out: { ls: { m2: '60' }, rt: { m2: 5_000_000 } } } },
          vm300: { nic: 'eth1', vlan: 300 }, // tagged, no hostQos: default class too
        },
      }),
    );
    assert.deepEqual(Object.keys(layout.devs), ['eth1']);
    const eth1 = layout.devs.eth1;
    assert.deepEqual(
      eth1.classes.map((c) => [c.classid, c.ls, c.ul, c.rt]),
      [
        ['1389:64', { m2: 160 }, { m2: 20_000_000 }, undefined],
        ['1389:c8', { m2: 480 }, undefined, { m2: 5_000_000 }],
        ['1389:1388', { m2: 480 }, undefined, undefined],
      ],
    );
    assert.deepEqual(eth1.filters, [
      { dev: 'eth1', vlan: 100, flowid: '1389:64', pref: 100 },
      { dev: 'eth1', vlan: 200, flowid: '1389:c8', pref: 200 },
    ]);
    assert.ok(eth1.classes.every((c) => c.parent === '1389:' && c.leaf === 'fq_codel'));
  });

  it('VLAN networks on a bond are shaped on the bond; VLAN 0 is class 1389:1000, priority 4096', () => {
    const layout = qosLayoutOf(
      config({
        bondings: { bond0: { nics: ['eth2', 'eth3'], options: 'mode=active-backup miimon=100' } },
        networks: {
          stor: { bonding: 'bond0', vlan: 0, bridged: false, hostQos: { out: { ls: { m2: 10 } } } },
          vm4094: { bonding: 'bond0', vlan: 4094, hostQos: { out: { ls: { m2: 30 }, ul: { m2: 1_000_000_000 } } } },
          untagged: { bonding: 'bond0', hostQos: { out: { ls: { m2: 5 } } } },
        },
      }),
    );
    assert.deepEqual(Object.keys(layout.devs), ['bond0']);
    assert.deepEqual(
      layout.devs.bond0.classes.map((c) => c.classid),
      ['1389:ffe', '1389:1000', '1389:1388'],
    );
    // The untagged network has hostQos: the default class is exactly its own.
    assert.deepEqual(qosClassOf(layout, 'bond0')?.ls, { m2: 40 });
    assert.deepEqual(layout.devs.bond0.filters, [
      { dev: 'bond0', vlan: 0, flowid: '1389:1000', pref: 4096 },
      { dev: 'bond0', vlan: 4094, flowid: '1389:ffe', pref: 4094 },
    ]);
    assert.equal(classidOf(0), '1389:1000');
    assert.equal(classidOf(), DEFAULT_CLASS);
  });

  it('curves: ls m1/m2 scaled by 8 (d is not), ul and rt as sent, m1 0 and d 0 left out', () => {
    const qos = { out: { ls: { m1: 100, d: 10_000, m2: 50 }, ul: { m1: 0, d: 0, m2: 30_000_000 }, rt: { m1: 20_000_000, d: 5000, m2: 10_000_000 } } };
    const cls = qosClassOf(qosLayoutOf(config({ networks: { n: { nic: 'eth0', vlan: 7, hostQos: qos } } })), 'eth0', 7) as TcClass;
    assert.deepEqual([cls.ls, cls.ul, cls.rt], [{ m1: 800, d: 10_000, m2: 400 }, { m2: 30_000_000 }, { m1: 20_000_000, d: 5000, m2: 10_000_000 }]);
    assert.deepEqual(hostQosOfClass(cls), { out: { ls: { m1: 100, d: 10_000, m2: 50 }, ul: { m2: 30_000_000 }, rt: { m1: 20_000_000, d: 5000, m2: 10_000_000 } } });
  });

  it('leaves out networks without a NIC, and networks of the ovs switch (OVS shapes them: qos/ovs.ts)', () => {
    assert.deepEqual(qosLayoutOf(config({ networks: { lonely: { bridged: true, hostQos: LS50_UL100M } } })), { devs: {} });
    const ovs = config({ bondings: { bond0: { nics: ['eth1', 'eth2'], switch: 'ovs' } }, networks: { n: { bonding: 'bond0', switch: 'ovs', hostQos: LS50_UL100M }, m: { nic: 'eth0', switch: 'ovs', hostQos: LS50_UL100M } } });
    assert.deepEqual(qosLayoutOf(ovs), { devs: {} });
  });
});

describe('hostQosProblems', () => {
  it('accepts what tc can set', () => {
    assert.deepEqual(hostQosProblems(config({ networks: { a: { nic: 'eth0', vlan: 5, hostQos: { out: { ls: { m2: 4_294_967_295 }, ul: { m2: 34_359_738_367 }, rt: { m1: 1, d: 4_294_967_295, m2: 0 } } } } } })), []);
  });
  it('refuses what tc or the kernel would, each with its path', () => {
    const problems = hostQosProblems(
      config({
        bondings: { bond1: { nics: ['eth5'], switch: 'ovs' } },
        networks: {
          a: { nic: 'eth0', hostQos: { out: { ul: { m2: 10_000_000 } } } },
          b: { bridged: true, hostQos: LS50_UL100M },
          c: { nic: 'eth1', hostQos: { out: { ls: { m2: 4_294_967_296 }, ul: { m2: 34_359_738_368 }, rt: { m2: 0 } } } },
          d: { bonding: 'bond1', switch: 'ovs', hostQos: { out: { ls: { m2: 1, d: 4_294_967_296 } } } },
        },
      }),
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      // d on an OVS bond: beyond tc's limit (an OVS bond is shaped through its QoS row, not refused)
      ['networks.a.hostQos.out.ls', 'networks.b.hostQos', 'networks.c.hostQos.out.ls.m2', 'networks.c.hostQos.out.ul.m2', 'networks.c.hostQos.out.rt', 'networks.d.hostQos.out.ls.d'],
    );
    assert.ok(problems.every((p) => p.message && p.hint));
  });
});

const BASE = config({
  bondings: { bond0: { nics: ['eth2', 'eth3'] } },
  networks: {
    mgmt: { nic: 'eth0', hostQos: LS50_UL100M },
    vm100: { nic: 'eth1', vlan: 100, hostQos: { out: { ls: { m2: 20 }, ul: { m2: 20_000_000 } } } },
    vm200: { nic: 'eth1', vlan: 200, hostQos: { out: { ls: { m2: 40 } } } },
    b10: { bonding: 'bond0', vlan: 10, hostQos: { out: { ls: { m2: 10 }, rt: { m2: 1_000_000 } } } },
  },
});
const with_ = (networks: Record<string, unknown>): Config => {
  const c = clone(BASE);
  for (const [k, v] of Object.entries(networks)) {
    if (v === undefined) delete c.networks[k];
    else c.networks[k] = { ...config({ networks: { [k]: v } }).networks[k] };
  }
  return c;
};

describe('planQos', () => {
  const base = qosLayoutOf(BASE);

  it('from nothing: qdiscs, then classes (with their leaves), then filters', () => {
    const steps = planQos({ devs: {} }, base);
    assert.deepEqual(
      steps.map((s) => s.op),
      ['tc.qdisc.add', 'tc.qdisc.add', 'tc.qdisc.add', ...Array(6).fill('tc.class.add'), 'tc.filter.add', 'tc.filter.add', 'tc.filter.add'],
    );
    assert.ok(sameQos(apply({ devs: {} }, steps), base));
    assert.deepEqual(apply({ devs: {} }, steps), base);
  });

  it('no change: no steps (also when tc shows the values rounded)', () => {
    assert.deepEqual(planQos(base, clone(base)), []);
    const exact = qosLayoutOf(with_({ x: { nic: 'eth4', hostQos: { out: { ls: { m1: 1, d: 12_345, m2: 123_456_789 }, ul: { m2: 1_234_567_891 } } } } }));
    const asRead = clone(exact);
    const x = asRead.devs.eth4.classes[0];
    x.ls = { m1: 8, d: 12_300, m2: 987_654_000 }; // tc: "ls m1 8bit d 12.3ms m2 987654Kbit"
    x.ul = { m2: 1_234_000_000 }; // "ul m1 0bit d 0us m2 1234Mbit"
    assert.deepEqual(planQos(asRead, exact), []);
  });

  it('a curve value changes: one class change that carries what it replaces', () => {
    const desired = qosLayoutOf(with_({ vm100: { nic: 'eth1', vlan: 100, hostQos: { out: { ls: { m2: 20 }, ul: { m2: 30_000_000 } } } } }));
    const steps = planQos(base, desired);
    assert.deepEqual(steps, [{ op: 'tc.class.change', cls: qosClassOf(desired, 'eth1', 100), from: qosClassOf(base, 'eth1', 100) }]);
    assert.equal(describeQosStep(steps[0]), 'change shaping class 1389:64 on eth1: ls 160bit, ul 20Mbit -> ls 160bit, ul 30Mbit');
    assert.deepEqual(tcCommands(steps[0]), ['tc class change dev eth1 parent 1389: classid 1389:64 hfsc ls m2 160bit ul m2 30000000bit']);
  });

  it('a curve goes: the class is re-created, its filter removed before and added after', () => {
    const desired = qosLayoutOf(with_({ vm100: { nic: 'eth1', vlan: 100, hostQos: { out: { ls: { m2: 20 } } } } }));
    const { teardown, build } = planQosPhases(base, desired);
    assert.deepEqual(teardown.map(describeQosStep), ['stop sending VLAN 100 traffic leaving eth1 to class 1389:64', 'remove shaping class 1389:64 from eth1']);
    assert.deepEqual(build.map(describeQosStep), ['add shaping class 1389:64 on eth1 (ls 160bit)', 'send VLAN 100 traffic leaving eth1 to class 1389:64']);
    assert.deepEqual(apply(base, [...teardown, ...build]), desired);
  });

  it('a VLAN network loses hostQos: filter and class go, the default share follows the largest left', () => {
    const desired = qosLayoutOf(with_({ vm200: { nic: 'eth1', vlan: 200 } }));
    const steps = planQos(base, desired);
    assert.deepEqual(
      steps.map((s) => s.op),
      ['tc.filter.del', 'tc.class.del', 'tc.class.change'],
    );
    assert.equal(describeQosStep(steps[2]), 'change shaping default class 1389:1388 on eth1: ls 320bit -> ls 160bit');
    assert.deepEqual(apply(base, steps), desired);
  });

  it('the last network with hostQos goes: filters, classes, then the qdisc, all explicit', () => {
    const desired = qosLayoutOf(with_({ b10: { bonding: 'bond0', vlan: 10 } }));
    const steps = planQos(base, desired);
    assert.deepEqual(steps.map(describeQosStep), [
      'stop sending VLAN 10 traffic leaving bond0 to class 1389:a',
      'remove shaping class 1389:a from bond0',
      'remove shaping default class 1389:1388 from bond0',
      'stop shaping traffic leaving bond0 (remove HFSC qdisc 1389:)',
    ]);
    assert.deepEqual(apply(base, steps), desired);
    assert.deepEqual(planQos(base, { devs: {} }).filter((s) => s.op === 'tc.qdisc.del').length, 3);
  });

  it('a re-created device (bond mode change): torn down and built again', () => {
    const steps = planQos(base, base, new Set(['bond0']));
    assert.deepEqual(
      steps.map((s) => `${s.op} ${'dev' in s ? s.dev : 'cls' in s ? s.cls.classid : s.filter.vlan}`),
      ['tc.filter.del 10', 'tc.class.del 1389:a', 'tc.class.del 1389:1388', 'tc.qdisc.del bond0', 'tc.qdisc.add bond0', 'tc.class.add 1389:a', 'tc.class.add 1389:1388', 'tc.filter.add 10'],
    );
  });

  it('a qdisc with another default class, or a class without fq_codel: rebuilt', () => {
    const odd = clone(base);
    odd.devs.eth0.defaultClass = '1389:5000';
    assert.deepEqual(
      planQos(odd, base).map((s) => s.op),
      ['tc.class.del', 'tc.qdisc.del', 'tc.qdisc.add', 'tc.class.add'],
    );
    const pfifo = clone(base);
    delete pfifo.devs.eth1.classes[0].leaf;
    assert.deepEqual(
      planQos(pfifo, base).map((s) => s.op),
      ['tc.filter.del', 'tc.class.del', 'tc.class.add', 'tc.filter.add'],
    );
  });

  it('undo of any plan restores the layout it started from (on a model of the kernel)', () => {
    const layouts = [
      { devs: {} },
      base,
      qosLayoutOf(with_({ vm100: { nic: 'eth1', vlan: 100, hostQos: { out: { ls: { m2: 20 } } } } })),
      qosLayoutOf(with_({ vm200: undefined, mgmt: { nic: 'eth0', vlan: 0, hostQos: { out: { ls: { m1: 9, d: 100, m2: 3 } } } } })),
      qosLayoutOf(with_({ b10: { bonding: 'bond0', hostQos: { out: { ls: { m2: 1 }, ul: { m2: 8 } } } } })),
      qosLayoutOf(config({ networks: { x: { nic: 'eth9', vlan: 9, hostQos: LS50_UL100M } } })),
    ];
    for (const from of layouts) {
      for (const to of layouts) {
        const steps = planQos(from, to);
        const after = apply(from, steps);
        assert.ok(sameQos(after, to), `plan reaches its target`);
        assert.deepEqual(planQos(after, to), [], 'and re-plans to nothing');
        assert.deepEqual(apply(after, undoQos(steps)), from, 'undo gives the layout back');
        assert.deepEqual(undoQos(undoQos(steps)), steps);
        // A failure after any step: the undo of the steps that ran gives the start back too.
        for (let n = 0; n <= steps.length; n++) assert.deepEqual(apply(apply(from, steps.slice(0, n)), undoQos(steps.slice(0, n))), from);
      }
    }
  });
});

describe('steps as tc commands', () => {
  const cls: TcClass = { dev: 'bond0', classid: '1389:64', parent: '1389:', ls: { m1: 800, d: 10_000, m2: 400 }, ul: { m2: 20_000_000 }, rt: { m2: 10_000_000 }, leaf: 'fq_codel' };
  const filter = { dev: 'bond0', vlan: 100, flowid: '1389:64', pref: 100 };
  const CASES: [QosStep, string, string[]][] = [
    [{ op: 'tc.qdisc.add', dev: 'eth1', defaultClass: '1389:1388' }, 'shape traffic leaving eth1 with HFSC (qdisc 1389:, default class 1389:1388)', ['tc qdisc add dev eth1 root handle 1389: hfsc default 1388']],
    [{ op: 'tc.qdisc.del', dev: 'eth1', defaultClass: '1389:1388' }, 'stop shaping traffic leaving eth1 (remove HFSC qdisc 1389:)', ['tc qdisc del dev eth1 root handle 1389:']],
    [
      { op: 'tc.class.add', cls },
      'add shaping class 1389:64 on bond0 (rt 10Mbit, ls m1 800bit d 10ms m2 400bit, ul 20Mbit)',
      ['tc class add dev bond0 parent 1389: classid 1389:64 hfsc rt m2 10000000bit ls m1 800bit d 10000us m2 400bit ul m2 20000000bit', 'tc qdisc add dev bond0 parent 1389:64 handle 64: fq_codel'],
    ],
    [{ op: 'tc.class.del', cls }, 'remove shaping class 1389:64 from bond0', ['tc class del dev bond0 classid 1389:64']],
    [{ op: 'tc.filter.add', filter }, 'send VLAN 100 traffic leaving bond0 to class 1389:64', ["tc filter add dev bond0 parent 1389: protocol all pref 100 basic match 'meta(vlan mask 0xfff eq 100)' flowid 1389:64"]],
    [{ op: 'tc.filter.del', filter }, 'stop sending VLAN 100 traffic leaving bond0 to class 1389:64', ['tc filter del dev bond0 parent 1389: pref 100 basic']],
  ];
  for (const [step, sentence, commands] of CASES) {
    it(sentence, () => {
      assert.equal(describeQosStep(step), sentence);
      assert.deepEqual(tcCommands(step), commands);
      assert.deepEqual(invertQos(invertQos(step)), step);
    });
  }
  it('a class without a leaf kind keeps the kernel default leaf (no qdisc line)', () => {
    const { leaf: _leaf, ...bare } = cls;
    assert.equal(tcBatchLines({ op: 'tc.class.add', cls: bare }).length, 1);
  });
  it('inverts each kind of step', () => {
    assert.deepEqual(invertQos({ op: 'tc.class.add', cls }), { op: 'tc.class.del', cls });
    assert.deepEqual(invertQos({ op: 'tc.qdisc.del', dev: 'x', defaultClass: DEFAULT_CLASS }), { op: 'tc.qdisc.add', dev: 'x', defaultClass: DEFAULT_CLASS });
    assert.deepEqual(invertQos({ op: 'tc.filter.del', filter }), { op: 'tc.filter.add', filter });
    const to = { ...cls, ul: { m2: 1 } };
    assert.deepEqual(invertQos({ op: 'tc.class.change', cls: to, from: cls }), { op: 'tc.class.change', cls, from: to });
  });
  it('a tc -batch script quotes the ematch and maps lines back to steps', () => {
    const { input, stepOfLine } = tcBatchScript([{ op: 'tc.qdisc.add', dev: 'eth1', defaultClass: DEFAULT_CLASS }, { op: 'tc.class.add', cls }, { op: 'tc.filter.add', filter }]);
    assert.equal(
      input,
      [
        'qdisc add dev eth1 root handle 1389: hfsc default 1388',
        'class add dev bond0 parent 1389: classid 1389:64 hfsc rt m2 10000000bit ls m1 800bit d 10000us m2 400bit ul m2 20000000bit',
        'qdisc add dev bond0 parent 1389:64 handle 64: fq_codel',
        'filter add dev bond0 parent 1389: protocol all pref 100 basic match "meta(vlan mask 0xfff eq 100)" flowid 1389:64',
        '',
      ].join('\n'),
    );
    assert.deepEqual(stepOfLine, [0, 1, 1, 2]);
    assert.deepEqual(tcBatchScript([]), { input: '', stepOfLine: [] });
  });
});

describe('tc units', () => {
  it('parses the rates and times tc prints', () => {
    assert.deepEqual(['8bit', '400bit', '50Mbit', '50000Kbit', '1Gbit', '34359Mbit', '1.5Gbit', '100kbps', '1Mibit'].map(parseRate), [8, 400, 50e6, 50e6, 1e9, 34_359_000_000, 1.5e9, 800_000, 1_048_576]);
    assert.deepEqual(['0us', '999us', '10ms', '12.3ms', '1s', '4.29e+03s', '250'].map(parseTime), [0, 999, 10_000, 12_300, 1_000_000, 4_290_000_000, 250]);
    assert.throws(() => parseRate('fast'), /not a tc rate/);
    assert.throws(() => parseTime('10 parsecs'), /not a tc time/);
  });
  it('prints them as tc 6.1 does (rates kept in whole bytes/s, times to 3 digits)', () => {
    assert.deepEqual([0, 8, 15, 400, 1500, 1_500_000, 50e6, 8e9, 1_234_567_891, 34_359_738_367].map(tcRateText), ['0bit', '8bit', '8bit', '400bit', '1496bit', '1500Kbit', '50Mbit', '8Gbit', '1234Mbit', '34359Mbit']);
    assert.deepEqual([0, 999, 1000, 10_000, 12_345, 12_350, 1250, 999_500, 1_000_000, 4_294_967_295].map(tcTimeText), ['0us', '999us', '1ms', '10ms', '12.3ms', '12.3ms', '1.25ms', '1e+03ms', '1s', '4.29e+03s']);
  });
});

// Verbatim tc 6.1 output (UML, kernel 6.1): a VLAN class with all three curves, one with
// rt == ls (printed "sc"), an rt-only class without a leaf, the largest rate, a huge d, and
// VDSM's u32 catch-all filter; `-s` statistics and fq_codel's per-flow classes in between.
const QDISC_S = `qdisc hfsc 1389: root refcnt 2 default 1388 
 Sent 176 bytes 2 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
qdisc fq_codel 1388: parent 1389:1388 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64 
 Sent 176 bytes 2 pkt (dropped 0, overlimits 0 requeues 0) 
 backlog 0b 0p requeues 0
  maxpacket 90 drop_overlimit 0 new_flow_count 2 ecn_mark 0
  new_flows_len 1 old_flows_len 0
`;
const CLASSES = `class hfsc 1389: root 
class hfsc 1389:66 parent 1389: rt m1 0bit d 0us m2 8bit 
class hfsc 1389:64 parent 1389: rt m1 0bit d 0us m2 10Mbit ls m1 800bit d 10ms m2 400bit ul m1 0bit d 0us m2 20Mbit 
class hfsc 1389:1388 parent 1389: leaf 1388: ls m1 0bit d 0us m2 400bit ul m1 0bit d 0us m2 100Mbit 
class hfsc 1389:65 parent 1389: sc m1 1234Mbit d 12.3ms m2 50Mbit 
class hfsc 1389:6a parent 1389: ls m1 0bit d 0us m2 8Gbit ul m1 0bit d 4.29e+03s m2 34Gbit 
class hfsc 1389:68 parent 1389: ls m1 0bit d 0us m2 34359Mbit 
class fq_codel 1388:78 parent 1388: 
`;
const FILTERS = `filter parent 1389: protocol all pref 1 basic chain 0 
filter parent 1389: protocol all pref 1 basic chain 0 handle 0x1 flowid 1389:65 
  meta(vlan eq 0)

filter parent 1389: protocol all pref 101 basic chain 0 
filter parent 1389: protocol all pref 101 basic chain 0 handle 0x1 flowid 1389:64 
  meta(vlan mask 0x00000fff eq 100)

filter parent 1389: protocol all pref 5000 u32 chain 0 
filter parent 1389: protocol all pref 5000 u32 chain 0 fh 800: ht divisor 1 
filter parent 1389: protocol all pref 5000 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 *flowid :1388 not_in_hw 
  match 00000000/00000000 at 0
`;

// Verbatim: `tc qdisc show` (all devices) and what `tc -batch -` prints for
// qosReadBatch(['va']) (qdisc, class and filter show), on a veth shaped by hand with a VLAN 0 class
// that has no fq_codel leaf.
const QDISC_ALL = `qdisc hfsc 1389: dev va root refcnt 2 default 1388 
qdisc fq_codel 64: dev va parent 1389:64 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64 
qdisc fq_codel 1388: dev va parent 1389:1388 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64 
qdisc noqueue 0: dev va.100 root refcnt 2 
`;
const VA = 'qdisc hfsc 1389: root refcnt 2 default 1388 \nqdisc fq_codel 64: parent 1389:64 limit 10240p \n';
const BATCH = `${VA}class hfsc 1389: root 
class hfsc 1389:1000 parent 1389: ls m1 0bit d 0us m2 400bit 
class hfsc 1389:1388 parent 1389: leaf 1388: ls m1 0bit d 0us m2 400bit ul m1 0bit d 0us m2 10Mbit 
class hfsc 1389:64 parent 1389: leaf 64: ls m1 0bit d 0us m2 400bit ul m1 0bit d 0us m2 20Mbit 
class fq_codel 64:d7 parent 64: 
class fq_codel 64:25e parent 64: 
class fq_codel 1388:cf parent 1388: 
class fq_codel 1388:291 parent 1388: 
filter parent 1389: protocol all pref 100 basic chain 0 
filter parent 1389: protocol all pref 100 basic chain 0 handle 0x1 flowid 1389:64 
  meta(vlan mask 0x00000fff eq 100)

filter parent 1389: protocol all pref 4096 basic chain 0 
filter parent 1389: protocol all pref 4096 basic chain 0 handle 0x1 flowid 1389:1000 
  meta(vlan mask 0x00000fff eq 0)

`;

describe('readQos', () => {
  it('reads classes, curves, leaves and VLAN filters from tc 6.1 text', () => {
    const layout = readQos('eth1', { qdisc: QDISC_S, class: CLASSES, filter: FILTERS });
    const eth1 = layout.devs.eth1;
    assert.equal(eth1.defaultClass, '1389:1388');
    assert.deepEqual(eth1.classes, [
      { dev: 'eth1', classid: '1389:64', parent: '1389:', rt: { m2: 10_000_000 }, ls: { m1: 800, d: 10_000, m2: 400 }, ul: { m2: 20_000_000 } },
      { dev: 'eth1', classid: '1389:65', parent: '1389:', rt: { m1: 1_234_000_000, d: 12_300, m2: 50_000_000 }, ls: { m1: 1_234_000_000, d: 12_300, m2: 50_000_000 } },
      { dev: 'eth1', classid: '1389:66', parent: '1389:', rt: { m2: 8 } },
      { dev: 'eth1', classid: '1389:68', parent: '1389:', ls: { m2: 34_359_000_000 } },
      { dev: 'eth1', classid: '1389:6a', parent: '1389:', ls: { m2: 8_000_000_000 }, ul: { m1: 0, d: 4_290_000_000, m2: 34_000_000_000 } },
      { dev: 'eth1', classid: '1389:1388', parent: '1389:', ls: { m2: 400 }, ul: { m2: 100_000_000 }, leaf: 'fq_codel' },
    ]);
    assert.deepEqual(eth1.filters, [
      { dev: 'eth1', vlan: 0, flowid: '1389:65', pref: 1 },
      { dev: 'eth1', vlan: 100, flowid: '1389:64', pref: 101 },
    ]);
    assert.deepEqual(eth1.foreign, ['filter pref 5000 u32 flowid :1388 match 00000000/00000000 at 0']);
  });

  it('reads nothing on a device whose root qdisc is not HFSC 1389:', () => {
    assert.deepEqual(readQos('eth1', { qdisc: 'qdisc noqueue 0: root refcnt 2 \n', class: '', filter: '' }), { devs: {} });
    assert.deepEqual(readQos('eth1', { qdisc: 'qdisc hfsc 1: root refcnt 2 default 10 \n', class: 'class hfsc 1: root \n', filter: '' }), { devs: {} });
    assert.equal(foreignRootQdisc('qdisc htb 1: root refcnt 2 r2q 10 default 0 direct_packets_stat 0 direct_qlen 1000\n'), 'htb 1:');
    assert.equal(foreignRootQdisc('qdisc noqueue 0: root refcnt 2 \n'), undefined);
    assert.equal(foreignRootQdisc(QDISC_S), undefined);
    assert.equal(foreignRootQdisc(QDISC_ALL, 'va.100'), undefined);
  });

  it('reads a whole host from `tc qdisc show` and one tc -batch of class and filter shows', () => {
    assert.deepEqual(qosDevicesOf(QDISC_ALL), ['va']);
    assert.deepEqual(qosReadBatch(['va', 'bond0']), [
      ['qdisc', 'show', 'dev', 'va'],
      ['class', 'show', 'dev', 'va'],
      ['filter', 'show', 'dev', 'va'],
      ['qdisc', 'show', 'dev', 'bond0'],
      ['class', 'show', 'dev', 'bond0'],
      ['filter', 'show', 'dev', 'bond0'],
    ]);
    const layout = readQosAll(QDISC_ALL, BATCH);
    // What tc showed there is what this config asks for (written by tc from tcBatchLines).
    const desired = qosLayoutOf(
      config({
        networks: {
          n0: { nic: 'va', vlan: 0, hostQos: { out: { ls: { m2: 50 } } } },
          n100: { nic: 'va', vlan: 100, hostQos: { out: { ls: { m2: 50 }, ul: { m2: 20_000_000 } } } },
          untagged: { nic: 'va', hostQos: { out: { ls: { m2: 50 }, ul: { m2: 10_000_000 } } } },
        },
      }),
    );
    // The VLAN 0 class of that run had no leaf: the plan adds one, nothing else.
    assert.deepEqual(
      planQos(layout, desired).map((s) => s.op),
      ['tc.filter.del', 'tc.class.del', 'tc.class.add', 'tc.filter.add'],
    );
    assert.deepEqual(hostQosOfClass(qosClassOf(layout, 'va', 100) as TcClass), { out: { ls: { m2: 50 }, ul: { m2: 20_000_000 } } });
    assert.throws(() => readQosAll(QDISC_ALL, ''), /expected the classes of 1 devices/);
  });

  it("splits devices at their root qdisc's line, not at a root class (the kernel lists classes in hash order)", () => {
    const two = `${QDISC_ALL}qdisc hfsc 1389: dev vb root refcnt 2 default 1388 \n`;
    // vb's VLAN 400 class (1389:190) hashes before its root class, as tc lists them.
    const batch = `${BATCH}qdisc hfsc 1389: root refcnt 2 default 1388 \nclass hfsc 1389:190 parent 1389: ls m1 0bit d 0us m2 400bit \nclass hfsc 1389: root \nclass hfsc 1389:1388 parent 1389: ls m1 0bit d 0us m2 400bit \n`;
    const layout = readQosAll(two, batch);
    assert.deepEqual(layout.devs.vb.classes.map((c) => c.classid).sort(), ['1389:1388', '1389:190']);
    assert.ok(!layout.devs.va.classes.some((c) => c.classid === '1389:190'), 'not given to the device before');
  });
});
