// Host tier: stp: rstp on the sandbox's private OVS (userspace datapath): rstp_enable on the
// network's bridge (never with stp_enable), checked with ovs-vsctl and ovs-appctl rstp/show;
// re-applying plans nothing; STP <-> RSTP is a bridge change; the report says it back; a Linux
// bridge refuses it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';
import { wholeHost } from './lib/ovs-peer.ts';

const PREFIX = 'tr';

const request = (stp: string, sw = 'ovs') => `
networks:
  lan: { switch: ${sw}, nic: eth1, stp: ${stp} }
  lan5: { switch: ${sw}, nic: eth1, vlan: 5 }
`;

async function apply(h: SandboxHarness, yaml: string, ...args: string[]) {
  return h.cli(['apply', ...args, '-'], { input: yaml });
}

async function bridge(h: SandboxHarness, column: string): Promise<string> {
  const r = await h.sh(['ovs-vsctl', '--timeout=10', 'get', 'bridge', 'br-eth1', column]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

before(async () => {
  if (!skipUnlessRoot) await cleanupLeftovers(PREFIX);
});

describe('OVS switch: stp: rstp', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    h = await createSandbox({ prefix: PREFIX });
  });
  after(async () => h?.down());

  test('rstp_enable on the bridge, stp_enable off; OVS runs RSTP there', async () => {
    const r = await apply(h, request('rstp'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await bridge(h, 'rstp_enable'), 'true');
    assert.equal(await bridge(h, 'stp_enable'), 'false');
    const show = await h.sh(['ovs-appctl', 'rstp/show', 'br-eth1']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /---- br-eth1 ----/);
    assert.match(show.stdout, /eth1/, 'the NIC takes part in the spanning tree');
  });

  test('re-applying plans nothing; the report says stp: rstp in kernel_config and capabilities', async () => {
    const plan = await h.cli(['-o', 'json', 'plan', '-'], { input: request('rstp') });
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual(JSON.parse(plan.stdout).steps, []);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.equal(show.kernel_config.networks.lan.stp, 'rstp');
    assert.equal(show.kernel_config.networks.lan5.stp, 'rstp', 'the same bridge');
    assert.equal(show.capabilities.networks.lan.stp, 'rstp');
    assert.equal(show.capabilities.bridges.lan.stp, 'rstp');
  });

  test('RSTP -> STP -> off: one bridge change each, the columns follow', async () => {
    for (const [stp, want] of [['true', ['false', 'true']], ['false', ['false', 'false']], ['rstp', ['true', 'false']]] as const) {
      const plan = await h.cli(['-o', 'json', 'plan', '-'], { input: request(stp) });
      assert.deepEqual(JSON.parse(plan.stdout).steps.map((s: { commands: string[] }) => s.commands[0]), [`ovs-vsctl set bridge br-eth1 stp_enable=${want[1]} rstp_enable=${want[0]} mcast_snooping_enable=false`]);
      const r = await apply(h, request(stp));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([await bridge(h, 'rstp_enable'), await bridge(h, 'stp_enable')], want, `stp: ${stp}`);
    }
  });

  test('refused on a Linux bridge (legacy) and beside stp: true on the same OVS bridge; nothing changes', async () => {
    const before = await wholeHost(h);
    const legacy = await apply(h, request('rstp', 'legacy'), '--replace');
    assert.equal(legacy.code, 2, legacy.stderr);
    assert.match(legacy.stderr, /networks\.lan\.stp: rstp \(rapid spanning tree\) is for Open vSwitch bridges/);
    assert.match(legacy.stderr, /hint: use switch: ovs, or stp: true/);
    const mixed = await apply(h, `${request('rstp')}  lan7: { switch: ovs, nic: eth1, vlan: 7, stp: true }\n`);
    assert.equal(mixed.code, 2, mixed.stderr);
    assert.match(mixed.stderr, /networks\.lan7\.stp: eth1's OVS bridge also carries network lan with stp: rstp/);
    assert.deepEqual(await wholeHost(h), before);
  });
});
