// validateConfig: one refusing case per rule of STATE-FORMAT.md's validation list (and the
// rules validate.ts adds), checked against a small fake host; plus mergeRequest, which turns
// a delta request into the full desired config that validation sees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import type { Issue } from '../../src/model/errors.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import type { Link, Snapshot } from '../../src/model/snapshot.ts';
import { type ValidateContext, validateConfig } from '../../src/validate/validate.ts';

function link(name: string, kind: Link['kind'], extra: Partial<Link> = {}): Link {
  return {
    name, ifindex: 1, kind, type: kind === 'nic' ? '' : kind, mtu: 1500, mac: '52:54:00:00:00:01', up: true,
    operstate: 'UP', info: {}, slaveInfo: {}, addresses: [], ...extra,
  };
}
function snapshot(...links: Link[]): Snapshot {
  return { time: 0, links: Object.fromEntries(links.map((l) => [l.name, l])), routes: [], rules: [], nameservers: [] };
}
/** A host with four free NICs. */
const HOST = snapshot(link('eth0', 'nic'), link('eth1', 'nic'), link('eth2', 'nic'), link('eth3', 'nic'), link('lo', 'other'));

/** The full config a request describes (as `apply --replace` takes it). */
const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;

function check(cfg: Config, ctx: Partial<ValidateContext> = {}): Issue[] {
  return validateConfig(cfg, { snapshot: HOST, running: emptyConfig(), owned: new Set(), switchTypes: new Set(['legacy']), ...ctx });
}
/** Exactly one issue, at `path`, whose message matches and whose hint says something. */
function refusedOnce(issues: Issue[], path: string, message: RegExp): void {
  assert.deepEqual(issues.map((i) => i.path), [path], JSON.stringify(issues));
  assert.match(issues[0].message, message);
  assert.ok(issues[0].hint.length > 10, `hint: ${issues[0].hint}`);
}

