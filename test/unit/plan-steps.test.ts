// Steps as data: each knows its inverse and how to print itself as a sentence and as the
// `ip` command it runs; a device deleted and re-created (the undo of a deletion) comes back
// from the spec read from the host, without options at their kernel default.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import type { Link } from '../../src/model/snapshot.ts';
import { type Layout, layoutOf, sourceRouteTable, specFromLink } from '../../src/plan/layout.ts';
import { planLinux } from '../../src/plan/linux.ts';
import { type LinuxStep, type Step, describeStep, invert, ipBatchLines, ipCommands, undo } from '../../src/plan/steps.ts';

const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;
const ROUTE = { family: 4 as const, dst: 'default', gateway: '192.0.2.1', dev: 'ovirtmgmt', table: 'main' };
const VLAN = { name: 'eth1.100', kind: 'vlan' as const, mtu: 1500, addresses: [], vlan: { link: 'eth1', id: 100 } };

/** One step of every kind, with its sentence and its ip commands. */
const CASES: [Step, string, string[]][] = [
  [{ op: 'link.add', link: VLAN }, 'create vlan eth1.100 on eth1 (mtu 1500)', ['ip link add name eth1.100 link eth1 mtu 1500 type vlan id 100']],
  [{ op: 'link.add', link: { name: 'vmnet', kind: 'bridge', mtu: 1500, addresses: [], bridgeOpts: { stp_state: '0', forward_delay: '0', multicast_router: '2' } } }, 'create bridge vmnet (mtu 1500)', ['ip link add name vmnet mtu 1500 type bridge forward_delay 0 mcast_router 2']],
  [{ op: 'link.add', link: { name: 'bond0', kind: 'bond', mtu: 9000, addresses: [], mac: '52:54:00:aa:bb:cc', bondOptions: { miimon: '100', mode: '802.3ad', lacp_rate: 'fast', xmit_hash_policy: 'layer2', 'ovs:lacp': 'active' } } }, 'create bond bond0 (mtu 9000)', ['ip link add name bond0 address 52:54:00:aa:bb:cc mtu 9000 type bond mode 802.3ad miimon 100 lacp_rate fast']],
  [{ op: 'link.del', link: { name: 'vmnet', kind: 'bridge', mtu: 1500, addresses: [] } }, 'delete bridge vmnet', ['ip link del dev vmnet']],
  [{ op: 'link.set', name: 'eth1', attr: 'master', from: null, to: 'vmnet' }, 'attach eth1 to vmnet', ['ip link set dev eth1 master vmnet']],
  [{ op: 'link.set', name: 'eth1', attr: 'master', from: 'vmnet', to: null }, 'detach eth1 from vmnet', ['ip link set dev eth1 nomaster']],
  [{ op: 'link.set', name: 'eth1', attr: 'up', from: false, to: true }, 'bring eth1 up', ['ip link set dev eth1 up']],
  [{ op: 'link.set', name: 'eth1', attr: 'up', from: true, to: false }, 'bring eth1 down', ['ip link set dev eth1 down']],
  [{ op: 'link.set', name: 'eth1', attr: 'mtu', from: 1500, to: 9000 }, 'set eth1 mtu 1500 -> 9000', ['ip link set dev eth1 mtu 9000']],
  [{ op: 'link.set', name: 'bond0', attr: 'mac', from: null, to: '52:54:00:aa:bb:cc' }, 'set bond0 mac (unset) -> 52:54:00:aa:bb:cc', ['ip link set dev bond0 address 52:54:00:aa:bb:cc']],
  [{ op: 'bridge.set', name: 'vmnet', from: { forward_delay: '1500', multicast_snooping: '1' }, to: { forward_delay: '0', multicast_snooping: '0' } }, 'set bridge vmnet options forward_delay 1500 -> 0, multicast_snooping 1 -> 0', ['ip link set dev vmnet type bridge forward_delay 0 mcast_snooping 0']],
  [{ op: 'bond.set', name: 'bond0', from: { miimon: '0' }, to: { miimon: '100' } }, 'set bond bond0 options miimon 0 -> 100', ['ip link set dev bond0 type bond miimon 100']],
  [{ op: 'addr.add', dev: 'ovirtmgmt', cidr: '192.0.2.10/24' }, 'add address 192.0.2.10/24 to ovirtmgmt', ['ip addr add 192.0.2.10/24 dev ovirtmgmt']],
  [{ op: 'addr.del', dev: 'ovirtmgmt', cidr: '2001:db8::10/64' }, 'remove address 2001:db8::10/64 from ovirtmgmt', ['ip addr del 2001:db8::10/64 dev ovirtmgmt']],
  [{ op: 'route.add', route: ROUTE }, 'add IPv4 default route via 192.0.2.1 dev ovirtmgmt', ['ip route add 0.0.0.0/0 via 192.0.2.1 dev ovirtmgmt table main']],
  [{ op: 'route.del', route: { family: 6, dst: 'default', gateway: '2001:db8::1', dev: 'ovirtmgmt', table: 'main' } }, 'remove IPv6 default route via 2001:db8::1 dev ovirtmgmt', ['ip route del ::/0 via 2001:db8::1 dev ovirtmgmt table main']],
  [{ op: 'route.add', route: { family: 4, dst: '198.51.100.0/24', gateway: '192.0.2.254', dev: 'ovirtmgmt', table: '100' } }, 'add route to 198.51.100.0/24 via 192.0.2.254 dev ovirtmgmt table 100', ['ip route add 198.51.100.0/24 via 192.0.2.254 dev ovirtmgmt table 100']],
];

