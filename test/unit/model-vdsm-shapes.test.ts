// The value shapes VDSM's setupNetworks accepts (lib/vdsm/network/canonicalize.py, tobool,
// stp_booleanize, and ip/address's `if address:` checks) are accepted with VDSM's meaning;
// what VDSM refuses, or would silently misread, is refused naming the field. And an OVS
// network's custom.bridge_opts (Linux bridge options) is refused instead of being dropped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { canonicalizeLenient, canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig, type Network } from '../../src/model/config.ts';
import { ErrorCode, type Issue, isNetswitchError } from '../../src/model/errors.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import { setupRequest } from '../../src/model/request.ts';
import type { Link, Snapshot } from '../../src/model/snapshot.ts';
import { validateConfig } from '../../src/validate/validate.ts';

const net = (attrs: Record<string, unknown>): Network => {
  const n = canonicalizeRequest({ networks: { n: attrs } }).networks.n;
  assert.ok(!('remove' in n && n.remove === true), 'not a removal');
  return n as Network;
};
/** The one issue of a refused request: its path, message and hint. */
function refused(input: unknown): Issue {
  try {
    canonicalizeRequest(input);
  } catch (e) {
    if (!isNetswitchError(e, ErrorCode.Invalid)) throw e;
    assert.equal(e.issues.length, 1, JSON.stringify(e.issues));
    assert.ok(e.issues[0].hint.length > 10, `hint: ${e.issues[0].hint}`);
    return e.issues[0];
  }
  return assert.fail(`expected ${JSON.stringify(input)} to be refused`);
}