describe('validateConfig: a valid config', () => {
  it('gives no issues', () => {
    const cfg = config({
      networks: {
        ovirtmgmt: { nic: 'eth0', ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', defaultRoute: true, nameservers: ['192.0.2.53'] },
        vmnet: { bonding: 'bond0', vlan: 200, custom: { bridge_opts: 'forward_delay=0 multicast_router=2' } },
        storage: { bonding: 'bond0', vlan: 300, bridged: false, ipaddr: '198.51.100.5', prefix: 24, ipv6addr: '2001:db8::5/64', ipv6gateway: '2001:db8::1' },
        'stor.age': { nic: 'eth3', vlan: 0, bridged: false, bootproto: 'dhcp' },
        nicless: {},
      },
      bondings: { bond0: { nics: ['eth1', 'eth2'], options: 'mode=802.3ad miimon=100' } },
    });
    assert.deepEqual(check(cfg), []);
  });
});

describe('validateConfig: one refusal per rule', () => {
  it('nic and bonding both set', () => {
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', bonding: 'bond0' } }, bondings: { bond0: { nics: ['eth2'] } } })), 'networks.n', /nic and bonding are both set/);
  });
  it('a NIC that does not exist (on a network, and in a bond)', () => {
    const issues = check(config({ networks: { n: { nic: 'eth9' } } }));
    refusedOnce(issues, 'networks.n.nic', /NIC eth9 does not exist/);
    assert.match(issues[0].hint, /eth0, eth1, eth2, eth3/);
    refusedOnce(check(config({ bondings: { bond0: { nics: ['eth1', 'eth9'] } } })), 'bondings.bond0.nics', /NIC eth9 does not exist/);
  });
  it('a "NIC" that is another kind of device', () => {
    const host = snapshot(link('eth1', 'nic'), link('br0', 'bridge'));
    refusedOnce(check(config({ networks: { n: { nic: 'br0' } } }), { snapshot: host }), 'networks.n.nic', /br0 is a bridge, not a NIC/);
  });
  it('a NIC that is a slave of another bond (of the host, or of the config)', () => {
    const host = snapshot(link('eth1', 'nic', { master: 'bond9' }), link('eth2', 'nic'), link('bond9', 'bond'));
    refusedOnce(check(config({ networks: { n: { nic: 'eth1' } } }), { snapshot: host }), 'networks.n.nic', /NIC eth1 is a slave of bond bond9/);
    refusedOnce(check(config({ bondings: { bond0: { nics: ['eth1', 'eth2'] } } }), { snapshot: host }), 'bondings.bond0.nics', /slave of bond bond9/);
    const own = check(config({ networks: { n: { nic: 'eth1' } }, bondings: { bond0: { nics: ['eth1', 'eth2'] } } }));
    refusedOnce(own, 'networks.n.nic', /NIC eth1 is a slave of bond bond0/);
  });
  it('a bond that does not exist', () => {
    const issues = check(config({ networks: { n: { bonding: 'bond7' } } }));
    refusedOnce(issues, 'networks.n.bonding', /bond bond7 does not exist/);
    assert.match(issues[0].hint, /bondings/);
  });
  it('two untagged networks on one NIC or bond', () => {
    refusedOnce(check(config({ networks: { a: { nic: 'eth1' }, b: { nic: 'eth1', bridged: false } } })), 'networks.b', /eth1 already carries untagged network a/);
    const cfg = config({ networks: { a: { bonding: 'bond0' }, b: { bonding: 'bond0' } }, bondings: { bond0: { nics: ['eth1'] } } });
    refusedOnce(check(cfg), 'networks.b', /bond0 already carries untagged network a/);
  });
  it('two networks with one VLAN on one NIC or bond', () => {
    refusedOnce(check(config({ networks: { a: { nic: 'eth1', vlan: 100 }, b: { nic: 'eth1', vlan: '100', bridged: false } } })), 'networks.b.vlan', /eth1 already carries VLAN 100 \(network a\)/);
    const cfg = config({ networks: { a: { bonding: 'bond0', vlan: 0 }, b: { bonding: 'bond0', vlan: 0 } }, bondings: { bond0: { nics: ['eth1'] } } });
    refusedOnce(check(cfg), 'networks.b.vlan', /VLAN 0/);
    // The same VLAN on two NICs, and tagged next to untagged, are fine.
    assert.deepEqual(check(config({ networks: { a: { nic: 'eth1', vlan: 100 }, b: { nic: 'eth2', vlan: 100 }, c: { nic: 'eth1' } } })), []);
  });
  it('a bond with no NICs', () => {
    refusedOnce(check(config({ bondings: { bond0: { nics: [] } } })), 'bondings.bond0.nics', /bond bond0 has no NICs/);
  });
  it('a NIC in two bonds', () => {
    refusedOnce(check(config({ bondings: { bond0: { nics: ['eth1', 'eth2'] }, bond1: { nics: ['eth2', 'eth3'] } } })), 'bondings.bond1.nics', /NIC eth2 is in two bonds \(bond0 and bond1\)/);
  });
  it('a bond removed while a remaining network uses it', () => {
    const running = config({ networks: { net1: { bonding: 'bond0' } }, bondings: { bond0: { nics: ['eth1'] } } });
    const { config: desired, issues } = mergeRequest(running, canonicalizeRequest({ bondings: { bond0: { remove: true } } }), false);
    assert.deepEqual(issues, []);
    const host = snapshot(link('eth1', 'nic', { master: 'bond0' }), link('eth3', 'nic'), link('bond0', 'bond', { master: 'net1' }), link('net1', 'bridge'));
    const ctx = { snapshot: host, running, owned: new Set(['bond0', 'net1']) };
    refusedOnce(check(desired, ctx), 'networks.net1.bonding', /bond bond0 is removed, but network net1 uses it/);
    // Moving the network away in the same request makes the removal fine.
    const moved = mergeRequest(running, canonicalizeRequest({ bondings: { bond0: { remove: true } }, networks: { net1: { nic: 'eth3' } } }), false);
    assert.deepEqual([...moved.issues, ...check(moved.config, ctx)], []);
  });
  it('a NIC freed by removing its bond may carry the network', () => {
    const running = config({ networks: { net1: { bonding: 'bond0' } }, bondings: { bond0: { nics: ['eth1'] } } });
    const { config: desired } = mergeRequest(running, canonicalizeRequest({ bondings: { bond0: { remove: true } }, networks: { net1: { nic: 'eth1' } } }), false);
    const host = snapshot(link('eth1', 'nic', { master: 'bond0' }), link('bond0', 'bond', { master: 'net1' }), link('net1', 'bridge'));
    assert.deepEqual(check(desired, { snapshot: host, running, owned: new Set(['bond0', 'net1']) }), []);
  });
  it('a gateway outside the network\'s subnet', () => {
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', ipaddr: '192.0.2.10', prefix: 24, gateway: '198.51.100.1' } } })), 'networks.n.gateway', /gateway 198\.51\.100\.1 is outside 192\.0\.2\.10\/24/);
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', ipaddr: '192.0.2.5', prefix: 30, gateway: '192.0.2.9' } } })), 'networks.n.gateway', /outside/);
    assert.deepEqual(check(config({ networks: { n: { nic: 'eth1', ipaddr: '192.0.2.5', prefix: 30, gateway: '192.0.2.6' } } })), []);
  });
  it('a gateway without an address', () => {
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', gateway: '192.0.2.1' } } })), 'networks.n.gateway', /a gateway without an address/);
  });
  it('bootproto dhcp together with ipaddr', () => {
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', bootproto: 'dhcp', ipaddr: '192.0.2.10', prefix: 24 } } })), 'networks.n.ipaddr', /bootproto dhcp together with a static ipaddr/);
  });
  it('two default routes in one request', () => {
    const { issues } = mergeRequest(emptyConfig(), canonicalizeRequest({
      networks: {
        a: { nic: 'eth1', ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', defaultRoute: true },
        b: { nic: 'eth2', ipaddr: '198.51.100.10', prefix: 24, gateway: '198.51.100.1', defaultRoute: 'true' },
      },
    }), false);
    refusedOnce(issues, 'networks.b.defaultRoute', /two networks of the request claim the default route \(a, b\)/);
  });
  it('mixed switch types', () => {
    const cfg = config({ networks: { a: { nic: 'eth1' }, b: { nic: 'eth2', switch: 'ovs' } } });
    const both = new Set(['legacy', 'ovs']);
    const issues = check(cfg, { switchTypes: both });
    assert.deepEqual(issues.map((i) => i.path), ['networks.a.switch', 'networks.b.switch']);
    assert.match(issues[0].message, /would mix switch types \(legacy: networks\.a; ovs: networks\.b\)/);
    // Only the entries the request named are blamed.
    const named = { networks: new Set(['b']), bondings: new Set<string>() };
    refusedOnce(check(cfg, { switchTypes: both, named }), 'networks.b.switch', /mix switch types/);
  });
  it('a switch type without a backend on this host', () => {
    refusedOnce(check(config({ networks: { a: { nic: 'eth1', switch: 'ovs' } } })), 'networks.a.switch', /the ovs switch is not available/);
  });
  it('a bridged network whose name contains "."', () => {
    refusedOnce(check(config({ networks: { 'vm.net': { nic: 'eth1' } } })), 'networks.vm.net', /may not contain '\.'/);
  });
  it('a bridgeless network without a NIC or bond', () => {
    refusedOnce(check(config({ networks: { n: { bridged: false } } })), 'networks.n', /bridgeless network needs a NIC or bond/);
    // A NIC-less bridge has nothing to tag: VDSM's test_add_bridged_vlaned_net_missing_sb_device_fails.
    refusedOnce(check(config({ networks: { n: { bridged: true, vlan: 100 } } })), 'networks.n.vlan', /VLAN 100 needs a NIC or bond/);
    refusedOnce(check(config({ networks: { n: { vlan: 100, switch: 'ovs' } } }), { switchTypes: new Set(['legacy', 'ovs']) }), 'networks.n.vlan', /VLAN 100 needs a NIC or bond/);
  });
  it('nameservers on a network without the default route', () => {
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', nameservers: ['192.0.2.53'] } } })), 'networks.n.nameservers', /nameservers belong to the default-route network/);
    assert.deepEqual(check(config({ networks: { n: { nic: 'eth1', nameservers: [] } } })), []);
  });
  it('an IPv6 gateway without an IPv6 address', () => {
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', ipv6gateway: '2001:db8::1' } } })), 'networks.n.ipv6gateway', /IPv6 gateway without an IPv6 address/);
  });
  it('an IPv6 gateway outside the network, or its own address (a link-local one is fine)', () => {
    const v6 = (ipv6gateway: string) => check(config({ networks: { n: { nic: 'eth1', ipv6addr: '2001:db8::10/64', ipv6gateway } } }));
    refusedOnce(v6('2001:db9::1'), 'networks.n.ipv6gateway', /IPv6 gateway 2001:db9::1 is outside 2001:db8::10\/64/);
    refusedOnce(v6('2001:db8:0::10'), 'networks.n.ipv6gateway', /the network's own address/);
    assert.deepEqual(v6('2001:db8::1'), []);
    assert.deepEqual(v6('fe80::1'), []);
  });
  it('an IPv4 address no host can have, prefix 0, or the gateway as the own address', () => {
    const v4 = (ipaddr: string, prefix: number, gateway?: string) => check(config({ networks: { n: { nic: 'eth1', ipaddr, prefix, ...(gateway ? { gateway } : {}) } } }));
    refusedOnce(v4('224.0.0.5', 24), 'networks.n.ipaddr', /multicast address/);
    refusedOnce(v4('127.0.0.2', 8), 'networks.n.ipaddr', /loopback address/);
    refusedOnce(v4('0.1.2.3', 8), 'networks.n.ipaddr', /"this network"/);
    refusedOnce(v4('255.255.255.255', 32), 'networks.n.ipaddr', /reserved or broadcast/);
    refusedOnce(v4('10.1.1.1', 0), 'networks.n.prefix', /prefix 0/);
    refusedOnce(v4('10.1.1.0', 24), 'networks.n.ipaddr', /network address of 10.1.1.0\/24/);
    refusedOnce(v4('10.1.1.255', 24), 'networks.n.ipaddr', /broadcast address of 10.1.1.255\/24/);
    refusedOnce(v4('10.1.1.1', 24, '10.1.1.1'), 'networks.n.gateway', /the network's own address/);
    // /31 (RFC 3021) and /32 have no network or broadcast address.
    assert.deepEqual(v4('10.1.1.0', 31), []);
    assert.deepEqual(v4('10.1.1.1', 31), []);
    assert.deepEqual(v4('10.1.1.0', 32), []);
    assert.deepEqual(v4('10.1.1.1', 30, '10.1.1.2'), []);
    // Only the networks a request names: one applied earlier does not block later applies.
    const earlier = config({ networks: { old: { nic: 'eth1', ipaddr: '10.1.0.0', prefix: 16 }, n: { nic: 'eth2' } } });
    assert.deepEqual(check(earlier, { named: { networks: new Set(['n']), bondings: new Set() } }), []);
    refusedOnce(check(earlier, { named: { networks: new Set(['old']), bondings: new Set() } }), 'networks.old.ipaddr', /network address/);
  });
  it('an unknown or read-only bridge option', () => {
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', custom: { bridge_opts: 'forward_delay=0 fwd_delay=0' } } } })), 'networks.n.custom.bridge_opts', /unknown or read-only bridge option "fwd_delay"/);
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', custom: { bridge_opts: 'root_port=1' } } } })), 'networks.n.custom.bridge_opts', /"root_port"/);
  });
  it('bridge options on a bridgeless network', () => {
    refusedOnce(check(config({ networks: { n: { nic: 'eth1', bridged: false, custom: { bridge_opts: 'forward_delay=0' } } } })), 'networks.n.custom.bridge_opts', /bridgeless network/);
  });
  it('ovs: bond options on a legacy bond', () => {
    refusedOnce(check(config({ bondings: { bond0: { nics: ['eth1'], options: 'mode=active-backup ovs:lacp=active' } } })), 'bondings.bond0.options', /option ovs:lacp is for Open vSwitch bonds, and bond0 is a legacy bond/);
  });
  it('a VLAN device name longer than 15 characters', () => {
    const host = snapshot(link('enp0s31f6abcd', 'nic'));
    refusedOnce(check(config({ networks: { n: { nic: 'enp0s31f6abcd', vlan: 100 } } }), { snapshot: host }), 'networks.n.vlan', /enp0s31f6abcd\.100 is longer than 15 characters/);
  });
  it('a device name taken by a foreign device', () => {
    refusedOnce(check(config({ networks: { eth3: { nic: 'eth1' } } })), 'networks.eth3', /a device named eth3 exists and was not made by netswitch \(a nic\)/);
    const host = snapshot(link('eth1', 'nic'), link('bond5', 'bridge'), link('br0', 'bridge'));
    refusedOnce(check(config({ bondings: { bond5: { nics: ['eth1'] } } }), { snapshot: host }), 'bondings.bond5', /a device named bond5 exists and is not a bond/);
    // A foreign bridge named as a Linux bridged network is taken over (VDSM's
    // test_create_network_over_an_existing_unowned_bridge); anything else of that name is not.
    assert.deepEqual(check(config({ networks: { br0: { nic: 'eth1' } } }), { snapshot: host }), []);
    assert.deepEqual(check(config({ networks: { br0: {} } }), { snapshot: host }), []);
    refusedOnce(check(config({ networks: { eth3: { nic: 'eth1' } } })), 'networks.eth3', /\(a nic\)/);
    // An OVS network's internal port is named after it too.
    const ovs = new Set(['legacy', 'ovs']);
    refusedOnce(check(config({ networks: { br0: { nic: 'eth1', bridged: false, switch: 'ovs' } } }), { snapshot: host, switchTypes: ovs }), 'networks.br0', /was not made by netswitch/);
    // Netswitch's own bridge is no obstacle, nor the device of a network it runs (an OVS port).
    assert.deepEqual(check(config({ networks: { br0: { nic: 'eth1' } } }), { snapshot: host, owned: new Set(['br0']) }), []);
    const ovsPort = snapshot(link('eth1', 'nic'), link('red', 'ovs'));
    const running = config({ networks: { red: { nic: 'eth1', switch: 'ovs' } } });
    assert.deepEqual(check(config({ networks: { red: { nic: 'eth1', switch: 'ovs' } } }), { snapshot: ovsPort, running, switchTypes: ovs }), []);
  });
  it('reports the problems of several entries together', () => {
    const issues = check(config({ networks: { a: { nic: 'eth9' }, b: { bonding: 'bond7' }, c: { nic: 'eth1', bootproto: 'dhcp', ipaddr: '192.0.2.1', prefix: 24 } } }));
    assert.deepEqual(issues.map((i) => i.path), ['networks.a.nic', 'networks.b.bonding', 'networks.c.ipaddr']);
  });
});

describe('mergeRequest', () => {
  const running = config({
    networks: {
      ovirtmgmt: { nic: 'eth0', ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', defaultRoute: true, nameservers: ['192.0.2.53'] },
      vmnet: { nic: 'eth1', vlan: 200 },
    },
  });
  it('a new default-route network takes the default route and the nameservers over', () => {
    const before = structuredClone(running);
    const { config: desired, issues } = mergeRequest(running, canonicalizeRequest({
      networks: { mgmt2: { nic: 'eth2', ipaddr: '198.51.100.10', prefix: 24, gateway: '198.51.100.1', defaultRoute: true, nameservers: ['198.51.100.53'] } },
    }), false);
    assert.deepEqual(issues, []);
    assert.equal(desired.networks.ovirtmgmt.defaultRoute, false);
    assert.ok(!('nameservers' in desired.networks.ovirtmgmt));
    assert.equal(desired.networks.ovirtmgmt.ipaddr, '192.0.2.10');
    assert.equal(desired.networks.mgmt2.defaultRoute, true);
    assert.deepEqual(desired.networks.mgmt2.nameservers, ['198.51.100.53']);
    assert.deepEqual(desired.networks.vmnet, running.networks.vmnet);
    assert.deepEqual(running, before, 'the running config is not modified');
    assert.deepEqual(check(desired), []);
  });
  it('is a delta: named entries are replaced, others stay, removals remove', () => {
    const { config: desired, issues } = mergeRequest(running, canonicalizeRequest({ networks: { vmnet: { remove: true }, new: { nic: 'eth3' } } }), false);
    assert.deepEqual(issues, []);
    assert.deepEqual(Object.keys(desired.networks).sort(), ['new', 'ovirtmgmt']);
    assert.deepEqual(desired.networks.ovirtmgmt, running.networks.ovirtmgmt);
  });
  it('refuses removing what is not there', () => {
    const { issues } = mergeRequest(running, canonicalizeRequest({ networks: { nosuch: { remove: true } }, bondings: { bond3: { remove: true } } }), false);
    assert.deepEqual(issues.map((i) => i.path), ['networks.nosuch', 'bondings.bond3']);
  });
  it('with replace, what the request does not name is removed', () => {
    const { config: desired, issues } = mergeRequest(running, canonicalizeRequest({ networks: { vmnet: { nic: 'eth1', vlan: 201 } } }), true);
    assert.deepEqual(issues, []);
    assert.deepEqual(Object.keys(desired.networks), ['vmnet']);
    assert.equal(desired.networks.vmnet.vlan, 201);
  });
});
