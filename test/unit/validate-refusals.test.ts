// Requests that used to reach the host and fail there (or be quietly half-honoured) and are now
// refused at validation, each with the path of the field, what is wrong and what to do:
// device-name clashes, bridge option values and STP timers, OVS bond settings, settings of one
// OVS bridge asked two ways, duplicate addresses, IPv6 below 1280, and the schema's own wording.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeLenient, canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import type { Issue } from '../../src/model/errors.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import type { OvsSnapshot } from '../../src/model/ovs.ts';
import type { Link, Snapshot } from '../../src/model/snapshot.ts';
import { bridgeOptionProblem } from '../../src/model/bridge-options.ts';
import { formatBondOptions } from '../../src/model/bond-options.ts';
import { ovsBondSettings } from '../../src/model/ovs-bond.ts';
import { ovsBridgeName } from '../../src/plan/ovs.ts';
import { type ValidateContext, validateConfig } from '../../src/validate/validate.ts';

function link(name: string, kind: Link['kind'], extra: Partial<Link> = {}): Link {
  return { name, ifindex: 1, kind, type: kind === 'nic' ? '' : kind, mtu: 1500, mac: '52:54:00:00:00:01', up: true, operstate: 'UP', info: {}, slaveInfo: {}, addresses: [], ...extra };
}
function snapshot(links: Link[], ovs?: OvsSnapshot): Snapshot {
  return { time: 0, links: Object.fromEntries(links.map((l) => [l.name, l])), routes: [], rules: [], nameservers: [], ...(ovs ? { ovs } : {}) };
}
const NICS = ['eth0', 'eth1', 'eth2', 'eth3'].map((n) => link(n, 'nic'));
const HOST = snapshot(NICS);
const BOTH = new Set(['legacy', 'ovs']);

const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;
function check(cfg: Config, ctx: Partial<ValidateContext> = {}): Issue[] {
  return validateConfig(cfg, { snapshot: HOST, running: emptyConfig(), owned: new Set(), switchTypes: BOTH, ...ctx });
}
function refusedOnce(issues: readonly Issue[], path: string, message: RegExp): Issue {
  assert.deepEqual(issues.map((i) => i.path), [path], JSON.stringify(issues));
  assert.match(issues[0].message, message);
  assert.ok(issues[0].hint.length > 10, `hint: ${issues[0].hint}`);
  return issues[0];
}
/** The schema-level problems of a request (canonicalization), all of them. */
const schemaIssues = (request: unknown) => canonicalizeLenient(request).issues;