describe('finding 7: the field test\'s requests, as VDSM reads them', () => {
  it('remove: "false" is an ordinary entry, remove: "true"/"True"/"1" a removal, on networks and bonds', () => {
    assert.equal(net({ nic: 'eth1', remove: 'false' }).nic, 'eth1');
    assert.equal(net({ nic: 'eth1', remove: 'False' }).nic, 'eth1');
    assert.equal(net({ nic: 'eth1', remove: '0' }).nic, 'eth1');
    for (const remove of [true, 'true', 'True', 'TRUE', '1']) {
      assert.deepEqual(canonicalizeRequest({ networks: { v1: { remove } }, bondings: { bond1: { remove } } }), {
        networks: { v1: { remove: true } }, bondings: { bond1: { remove: true } },
        options: canonicalizeRequest({}).options,
      }, String(remove));
    }
    const bond = canonicalizeRequest({ bondings: { bond1: { nics: ['eth1'], remove: 'false' } } }).bondings.bond1;
    assert.deepEqual(bond, { nics: ['eth1'], options: { mode: 'balance-rr' }, switch: 'legacy' });
  });
  it('remove: "yes" is refused (VDSM\'s tobool would read it as false, silently)', () => {
    const issue = refused({ networks: { v1: { nic: 'eth1', remove: 'yes' } } });
    assert.equal(issue.path, 'networks.v1.remove');
    assert.equal(issue.message, 'expected true or false, got "yes"');
  });
  it('vlan: "" is no VLAN', () => {
    assert.equal('vlan' in net({ nic: 'eth1', vlan: '' }), false);
    assert.deepEqual(net({ nic: 'eth1', vlan: '' }), net({ nic: 'eth1' }));
    assert.equal(net({ nic: 'eth1', vlan: '0' }).vlan, 0, 'VLAN 0 is still a tag');
    assert.equal(refused({ networks: { v1: { nic: 'eth1', vlan: ' ' } } }).message, 'expected an integer, got " "');
  });
  it('stp: yes/no/on/off in any case (stp_booleanize), and the legacy key STP', () => {
    for (const [stp, want] of [['yes', true], ['on', true], ['YES', true], ['On', true], ['no', false], ['off', false], ['NO', false], ['Off', false], ['true', true], ['False', false]] as const) {
      assert.equal(net({ nic: 'eth1', stp }).stp, want, stp);
      assert.equal(net({ nic: 'eth1', STP: stp }).stp, want, `STP: ${stp}`);
    }
    assert.equal(net({ nic: 'eth1', STP: 'no', stp: false }).stp, false, 'both, agreeing');
    assert.equal(net({ nic: 'eth1', switch: 'ovs', STP: 'rstp' }).stp, 'rstp');
  });
  it('stp values VDSM refuses stay refused, and STP beside a stp that says otherwise is refused', () => {
    for (const stp of ['1', '0', 'y', 'enabled', '']) {
      const issue = refused({ networks: { v1: { nic: 'eth1', stp } } });
      assert.equal(issue.path, 'networks.v1.stp');
      assert.match(issue.message, /expected true, false \(or yes\/no, on\/off\) or "rstp"/);
    }
    const issue = refused({ networks: { v1: { nic: 'eth1', stp: 'yes', STP: 'no' } } });
    assert.equal(issue.path, 'networks.v1.STP');
    assert.equal(issue.message, 'STP: false contradicts stp: true');
    assert.match(issue.hint, /give stp alone/);
  });
  it('an OVS network\'s stp: false given as STP: "no" still counts as an explicit false beside stp: true', () => {
    try {
      canonicalizeRequest({ networks: { a: { nic: 'eth1', vlan: 1, switch: 'ovs', stp: 'yes' }, b: { nic: 'eth1', vlan: 2, switch: 'ovs', STP: 'no' } } });
      assert.fail('accepted');
    } catch (e) {
      if (!isNetswitchError(e, ErrorCode.Invalid)) throw e;
      assert.deepEqual(e.issues.map((i) => i.path), ['networks.b.stp']);
    }
  });
  it('custom.ovs: "true" means switch: ovs; "false" says nothing; beside switch: legacy it is refused', () => {
    assert.equal(net({ nic: 'eth1', custom: { ovs: 'true' } }).switch, 'ovs');
    assert.equal(net({ nic: 'eth1', custom: { ovs: 'True' }, switch: 'ovs' }).switch, 'ovs');
    assert.equal(net({ nic: 'eth1', custom: { ovs: 'false' } }).switch, 'legacy');
    assert.equal(net({ nic: 'eth1', custom: { ovs: 'false' }, switch: 'ovs' }).switch, 'ovs', 'as VDSM: false does not force legacy');
    const issue = refused({ networks: { v1: { nic: 'eth1', switch: 'legacy', custom: { ovs: 'true' } } } });
    assert.equal(issue.path, 'networks.v1.custom.ovs');
    assert.match(issue.message, /custom\.ovs: true contradicts switch: legacy/);
    assert.equal(refused({ networks: { v1: { nic: 'eth1', custom: { ovs: 'maybe' } } } }).path, 'networks.v1.custom.ovs');
  });
  it('custom.default_route (deprecated in VDSM) is honoured as defaultRoute; a contradicting defaultRoute is refused', () => {
    assert.equal(net({ nic: 'eth1', custom: { default_route: 'true' } }).defaultRoute, true);
    assert.equal(net({ nic: 'eth1', custom: { default_route: 'false' } }).defaultRoute, false);
    assert.equal(net({ nic: 'eth1', defaultRoute: true, custom: { default_route: 'True' } }).defaultRoute, true);
    const issue = refused({ networks: { v1: { nic: 'eth1', defaultRoute: 'false', custom: { default_route: 'true' } } } });
    assert.equal(issue.path, 'networks.v1.custom.default_route');
    assert.match(issue.message, /custom\.default_route: true contradicts defaultRoute: false/);
    // Two default routes, one of them through the custom property, are two default routes.
    const cfg = mergeRequest(emptyConfig(), canonicalizeRequest({ networks: { a: { nic: 'eth1', defaultRoute: true }, b: { nic: 'eth2', custom: { default_route: 'true' } } } }), true).config;
    assert.deepEqual(Object.entries(cfg.networks).filter(([, n]) => n.defaultRoute).map(([k]) => k), ['a', 'b']);
  });
  it('an empty gateway, ipv6gateway, ipaddr, netmask, prefix or ipv6addr is no value', () => {
    const withEmpty = net({ nic: 'eth1', ipaddr: '10.1.1.1', prefix: '24', gateway: '', ipv6gateway: '', ipv6addr: '', netmask: '' });
    assert.deepEqual(withEmpty, net({ nic: 'eth1', ipaddr: '10.1.1.1', prefix: 24 }));
    assert.deepEqual(net({ nic: 'eth1', ipaddr: '', netmask: '', prefix: '', gateway: '' }), net({ nic: 'eth1' }));
    assert.deepEqual(net({ nic: 'eth1', bootproto: 'dhcp', ipaddr: '', gateway: '' }), net({ nic: 'eth1', bootproto: 'dhcp' }));
  });
  it('what VDSM refuses of them stays refused: a netmask without an address, a malformed gateway', () => {
    assert.equal(refused({ networks: { v1: { nic: 'eth1', ipaddr: '', prefix: '24' } } }).path, 'networks.v1.prefix');
    const gw = refused({ networks: { v1: { nic: 'eth1', ipaddr: '10.1.1.1', prefix: 24, gateway: ' ' } } });
    assert.equal(gw.path, 'networks.v1.gateway');
    assert.equal(gw.message, 'expected an IPv4 address like 192.0.2.10, got " "');
    assert.equal(refused({ networks: { v1: { nic: 'eth1', ipv6gateway: 'x' } } }).message, 'expected an IPv6 address like 2001:db8::10, got "x"');
    assert.equal(refused({ networks: { v1: { nic: 'eth1', mtu: '' } } }).path, 'networks.v1.mtu', 'VDSM\'s int("") fails too');
  });
  it('every boolean field takes the same string booleans, and refuses the same others', () => {
    const fields = ['bridged', 'defaultRoute', 'ipv6autoconf', 'dhcpv6', 'multicastSnooping', 'blockingdhcp'];
    for (const field of fields) {
      for (const [v, want] of [['TRUE', true], ['1', true], ['False', false], ['0', false]] as const) {
        const n = net({ nic: 'eth1', [field]: v }) as unknown as Record<string, unknown>;
        assert.equal(n[field], want, `${field}: ${v}`);
      }
      assert.equal(refused({ networks: { n: { nic: 'eth1', [field]: 'yes' } } }).message, 'expected true or false, got "yes"', field);
    }
    const opts = canonicalizeRequest({ options: { connectivityCheck: 'TRUE', commitOnSuccess: '0' } }).options;
    assert.deepEqual([opts.connectivityCheck, opts.commitOnSuccess], [true, false]);
    assert.equal(canonicalizeLenient({ options: { connectivityCheck: 1 } }).issues[0]?.message, 'expected true or false, got 1');
  });
  it('the oVirt engine\'s request of the field test, all shapes at once', () => {
    const req = canonicalizeRequest({
      networks: {
        v1: { nic: 'eth1', vlan: '', STP: 'no', remove: 'false', ipaddr: '10.1.1.1', prefix: '24', gateway: '', custom: { ovs: 'true', default_route: 'true' } },
      },
    });
    const v1 = req.networks.v1 as Network;
    assert.deepEqual([v1.vlan, v1.stp, v1.switch, v1.defaultRoute, v1.gateway, v1.prefix], [undefined, false, 'ovs', true, undefined, 24]);
  });
});