describe('describeStep / ipCommands', () => {
  for (const [step, sentence, cmds] of CASES) {
    it(sentence, () => {
      assert.equal(describeStep(step), sentence);
      assert.deepEqual(ipCommands(step), cmds);
      assert.deepEqual(ipBatchLines(step as LinuxStep).map((l) => ['ip', ...l].join(' ')), cmds);
    });
  }
  it('a bond primary cleared, and set again: "(none)" for no primary, not an empty word', () => {
    const clear: Step = { op: 'bond.set', name: 'bond0', from: { primary: 'eth3' }, to: { primary: '' } };
    assert.equal(describeStep(clear), 'set bond bond0 options primary eth3 -> (none)');
    assert.deepEqual(ipCommands(clear), ['echo > /sys/class/net/bond0/bonding/primary']);
    assert.equal(describeStep(invert(clear)), 'set bond bond0 options primary (none) -> eth3');
  });
  it('refuses to create a NIC', () => {
    assert.throws(() => ipBatchLines({ op: 'link.add', link: { name: 'eth9', kind: 'nic', mtu: 1500, addresses: [] } }), /cannot create nic eth9/);
  });
});

describe('invert / undo', () => {
  it('inverts each kind of step', () => {
    assert.deepEqual(invert({ op: 'link.add', link: VLAN }), { op: 'link.del', link: VLAN });
    assert.deepEqual(invert({ op: 'link.set', name: 'eth1', attr: 'mtu', from: 1500, to: 9000 }), { op: 'link.set', name: 'eth1', attr: 'mtu', from: 9000, to: 1500 });
    assert.deepEqual(invert({ op: 'link.set', name: 'eth1', attr: 'master', from: null, to: 'vmnet' }), { op: 'link.set', name: 'eth1', attr: 'master', from: 'vmnet', to: null });
    assert.deepEqual(invert({ op: 'bridge.set', name: 'vmnet', from: { forward_delay: '1500' }, to: { forward_delay: '0' } }), { op: 'bridge.set', name: 'vmnet', from: { forward_delay: '0' }, to: { forward_delay: '1500' } });
    assert.deepEqual(invert({ op: 'addr.add', dev: 'ovirtmgmt', cidr: '192.0.2.10/24' }), { op: 'addr.del', dev: 'ovirtmgmt', cidr: '192.0.2.10/24' });
    assert.deepEqual(invert({ op: 'route.del', route: ROUTE }), { op: 'route.add', route: ROUTE });
    assert.deepEqual(ipCommands(invert({ op: 'bond.set', name: 'bond0', from: { miimon: '0' }, to: { miimon: '100' } })), ['ip link set dev bond0 type bond miimon 0']);
  });
  it('invert(invert(s)) equals s for every kind of step', () => {
    for (const [step] of CASES) assert.deepEqual(invert(invert(step)), step);
  });
  it('undo of a plan is each inverse in reverse order', () => {
    const running = config({
      bondings: { bond0: { nics: ['eth1', 'eth2'], options: 'mode=active-backup' } },
      networks: { ovirtmgmt: { bonding: 'bond0', vlan: 100, ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', defaultRoute: true } },
    });
    const desired = config({ networks: { ovirtmgmt: { nic: 'eth3', mtu: 9000, ipaddr: '192.0.2.11', prefix: 24, gateway: '192.0.2.1', defaultRoute: true, custom: { bridge_opts: 'forward_delay=0' } } } });
    const steps = planLinux(layoutOf(running, emptyConfig()), layoutOf(desired, running));
    assert.ok(steps.length >= 10, `a plan with many kinds of steps: ${steps.map(describeStep).join('; ')}`);
    const back = undo(steps);
    assert.equal(back.length, steps.length);
    for (const [i, s] of back.entries()) assert.deepEqual(s, invert(steps[steps.length - 1 - i]));
    const T = sourceRouteTable('ovirtmgmt');
    assert.deepEqual(describeStep(back[0]), `remove IPv4 default route via 192.0.2.1 dev ovirtmgmt table ${T}`);
    assert.deepEqual(describeStep(back[back.length - 1]), 'add IPv4 default route via 192.0.2.1 dev ovirtmgmt');
    assert.deepEqual(undo(back), steps);
  });
  it('steps survive a JSON round trip (the journal)', () => {
    const steps = CASES.map(([s]) => s);
    assert.deepEqual(JSON.parse(JSON.stringify(steps)), steps);
  });
});

/** A device as `ip -d -json` shows it: info_data with every option, at the kernel's defaults. */
function hostLink(name: string, kind: Link['kind'], up: boolean, info: Record<string, unknown>, extra: Partial<Link> = {}): Link {
  return { name, ifindex: 7, kind, type: kind, mtu: 1500, mac: '52:54:00:00:00:0a', up, operstate: up ? 'UP' : 'DOWN', info, slaveInfo: {}, addresses: [], ...extra };
}
const BRIDGE_INFO = {
  forward_delay: 0, hello_time: 200, max_age: 2000, ageing_time: 30000, stp_state: 0, priority: 32768, vlan_filtering: 0,
  vlan_protocol: '802.1Q', bridge_id: '8000.52:54:0:0:0:a', root_id: '8000.52:54:0:0:0:a', root_port: 0, root_path_cost: 0,
  topology_change: 0, topology_change_detected: 0, hello_timer: 0, tcn_timer: 0, topology_change_timer: 0, gc_timer: 28.5,
  vlan_default_pvid: 1, group_fwd_mask: 0, group_addr: '01:80:c2:00:00:00', mcast_snooping: 1, mcast_router: 1,
  mcast_query_use_ifaddr: 0, mcast_querier: 0, mcast_hash_elasticity: 16, mcast_hash_max: 4096, mcast_last_member_cnt: 2,
  mcast_startup_query_cnt: 2, mcast_last_member_intvl: 100, mcast_membership_intvl: 26000, mcast_querier_intvl: 25500,
  mcast_query_intvl: 12500, mcast_query_response_intvl: 1000, mcast_startup_query_intvl: 3125, mcast_stats_enabled: 0,
  mcast_igmp_version: 2, mcast_mld_version: 1, nf_call_iptables: 0, nf_call_ip6tables: 0, nf_call_arptables: 0,
};
const BOND_INFO = {
  mode: 'active-backup', miimon: 100, updelay: 0, downdelay: 0, peer_notif_delay: 0, use_carrier: 1, arp_interval: 0,
  arp_validate: 'none', arp_all_targets: 'any', primary_reselect: 'always', fail_over_mac: 'none', xmit_hash_policy: 'layer2',
  resend_igmp: 1, num_peer_notif: 1, all_slaves_active: 0, min_links: 0, lp_interval: 1, packets_per_slave: 1,
  ad_lacp_rate: 'slow', ad_select: 'stable', tlb_dynamic_lb: 1, arp_missed_max: 2,
};
/** The commands that re-create a device the plan deleted (the undo of its deletion). */
function recreate(link: Link): string[] {
  const actual: Layout = { links: { [link.name]: specFromLink(link) }, routes: [], rules: [] };
  const steps = planLinux(actual, { links: {}, routes: [], rules: [] });
  assert.deepEqual(steps.map((s) => s.op), ['link.del']);
  return undo(steps).flatMap(ipCommands);
}

describe('re-creating a deleted device from the spec read from the host', () => {
  it('a bridge: options at their kernel default are left out, and it comes back up', () => {
    const cmds = recreate(hostLink('vmnet', 'bridge', true, BRIDGE_INFO));
    assert.deepEqual(cmds, ['ip link add name vmnet address 52:54:00:00:00:0a mtu 1500 type bridge forward_delay 0', 'ip link set dev vmnet up']);
    assert.ok(!cmds.join(' ').includes('vlan_filtering'));
  });
  it('a bridge that was down stays down; non-default options come back', () => {
    const cmds = recreate(hostLink('vmnet', 'bridge', false, { ...BRIDGE_INFO, forward_delay: 1500, stp_state: 1, mcast_snooping: 0 }));
    assert.deepEqual(cmds, ['ip link add name vmnet address 52:54:00:00:00:0a mtu 1500 type bridge stp_state 1 mcast_snooping 0']);
  });
  it('a VLAN on its lower device, with its MAC and MTU', () => {
    const cmds = recreate(hostLink('eth1.100', 'vlan', true, { protocol: '802.1Q', id: 100 }, { link: 'eth1', vlanId: 100, mtu: 9000 }));
    assert.deepEqual(cmds, ['ip link add name eth1.100 link eth1 address 52:54:00:00:00:0a mtu 9000 type vlan id 100', 'ip link set dev eth1.100 up']);
  });
  it('a bond: its mode, and only the options away from their defaults', () => {
    const cmds = recreate(hostLink('bond0', 'bond', true, BOND_INFO));
    assert.deepEqual(cmds, ['ip link add name bond0 address 52:54:00:00:00:0a mtu 1500 type bond mode active-backup miimon 100', 'ip link set dev bond0 up']);
  });
  it('an 802.3ad bond: mode first, then the options away from their defaults', () => {
    const info = { ...BOND_INFO, mode: '802.3ad', ad_lacp_rate: 'fast', xmit_hash_policy: 'layer3+4', ad_actor_sys_prio: 65535, ad_user_port_key: 0 };
    const cmds = recreate(hostLink('bond0', 'bond', false, info));
    assert.deepEqual(cmds, ['ip link add name bond0 address 52:54:00:00:00:0a mtu 1500 type bond mode 802.3ad miimon 100 xmit_hash_policy layer3+4 lacp_rate fast']);
  });
  it('a spec read from the host keeps only static addresses, sorted', () => {
    const spec = specFromLink(hostLink('ovirtmgmt', 'bridge', true, BRIDGE_INFO, {
      master: undefined,
      addresses: [
        { family: 6, cidr: 'fe80::1/64', scope: 'link', dynamic: true },
        { family: 4, cidr: '192.0.2.20/24', scope: 'global', dynamic: false },
        { family: 4, cidr: '192.0.2.10/24', scope: 'global', dynamic: false },
      ],
    }));
    assert.deepEqual(spec.addresses, ['192.0.2.10/24', '192.0.2.20/24']);
    assert.ok(!('bridge_id' in (spec.bridgeOpts ?? {})) && !('gc_timer' in (spec.bridgeOpts ?? {})));
    assert.equal(spec.bridgeOpts?.default_pvid, '1');
  });
});

describe('undo of a bond slave detached while down', () => {
  it('attaches it again, then brings it down (the driver brings up what it enslaves)', () => {
    const steps: Step[] = [
      { op: 'link.set', name: 'eth1', attr: 'master', from: 'bond0', to: null, down: true },
      { op: 'link.set', name: 'eth0', attr: 'master', from: 'bond0', to: null },
    ];
    assert.deepEqual(undo(steps).map(describeStep), ['attach eth0 to bond0', 'attach eth1 to bond0', 'bring eth1 down']);
    assert.equal('down' in undo(steps)[1], false, 'an attach carries no flag');
  });
});