describe('device names netswitch would make twice, or that a foreign device has', () => {
  it('an OVS network named like the OVS bridge of its NIC (the naming function of plan/ovs.ts)', () => {
    const br = ovsBridgeName('br', 'eth1');
    const issue = refusedOnce(check(config({ networks: { [br]: { nic: 'eth1', switch: 'ovs' } } })), `networks.${br}`, /the OVS port of network br-eth1 would be named br-eth1, and so would the OVS bridge of eth1/);
    assert.match(issue.hint, /rename network br-eth1/);
    // ... or of another network's NIC
    refusedOnce(check(config({ networks: { a: { nic: 'eth1', switch: 'ovs' }, [br]: { nic: 'eth2', switch: 'ovs' } } })), `networks.${br}`, /OVS bridge of eth1/);
    // a NIC-less network's bridge is brn-<name>
    refusedOnce(check(config({ networks: { x: { switch: 'ovs' }, 'brn-x': { nic: 'eth1', switch: 'ovs' } } })), 'networks.brn-x', /OVS bridge of network x/);
  });
  it('an OVS network named like an OVS bond (one Port name), in the request or running', () => {
    const both = { networks: { bond0: { nic: 'eth3', switch: 'ovs' } }, bondings: { bond0: { nics: ['eth1', 'eth2'], switch: 'ovs' } } };
    refusedOnce(check(config(both)), 'networks.bond0', /would be named bond0, and so would OVS bond bond0/);
    // The bond runs already; a delta request adds the network.
    const running = config({ bondings: both.bondings });
    const { config: desired } = mergeRequest(running, canonicalizeRequest({ networks: both.networks }), false);
    const named = { networks: new Set(['bond0']), bondings: new Set<string>() };
    refusedOnce(check(desired, { running, named }), 'networks.bond0', /OVS bond bond0/);
  });
  it('on legacy, a bridged network named like a bond', () => {
    refusedOnce(check(config({ networks: { bond5: { nic: 'eth3' } }, bondings: { bond5: { nics: ['eth1'] } } }), { switchTypes: new Set(['legacy']) }), 'networks.bond5', /the bridge of network bond5 would be named bond5, and so would bond bond5/);
    // A bridgeless legacy network makes no device of its own: no clash.
    assert.deepEqual(check(config({ networks: { bond5: { bonding: 'bond5', bridged: false } }, bondings: { bond5: { nics: ['eth1'] } } })), []);
  });
  it('a derived name (OVS bridge, VLAN device) that a foreign device has', () => {
    const br = snapshot([...NICS, link('br-eth1', 'bridge')]);
    refusedOnce(check(config({ networks: { a: { nic: 'eth1', switch: 'ovs' } } }), { snapshot: br }), 'networks.a.nic', /a device named br-eth1 exists and was not made by netswitch \(a bridge\) \(netswitch names the OVS bridge of eth1 so\)/);
    const vlan = snapshot([...NICS, link('eth1.100', 'vlan', { link: 'eth1', vlanId: 100 })]);
    refusedOnce(check(config({ networks: { a: { nic: 'eth1', vlan: 100 } } }), { snapshot: vlan }), 'networks.a.vlan', /a device named eth1\.100 exists/);
    // ... but not netswitch's own, from the running config or owned
    const running = config({ networks: { a: { nic: 'eth1', vlan: 100 } } });
    assert.deepEqual(check(running, { snapshot: vlan, running }), []);
    assert.deepEqual(check(running, { snapshot: vlan, owned: new Set(['eth1.100']) }), []);
  });
  it('an OVS row that is not netswitch\'s (a foreign port without a kernel device)', () => {
    const ovs: OvsSnapshot = {
      layout: { bridges: {} },
      bridges: { other: { name: 'other', datapath: 'system', ports: ['bond0'], owned: false, stp: false, rstp: false, mcastSnooping: false } },
      ports: { bond0: { name: 'bond0', bridge: 'other', interfaces: ['eth3'], owned: false } },
      interfaces: {},
    };
    refusedOnce(check(config({ bondings: { bond1: { nics: ['eth1'], switch: 'ovs' } }, networks: { bond0: { bonding: 'bond1', switch: 'ovs' } } }), { snapshot: snapshot(NICS, ovs) }), 'networks.bond0', /Open vSwitch has a port named bond0 that netswitch did not make/);
  });
});

