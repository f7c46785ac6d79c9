// Host tier: requests that used to fail only at apply time (or reach the host at all) are now
// refused by validation: exit code 2, the field's path, what is wrong and a hint, and nothing
// changed — the kernel (ip -json) and OVSDB (ovsdb-client dump) read the same before and after.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';
import { wholeHost } from './lib/ovs-peer.ts';

const PREFIX = 'tv';

before(async () => {
  if (!skipUnlessRoot) await cleanupLeftovers(PREFIX);
});

describe('validation refuses before anything changes', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    h = await createSandbox({ prefix: PREFIX });
    // A running OVS config to refuse changes against (its bridge br-eth1 and ports exist).
    const r = await h.cli(['apply', '-'], { input: 'networks: { lan: { switch: ovs, nic: eth1, ipaddr: 192.0.2.10, prefix: 24 } }\n' });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => h?.down());

  const refusals: [string, string, RegExp][] = [
    ['a network named like the OVS bridge of eth1', 'networks: { br-eth1: { switch: ovs, nic: eth2 } }', /networks\.br-eth1: the OVS port of network br-eth1 would be named br-eth1, and so would the OVS bridge of eth1/],
    ['a network named like an OVS bond', 'networks: { bond0: { switch: ovs, nic: eth3 } }\nbondings: { bond0: { switch: ovs, nics: [eth0, eth2] } }', /networks\.bond0: .*OVS bond bond0/],
    ['a bridge option out of range', 'networks: { lan: { switch: ovs, nic: eth1, custom: { bridge_opts: "multicast_router=9" } } }', /networks\.lan\.custom\.bridge_opts: bridge option multicast_router: must be from 0 to 2, got 9/],
    ['hwaddr on an OVS bond', 'bondings: { bond0: { switch: ovs, nics: [eth2, eth3], hwaddr: "52:54:00:aa:bb:cc" } }', /bondings\.bond0\.hwaddr: an Open vSwitch bond has no MAC address of its own/],
    ['contradicting bond options', 'bondings: { bond0: { switch: ovs, nics: [eth2, eth3], options: "mode=active-backup ovs:bond_mode=balance-tcp" } }', /bondings\.bond0\.options: ovs:bond_mode=balance-tcp contradicts mode=active-backup/],
    ['multicast snooping asked two ways of one OVS bridge', 'networks: { v5: { switch: ovs, nic: eth1, vlan: 5, multicastSnooping: true }, v6: { switch: ovs, nic: eth1, vlan: 6, multicastSnooping: false } }', /networks\.v6\.multicastSnooping: eth1's OVS bridge also carries network v5/],
    ['VLAN 0 beside the untagged network on OVS', 'networks: { z: { switch: ovs, nic: eth1, vlan: 0 } }', /networks\.z\.vlan: Open vSwitch treats VLAN 0 as untagged/],
    ['the running network\'s address on another network', 'networks: { dup: { switch: ovs, nic: eth2, ipaddr: 192.0.2.10, prefix: 24 } }', /networks\.dup\.ipaddr: 192\.0\.2\.10 is also the address of network lan/],
    ['IPv6 below MTU 1280', 'networks: { small: { switch: ovs, nic: eth2, mtu: 1200, ipv6addr: "2001:db8::5/64" } }', /networks\.small\.ipv6addr: IPv6 needs an MTU of at least 1280/],
    ['a wrong type', 'networks: { lan: { switch: ovs, nic: eth1, mtu: abc } }', /networks\.lan\.mtu: expected an integer, got "abc"/],
  ];

  test('each bad request exits 2 with its path, message and hint; the host is unchanged', async () => {
    const before = await wholeHost(h);
    for (const [what, yaml, message] of refusals) {
      const r = await h.cli(['apply', '-'], { input: `${yaml}\n` });
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, message, what);
      assert.match(r.stderr, /hint: /, what);
      assert.match(r.stderr, /nothing was changed/, what);
    }
    assert.deepEqual(await wholeHost(h), before);
  });

  test('on a Linux bridge: forward_delay out of the STP range and stp_state beside stp are refused', async () => {
    const before = await wholeHost(h);
    // (the host runs OVS networks: a legacy request would mix switch types, so replace them)
    for (const [opts, stp, message] of [
      ['forward_delay=0', 'true', /forward_delay=0 is outside 200-3000 centiseconds/],
      ['stp_state=1', 'false', /stp_state=1 in custom\.bridge_opts contradicts stp: false/],
      ['group_addr=01:80:c2:00:00:03', 'false', /01:80:c2:00:00:03 is reserved/],
    ] as const) {
      const r = await h.cli(['apply', '--replace', '-'], { input: `networks: { br1: { nic: eth2, stp: ${stp}, custom: { bridge_opts: "${opts}" } } }\n` });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    }
    assert.deepEqual(await wholeHost(h), before);
  });
});