describe('netswitch schema (JSON Schema) says the new shapes', () => {
  const schema = z.toJSONSchema(setupRequest, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const text = JSON.stringify(schema);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const attrs = (schema as any).properties.networks.additionalProperties.anyOf[1].properties;
  it('lists STP and custom.ovs / custom.default_route', () => {
    assert.ok(attrs.STP, 'STP');
    assert.deepEqual(Object.keys(attrs.custom.properties).sort(), ['bridge_opts', 'default_route', 'ovs']);
  });
  it('boolean string patterns carry no flags and take any case; vlan and gateway take ""', () => {
    const patterns = [...text.matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    const takes = (p: string, ...words: string[]) => words.every((w) => new RegExp(p, 'u').test(w));
    const boolPattern = patterns.find((p) => takes(p, 'TRUE', 'False', '1', '0') && !takes(p, 'abc'));
    assert.ok(boolPattern, 'a boolean string pattern');
    assert.equal(takes(boolPattern, 'yes'), false);
    assert.ok(patterns.some((p) => takes(p, 'Yes', 'off', 'TRUE', 'no') && !takes(p, '1') && !takes(p, 'abc')), 'the stp pattern');
    assert.match(JSON.stringify(attrs.vlan), /"const":""/);
    assert.ok(new RegExp(attrs.gateway.pattern, 'u').test(''), 'gateway ""');
    assert.ok(new RegExp(attrs.gateway.pattern, 'u').test('192.0.2.1'));
  });
});

describe('custom.bridge_opts on an Open vSwitch network (they are Linux bridge options)', () => {
  const link = (name: string): Link => ({
    name, ifindex: 1, kind: 'nic', type: '', mtu: 1500, mac: '52:54:00:00:00:01', up: true, operstate: 'UP', info: {}, slaveInfo: {}, addresses: [],
  });
  const HOST: Snapshot = { time: 0, links: Object.fromEntries(['eth0', 'eth1', 'eth2'].map((n) => [n, link(n)])), routes: [], rules: [], nameservers: [] };
  const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;
  const check = (cfg: Config, named?: string[]) =>
    validateConfig(cfg, {
      snapshot: HOST, running: emptyConfig(), owned: new Set(), switchTypes: new Set(['legacy', 'ovs']),
      ...(named ? { named: { networks: new Set(named), bondings: new Set() } } : {}),
    });

  it('is refused at its path, the hint naming the network fields that do the same', () => {
    const issues = check(config({ networks: { vmnet: { nic: 'eth1', switch: 'ovs', custom: { bridge_opts: 'multicast_snooping=0 forward_delay=0' } } } }));
    assert.deepEqual(issues.map((i) => i.path), ['networks.vmnet.custom.bridge_opts']);
    assert.match(issues[0].message, /\(multicast_snooping, forward_delay\) are Linux bridge options, and network vmnet is on Open vSwitch/);
    assert.match(issues[0].hint, /multicast_snooping -> multicastSnooping: true\|false/);
    assert.match(issues[0].hint, /or use switch: legacy/);
  });
  it('also when the switch comes from custom.ovs', () => {
    const issues = check(config({ networks: { vmnet: { nic: 'eth1', custom: { ovs: 'true', bridge_opts: 'forward_delay=0' } } } }));
    assert.deepEqual(issues.map((i) => i.path), ['networks.vmnet.custom.bridge_opts']);
  });
  it('an empty bridge_opts asks nothing and passes; a legacy network keeps its bridge_opts', () => {
    assert.deepEqual(check(config({ networks: { vmnet: { nic: 'eth1', switch: 'ovs', custom: { bridge_opts: '' } } } })), []);
    assert.deepEqual(check(config({ networks: { vmnet: { nic: 'eth1', custom: { bridge_opts: 'forward_delay=0' } } } })), []);
  });
  it('a running OVS network the request does not name is not refused again', () => {
    const cfg = config({ networks: { old: { nic: 'eth1', switch: 'ovs', custom: { bridge_opts: 'forward_delay=0' } }, new1: { nic: 'eth2', switch: 'ovs' } } });
    assert.deepEqual(check(cfg, ['new1']), []);
    assert.deepEqual(check(cfg, ['old']).map((i) => i.path), ['networks.old.custom.bridge_opts']);
  });
});
