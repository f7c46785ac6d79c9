import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Step, untouched } from '../../src/plan/steps.ts';

const bridge = { name: 'net1', kind: 'bridge' as const, mtu: 1500, addresses: [] };

describe('untouched: what verification need not read again', () => {
  it('bridges and addresses leave the IPv6 rules and the shaping as they were', () => {
    const steps: Step[] = [
      { op: 'link.add', link: bridge },
      { op: 'addr.add', dev: 'net1', cidr: '192.0.2.1/24' },
      { op: 'rule.add', rule: { family: 4, priority: 32000, src: '192.0.2.0/24', table: '100' } },
    ];
    assert.deepEqual(untouched(steps), { rules6: true, shaping: true });
  });

  it('an IPv6 rule step means reading the IPv6 rules', () => {
    assert.equal(untouched([{ op: 'rule.del', rule: { family: 6, priority: 32000, src: '2001:db8::/64', table: '100' } }]).rules6, false);
  });

  it('a deleted device, an OVS step with a QoS row or a shaping step means reading the shaping', () => {
    const port = { name: 'eth0', interfaces: [{ name: 'eth0', type: '' as const }] };
    assert.equal(untouched([{ op: 'link.del', link: bridge }]).shaping, false);
    assert.equal(untouched([{ op: 'ovs.port.del', bridge: 'br-eth0', port: { ...port, qos: { type: 'linux-hfsc', queues: {} } } }]).shaping, false);
    assert.equal(untouched([{ op: 'ovs.qos.set', port: 'eth0', from: { type: 'linux-hfsc', queues: {} } }]).shaping, false);
    assert.equal(untouched([{ op: 'ovs.port.add', bridge: 'br-eth0', port }]).shaping, true, 'a port without QoS');
    assert.equal(untouched([{ op: 'tc.qdisc.del', dev: 'eth0', defaultClass: '1389:5000' }]).shaping, false);
  });
});