describe('custom.bridge_opts values', () => {
  const opts = (bridge_opts: string, extra: Record<string, unknown> = {}) => check(config({ networks: { n: { nic: 'eth1', custom: { bridge_opts }, ...extra } } }), { switchTypes: new Set(['legacy']) });
  it('refuses values of the wrong type or out of the kernel\'s range, naming the option', () => {
    const cases: [string, RegExp][] = [
      ['forward_delay=abc', /forward_delay: expected a whole number .*got "abc"/],
      ['multicast_router=9', /multicast_router: must be from 0 to 2, got 9/],
      ['max_age=99999999999', /max_age: must be from 600 to 4000 centiseconds \(6-40 s\)/],
      ['hello_time=50', /hello_time: must be from 100 to 1000/],
      ['group_addr=01:80:c2:00:00:03', /01:80:c2:00:00:03 is reserved/],
      ['group_addr=01:00:5e:00:00:01', /expected a link-local group address/],
      ['group_fwd_mask=0x4', /bits 0-2/],
      ['multicast_snooping=yes', /expected 0 or 1, got "yes"/],
      ['multicast_igmp_version=4', /expected 2 or 3/],
      ['vlan_protocol=802.1x', /expected 802\.1Q or 802\.1ad/],
      ['default_pvid=4095', /must be from 0 to 4094/],
      ['priority=65536', /must be from 0 to 65535/],
      ['hash_max=4294967296', /must be from 0 to 4294967295/],
      ['multicast_query_interval=50', /must be from 100 to 8640000 centiseconds/],
      ['ageing_time=010', /hexadecimal with 0x/],
    ];
    for (const [text, message] of cases) refusedOnce(opts(text), 'networks.n.custom.bridge_opts', message);
  });
  it('accepts what the kernel takes', () => {
    const good = 'forward_delay=0 multicast_router=2 max_age=2000 hello_time=200 group_addr=01:80:C2:00:00:0e group_fwd_mask=0x4000 ' +
      'vlan_protocol=802.1ad default_pvid=0 vlan_stats_enabled=1 vlan_stats_per_port=1 priority=0 multicast_query_interval=12500 multicast_membership_interval=18446744073709551615 multicast_mld_version=2';
    assert.deepEqual(opts(good), []);
    assert.equal(bridgeOptionProblem('forward_delay', '4294967295'), undefined);
    assert.match(bridgeOptionProblem('forward_delay', '4294967296') ?? '', /must be from 0 to 4294967295/);
  });
  it('with STP on, forward_delay must be 2-30 s (200-3000)', () => {
    refusedOnce(opts('forward_delay=0', { stp: true }), 'networks.n.custom.bridge_opts', /forward_delay=0 is outside 200-3000 centiseconds \(2-30 s\), which the kernel requires while STP runs/);
    refusedOnce(opts('forward_delay=3001', { stp: true }), 'networks.n.custom.bridge_opts', /outside 200-3000/);
    refusedOnce(opts('stp_state=1 forward_delay=100', { stp: true }), 'networks.n.custom.bridge_opts', /outside 200-3000/);
    assert.deepEqual(opts('forward_delay=200', { stp: true }), []);
    assert.deepEqual(opts('forward_delay=3000 max_age=4000 hello_time=1000', { stp: 'true' }), []);
    assert.deepEqual(opts('forward_delay=0', { stp: false }), []);
  });
  it('stp_state must agree with the stp field (unset means off)', () => {
    refusedOnce(opts('stp_state=1'), 'networks.n.custom.bridge_opts', /stp_state=1 in custom\.bridge_opts contradicts stp: false \(or no stp, which means off\)/);
    refusedOnce(opts('stp_state=1', { stp: false }), 'networks.n.custom.bridge_opts', /contradicts stp: false/);
    const on = refusedOnce(opts('stp_state=0', { stp: true }), 'networks.n.custom.bridge_opts', /stp_state=0 in custom\.bridge_opts contradicts stp: true/);
    assert.match(on.hint, /stp: false/);
    assert.deepEqual(opts('stp_state=1', { stp: true }), []);
    assert.deepEqual(opts('stp_state=0'), []);
    refusedOnce(opts('stp_state=2'), 'networks.n.custom.bridge_opts', /stp_state: expected 0 or 1/);
  });
  it('multicast_snooping must agree with multicastSnooping when both are given', () => {
    refusedOnce(opts('multicast_snooping=0', { multicastSnooping: true }), 'networks.n.custom.bridge_opts', /multicast_snooping=0 in custom\.bridge_opts contradicts multicastSnooping: true/);
    refusedOnce(opts('multicast_snooping=1', { multicastSnooping: false }), 'networks.n.custom.bridge_opts', /contradicts multicastSnooping: false/);
    assert.deepEqual(opts('multicast_snooping=0'), [], 'bridge_opts alone decides');
    assert.deepEqual(opts('multicast_snooping=0', { multicastSnooping: false }), []);
  });
  it('hash_elasticity, which Linux 5.0 ignores (always 16), only as 16', () => {
    refusedOnce(opts('hash_elasticity=4'), 'networks.n.custom.bridge_opts', /ignores it since Linux 5\.0 and always keeps 16/);
    assert.deepEqual(opts('hash_elasticity=16'), []);
  });
  it("an option the host's bridges do not show (the kernel lacks it) is refused; without a bridge to tell by, it is not", () => {
    const bridge = link('br0', 'bridge', { info: { forward_delay: 1500, mcast_snooping: 1 } });
    const lacking = snapshot([...NICS, bridge]);
    const cfg = config({ networks: { n: { nic: 'eth1', custom: { bridge_opts: 'default_pvid=0 forward_delay=0' } } } });
    refusedOnce(check(cfg, { snapshot: lacking, switchTypes: new Set(['legacy']) }), 'networks.n.custom.bridge_opts', /default_pvid: this kernel's bridges do not have it \(br0 shows no vlan_default_pvid\)/);
    assert.deepEqual(check(cfg, { switchTypes: new Set(['legacy']) }), []);
  });
});

describe('OVS bonds', () => {
  it('refuse hwaddr (an OVS bond has no MAC of its own); a legacy bond keeps it', () => {
    refusedOnce(check(config({ bondings: { bond0: { nics: ['eth1', 'eth2'], switch: 'ovs', hwaddr: '52:54:00:aa:bb:cc' } } })), 'bondings.bond0.hwaddr', /Open vSwitch bond has no MAC address of its own/);
    assert.deepEqual(check(config({ bondings: { bond0: { nics: ['eth1', 'eth2'], hwaddr: '52:54:00:aa:bb:cc' } } })), []);
  });
  it('a multicast or all-zero hwaddr is refused everywhere', () => {
    for (const hwaddr of ['01:00:5e:00:00:01', '33:33:00:00:00:01', 'ff:ff:ff:ff:ff:ff']) {
      const issues = schemaIssues({ bondings: { bond0: { nics: ['eth1'], hwaddr } } });
      assert.deepEqual(issues.map((i) => i.path), ['bondings.bond0.hwaddr'], hwaddr);
      assert.match(issues[0].message, /multicast address/);
      assert.match(issues[0].hint, /unicast/);
    }
    const zero = schemaIssues({ bondings: { bond0: { nics: ['eth1'], hwaddr: '00:00:00:00:00:00', switch: 'ovs' } } });
    assert.deepEqual(zero.map((i) => i.path), ['bondings.bond0.hwaddr']);
    assert.match(zero[0].message, /all-zero/);
  });
  it('a kernel option and a native ovs: option that set one OVS setting differently are refused', () => {
    const cases: [string, RegExp][] = [
      ['mode=active-backup ovs:bond_mode=balance-tcp', /ovs:bond_mode=balance-tcp contradicts mode=active-backup \(which means bond_mode=active-backup on Open vSwitch\)/],
      ['mode=802.3ad ovs:lacp=off', /ovs:lacp=off contradicts mode=802\.3ad/],
      ['mode=1 miimon=100 ovs:bond-miimon-interval=200', /contradicts miimon=100/],
      ['mode=802.3ad lacp_rate=1 ovs:lacp-time=slow', /contradicts lacp_rate=fast/],
      ['mode=1 updelay=100 ovs:bond_updelay=50', /contradicts updelay=100/],
    ];
    for (const [options, message] of cases) {
      const issues = schemaIssues({ bondings: { bond0: { nics: ['eth1'], switch: 'ovs', options } } });
      assert.deepEqual(issues.map((i) => i.path), ['bondings.bond0.options'], options);
      assert.match(issues[0].message, message);
    }
    // Agreeing, or native settings alone (the default mode says nothing), are fine.
    for (const options of ['mode=802.3ad ovs:bond_mode=balance-tcp ovs:lacp=active', 'ovs:bond_mode=balance-tcp ovs:lacp=passive', 'mode=1 miimon=100 ovs:bond-miimon-interval=0100', 'mode=active-backup ovs:lacp-time=fast']) {
      assert.deepEqual(schemaIssues({ bondings: { bond0: { nics: ['eth1'], switch: 'ovs', options } } }), [], options);
    }
  });
  it('native settings alone keep no mode, so the options written back (running config, kernel_config) read the same again', () => {
    for (const options of ['ovs:bond_mode=balance-slb ovs:lacp=passive', 'ovs:bond_mode=balance-tcp ovs:lacp=active', 'ovs:bond_mode=active-backup']) {
      const bond = canonicalizeRequest({ bondings: { bond0: { nics: ['eth1'], switch: 'ovs', options } } }).bondings.bond0 as { options: Record<string, string> };
      assert.equal(bond.options.mode, undefined, options);
      const again = formatBondOptions(bond.options);
      assert.deepEqual(schemaIssues({ bondings: { bond0: { nics: ['eth1'], switch: 'ovs', options: again } } }), [], again);
    }
    const prefixed = ovsBondSettings({ 'ovs:other_config:lacp-time': 'fast' }).problems;
    assert.match(prefixed[0]?.message ?? '', /write ovs:lacp-time \(other_config keys are given without other_config:\)/);
    // A legacy bond, or an OVS one with kernel options only, still has its (default) mode.
    const legacy = canonicalizeRequest({ bondings: { bond0: { nics: ['eth1'], options: 'miimon=100' } } }).bondings.bond0 as { options: Record<string, string> };
    assert.equal(legacy.options.mode, 'balance-rr');
  });
});

describe('one OVS bridge, one setting', () => {
  it('multicastSnooping true beside false on one NIC is refused; unset follows the bridge', () => {
    const cfg = config({ networks: { a: { nic: 'eth1', switch: 'ovs', multicastSnooping: true }, b: { nic: 'eth1', vlan: 5, switch: 'ovs', multicastSnooping: 'false' }, c: { nic: 'eth1', vlan: 6, switch: 'ovs' } } });
    refusedOnce(check(cfg), 'networks.b.multicastSnooping', /eth1's OVS bridge also carries network a with multicastSnooping: true/);
    // The network the request names is blamed, not the one already there.
    refusedOnce(check(cfg, { named: { networks: new Set(['a']), bondings: new Set() } }), 'networks.a.multicastSnooping', /network b with multicastSnooping: false/);
    // Separate NICs are separate bridges; on legacy each network has its own bridge.
    assert.deepEqual(check(config({ networks: { a: { nic: 'eth1', switch: 'ovs', multicastSnooping: true }, b: { nic: 'eth2', switch: 'ovs', multicastSnooping: false } } })), []);
    assert.deepEqual(check(config({ networks: { a: { nic: 'eth1', multicastSnooping: true }, b: { nic: 'eth1', vlan: 5, multicastSnooping: false } } })), []);
  });
  it('an explicit stp: false beside rstp or true on one OVS bridge is refused; no stp follows the bridge', () => {
    const issues = schemaIssues({ networks: { a: { nic: 'eth1', switch: 'ovs', stp: 'rstp' }, b: { nic: 'eth1', vlan: 5, switch: 'ovs', stp: false } } });
    refusedOnce(issues, 'networks.b.stp', /stp: false contradicts network a's stp: rstp/);
    refusedOnce(schemaIssues({ networks: { a: { nic: 'eth1', switch: 'ovs', stp: true }, b: { nic: 'eth1', vlan: 5, switch: 'ovs', stp: 'false' } } }), 'networks.b.stp', /stp: true/);
    assert.deepEqual(schemaIssues({ networks: { a: { nic: 'eth1', switch: 'ovs', stp: 'rstp' }, b: { nic: 'eth1', vlan: 5, switch: 'ovs' } } }), []);
    assert.deepEqual(schemaIssues({ networks: { a: { nic: 'eth1', switch: 'ovs', stp: 'rstp' }, b: { nic: 'eth2', switch: 'ovs', stp: false } } }), []);
    assert.deepEqual(schemaIssues({ networks: { a: { nic: 'eth1', stp: true }, b: { nic: 'eth1', vlan: 5, stp: false } } }), []);
  });
  it('on OVS, VLAN 0 beside an untagged network of the same NIC is refused (on legacy it is eth1.0)', () => {
    const issue = refusedOnce(check(config({ networks: { a: { nic: 'eth1', switch: 'ovs' }, z: { nic: 'eth1', vlan: 0, switch: 'ovs', bridged: false } } })), 'networks.z.vlan', /Open vSwitch treats VLAN 0 as untagged: network z would share one segment of eth1 with untagged network a/);
    assert.match(issue.hint, /another VLAN id/);
    assert.deepEqual(check(config({ networks: { a: { nic: 'eth1' }, z: { nic: 'eth1', vlan: 0, bridged: false } } })), []);
    assert.deepEqual(check(config({ networks: { a: { nic: 'eth1', switch: 'ovs' }, z: { nic: 'eth2', vlan: 0, switch: 'ovs' } } })), []);
  });
});

describe('a field the schema refused is not held against the others', () => {
  it('a refused vlan (4095) makes no second untagged network on its NIC', () => {
    const cfg = config({ networks: { u: { nic: 'eth1' }, v: { nic: 'eth1' } } }); // v's vlan dropped as refused
    refusedOnce(check(cfg), 'networks.v', /eth1 already carries untagged network u/);
    assert.deepEqual(check(cfg, { refused: new Set(['networks.v.vlan']) }), []);
  });
});

describe('addresses across networks', () => {
  it('one IPv4 address on two networks is refused, naming both', () => {
    refusedOnce(check(config({ networks: { a: { nic: 'eth1', ipaddr: '192.0.2.10', prefix: 24 }, b: { nic: 'eth2', ipaddr: '192.0.2.10', prefix: 25 } } })), 'networks.b.ipaddr', /192\.0\.2\.10 is also the address of network a/);
  });
  it('one IPv6 address on two networks is refused, whatever its spelling', () => {
    refusedOnce(check(config({ networks: { a: { nic: 'eth1', ipv6addr: '2001:db8::10/64' }, b: { nic: 'eth2', ipv6addr: '2001:DB8:0:0::10/80' } } })), 'networks.b.ipv6addr', /2001:db8:0:0::10 is also the address of network a/);
    assert.deepEqual(check(config({ networks: { a: { nic: 'eth1', ipv6addr: '2001:db8::10/64' }, b: { nic: 'eth2', ipv6addr: '2001:db8::11/64' } } })), []);
  });
  it('IPv6 on a network whose MTU is below 1280 is refused, field by field', () => {
    const issues = check(config({ networks: { n: { nic: 'eth1', mtu: 1279, ipv6addr: '2001:db8::10/64', ipv6gateway: '2001:db8::1', ipv6autoconf: true, dhcpv6: true } } }));
    assert.deepEqual(issues.map((i) => i.path), ['networks.n.ipv6addr', 'networks.n.ipv6gateway', 'networks.n.ipv6autoconf', 'networks.n.dhcpv6']);
    assert.match(issues[0].message, /IPv6 needs an MTU of at least 1280, and network n has mtu 1279/);
    assert.match(issues[0].hint, /raise mtu to 1280 or more, or drop ipv6addr/);
    assert.deepEqual(check(config({ networks: { n: { nic: 'eth1', mtu: 1280, ipv6addr: '2001:db8::10/64' }, m: { nic: 'eth2', mtu: 576, ipaddr: '192.0.2.1', prefix: 24 } } })), []);
  });
});

describe('schema messages say what was expected and what was given', () => {
  it('wrong types', () => {
    const issues = schemaIssues({ networks: { n: { mtu: 'abc', vlan: 'abc', bridged: 'no', nic: 5, switch: 'linux', stp: 'mstp', ipaddr: '1.2.3', prefix: 24 } } });
    const by = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    assert.equal(by['networks.n.mtu'], 'expected an integer, got "abc"');
    assert.equal(by['networks.n.vlan'], 'expected an integer, got "abc"');
    assert.equal(by['networks.n.bridged'], 'expected true or false, got "no"');
    assert.equal(by['networks.n.nic'], 'expected a string, got 5');
    assert.equal(by['networks.n.switch'], 'expected one of legacy, ovs, got "linux"');
    assert.equal(by['networks.n.stp'], 'expected true, false (or yes/no, on/off) or "rstp", got "mstp"');
    assert.equal(by['networks.n.ipaddr'], 'expected an IPv4 address like 192.0.2.10, got "1.2.3"');
    assert.ok(issues.every((i) => i.hint.length > 10));
    const mask = schemaIssues({ networks: { n: { nic: 'eth1', ipaddr: '192.0.2.1', netmask: '300.300.300.300' } } });
    assert.equal(mask.find((i) => i.path === 'networks.n.netmask')?.message, 'expected a netmask like 255.255.255.0, got "300.300.300.300"');
    const more = Object.fromEntries(schemaIssues({ networks: { n: { vlan: 1.5, nameservers: 'x' } }, bondings: { bond0: { options: 'mode=1' } }, options: { connectivityTimeout: 'soon' } }).map((i) => [i.path, i.message]));
    assert.equal(more['networks.n.vlan'], 'expected an integer from 0 to 4094, got 1.5');
    assert.equal(more['networks.n.nameservers'], 'expected a list, got "x"');
    assert.equal(more['bondings.bond0.nics'], 'required: expected a list');
    assert.equal(more['options.connectivityTimeout'], 'expected a number of seconds, got "soon"');
  });
  it('numeric and boolean strings are still accepted', () => {
    const net = canonicalizeRequest({ networks: { n: { nic: 'eth1', mtu: '9000', vlan: '0', bridged: 'False', stp: 'true' } } }).networks.n;
    assert.deepEqual([('mtu' in net && net.mtu), 'vlan' in net && net.vlan, 'bridged' in net && net.bridged, 'stp' in net && net.stp], [9000, 0, false, true]);
  });
  it('null for an optional field means the field is absent', () => {
    const req = canonicalizeRequest({
      networks: { n: { nic: 'eth1', bonding: null, gateway: null, vlan: null, custom: { bridge_opts: null }, hostQos: null } },
      bondings: { bond0: { nics: ['eth2'], options: null, hwaddr: null } },
      options: null,
    });
    assert.deepEqual(req.networks.n, canonicalizeRequest({ networks: { n: { nic: 'eth1', custom: {} } } }).networks.n);
    assert.deepEqual(req.bondings.bond0, { nics: ['eth2'], options: { mode: 'balance-rr' }, switch: 'legacy' });
    // A required field stays required, and a null inside a list is still a bad element.
    assert.deepEqual(schemaIssues({ bondings: { bond0: { nics: null } } }).map((i) => [i.path, i.message]), [['bondings.bond0.nics', 'required: expected a list']]);
    assert.deepEqual(schemaIssues({ networks: { n: { nameservers: ['192.0.2.1', null] } } }).map((i) => i.path), ['networks.n.nameservers.1']);
  });
});
