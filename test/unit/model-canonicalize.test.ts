// canonicalizeRequest: from what a user (or the oVirt engine) sends to what it means —
// defaults filled, spellings normalized, and every problem reported at once with its path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalizeLenient,
  canonicalizeRequest,
  netmaskToPrefix,
  prefixToNetmask,
} from '../../src/model/canonicalize.ts';
import type { Network } from '../../src/model/config.ts';
import { ErrorCode, type Issue, isNetswitchError } from '../../src/model/errors.ts';

/** The issues of a request that must be refused (E_INVALID). */
function issuesOf(input: unknown): readonly Issue[] {
  try {
    canonicalizeRequest(input);
  } catch (e) {
    if (!isNetswitchError(e, ErrorCode.Invalid)) throw e;
    for (const issue of e.issues) assert.ok(issue.hint.trim().length > 0, `no hint for ${issue.path}`);
    return e.issues;
  }
  return assert.fail(`expected ${JSON.stringify(input)} to be refused`);
}
const pathsOf = (input: unknown) => issuesOf(input).map((i) => i.path);
const net = (attrs: Record<string, unknown>): Network => {
  const n = canonicalizeRequest({ networks: { n: attrs } }).networks.n;
  assert.ok(!('remove' in n && n.remove === true));
  return n as Network;
};

const DEFAULTS = {
  bridged: true,
  stp: false,
  mtu: 1500,
  switch: 'legacy',
  bootproto: 'none',
  defaultRoute: false,
  ipv6autoconf: false,
  dhcpv6: false,
  blockingdhcp: true, // absent: wait for the lease
};

describe('canonicalizeRequest: defaults and spellings', () => {
  it('fills the defaults of a network, a bond and the options', () => {
    const req = canonicalizeRequest({ networks: { net1: { nic: 'eth1' } }, bondings: { bond0: { nics: ['eth2'] } } });
    assert.deepEqual(req.networks.net1, { ...DEFAULTS, nic: 'eth1' });
    assert.deepEqual(req.bondings.bond0, { nics: ['eth2'], options: { mode: 'balance-rr' }, switch: 'legacy' });
    assert.deepEqual(req.options, { connectivityCheck: false, connectivityTimeout: 120, commitOnSuccess: false });
  });
  it('treats an empty or missing request as no change, and refuses a non-mapping', () => {
    for (const empty of [undefined, null, {}]) {
      const req = canonicalizeRequest(empty);
      assert.deepEqual([req.networks, req.bondings], [{}, {}]);
    }
    assert.deepEqual(pathsOf([{ networks: {} }]), ['(request)']);
    assert.deepEqual(pathsOf({ networks: ['ovirtmgmt'] }), ['networks']);
  });
  it('accepts numeric strings and "true"/"false"', () => {
    const n = net({ nic: 'eth1', vlan: '100', mtu: '9000', bridged: 'false', stp: 'true', defaultRoute: 'true', ipaddr: '192.0.2.10', prefix: '24', gateway: '192.0.2.1' });
    assert.deepEqual([n.vlan, n.mtu, n.bridged, n.stp, n.defaultRoute, n.prefix], [100, 9000, false, true, true, 24]);
    const opts = canonicalizeRequest({ options: { connectivityCheck: 'true', connectivityTimeout: '2.5', commitOnSuccess: 'false' } }).options;
    assert.deepEqual(opts, { connectivityCheck: true, connectivityTimeout: 2.5, commitOnSuccess: false });
  });
  it('normalizes IPv6 spellings to lower case and the bond hwaddr likewise', () => {
    const n = net({ ipv6addr: '2001:DB8::10/064', ipv6gateway: '2001:DB8::1' });
    assert.equal(n.ipv6addr, '2001:db8::10/64');
    assert.equal(n.ipv6gateway, '2001:db8::1');
    const b = canonicalizeRequest({ bondings: { bond0: { nics: ['eth1'], hwaddr: '52:54:00:AA:BB:CC' } } }).bondings.bond0;
    assert.deepEqual(b, { nics: ['eth1'], options: { mode: 'balance-rr' }, switch: 'legacy', hwaddr: '52:54:00:aa:bb:cc' });
  });
});

describe('canonicalizeRequest: netmask and prefix', () => {
  it('turns a netmask into a prefix and keeps no netmask', () => {
    const n = net({ ipaddr: '192.0.2.10', netmask: '255.255.254.0' });
    assert.equal(n.prefix, 23);
    assert.ok(!('netmask' in n));
  });
  it('accepts a prefix alone, and a netmask and prefix that agree', () => {
    assert.equal(net({ ipaddr: '192.0.2.10', prefix: 24 }).prefix, 24);
    assert.equal(net({ ipaddr: '192.0.2.10', prefix: '24', netmask: '255.255.255.0' }).prefix, 24);
  });
  it('refuses a netmask and a prefix that disagree', () => {
    const [issue, ...rest] = issuesOf({ networks: { n: { ipaddr: '192.0.2.10', netmask: '255.255.255.0', prefix: 16 } } });
    assert.deepEqual(rest, []);
    assert.equal(issue.path, 'networks.n.netmask');
    assert.equal(issue.message, 'netmask 255.255.255.0 (/24) disagrees with prefix 16');
  });
  it('refuses a non-contiguous netmask', () => {
    const issues = issuesOf({ networks: { n: { ipaddr: '192.0.2.10', netmask: '255.0.255.0' } } });
    assert.equal(issues[0].path, 'networks.n.netmask');
    assert.equal(issues[0].message, '255.0.255.0 is not a contiguous netmask');
  });
  it('refuses an address without its prefix, and a prefix without an address', () => {
    assert.deepEqual(pathsOf({ networks: { n: { ipaddr: '192.0.2.10' } } }), ['networks.n.ipaddr']);
    assert.deepEqual(pathsOf({ networks: { n: { netmask: '255.255.255.0' } } }), ['networks.n.netmask']);
    assert.deepEqual(pathsOf({ networks: { n: { prefix: 24 } } }), ['networks.n.prefix']);
  });
  it('netmaskToPrefix and prefixToNetmask are inverse for every prefix', () => {
    const table: [number, string][] = [[0, '0.0.0.0'], [1, '128.0.0.0'], [8, '255.0.0.0'], [23, '255.255.254.0'], [24, '255.255.255.0'], [31, '255.255.255.254'], [32, '255.255.255.255']];
    for (const [prefix, mask] of table) {
      assert.equal(prefixToNetmask(prefix), mask);
      assert.equal(netmaskToPrefix(mask), prefix);
    }
    for (let p = 0; p <= 32; p++) assert.equal(netmaskToPrefix(prefixToNetmask(p)), p);
    for (const bad of ['255.255.0.255', '0.255.255.255', '255.254.255.0']) assert.equal(netmaskToPrefix(bad), undefined, bad);
  });
});

describe('canonicalizeRequest: an oVirt engine request', () => {
  const request = {
    networks: {
      ovirtmgmt: {
        nic: 'eth0', bridged: 'true', vlan: '100', ipaddr: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1',
        defaultRoute: true, bootproto: 'none', mtu: '1500', switch: 'legacy', stp: 'false', nameservers: ['192.0.2.53', '192.0.2.54'],
        custom: { bridge_opts: 'forward_delay=0 multicast_router=1' }, blockingdhcp: 'true', ipv6autoconf: 'false', dhcpv6: 'false',
      },
      vmnet: { bonding: 'bond0', vlan: '200', bridged: 'true', mtu: '9000', stp: 'false', switch: 'legacy', bootproto: 'none', defaultRoute: 'false' },
      storage: { bonding: 'bond0', vlan: '300', bridged: 'false', ipaddr: '198.51.100.5', prefix: '24', mtu: '9000', ipv6addr: '2001:db8:300::5/64' },
      old_display: { remove: 'true' },
    },
    bondings: { bond0: { nics: ['eth2', 'eth1'], options: 'mode=4 miimon=100 lacp_rate=1', switch: 'legacy' } },
    options: { connectivityCheck: 'true', connectivityTimeout: 120, commitOnSuccess: true },
  };

  it('is accepted and means what VDSM would make of it', () => {
    const req = canonicalizeRequest(request);
    assert.deepEqual(req, {
      networks: {
        ovirtmgmt: {
          ...DEFAULTS, nic: 'eth0', vlan: 100, ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', defaultRoute: true,
          nameservers: ['192.0.2.53', '192.0.2.54'], bridgeOpts: { forward_delay: '0', multicast_router: '1' }, blockingdhcp: true,
        },
        vmnet: { ...DEFAULTS, bonding: 'bond0', vlan: 200, mtu: 9000 },
        storage: { ...DEFAULTS, bonding: 'bond0', vlan: 300, bridged: false, ipaddr: '198.51.100.5', prefix: 24, mtu: 9000, ipv6addr: '2001:db8:300::5/64' },
        old_display: { remove: true },
      },
      bondings: { bond0: { nics: ['eth1', 'eth2'], options: { mode: '802.3ad', miimon: '100', lacp_rate: 'fast' }, switch: 'legacy' } },
      options: { connectivityCheck: true, connectivityTimeout: 120, commitOnSuccess: true },
    });
  });
  it('does not modify the input', () => {
    const copy = structuredClone(request);
    canonicalizeRequest(request);
    assert.deepEqual(request, copy);
  });
});

describe('canonicalizeRequest: refusals', () => {
  it('reports every problem at once, each with its path and a hint', () => {
    let error: unknown;
    try {
      canonicalizeRequest({
        networks: { net1: { vlan: 4095 }, net2: { mtu: 'big' }, net3: { ipaddr: '300.1.1.1', prefix: 24 }, net4: { nic: 'eth1' } },
        bondings: { bond0: { nics: ['eth1'], options: 'mode=9' } },
        extra: true,
      });
    } catch (e) {
      error = e;
    }
    if (!isNetswitchError(error, ErrorCode.Invalid)) return assert.fail('expected E_INVALID');
    assert.deepEqual(error.issues.map((i) => i.path).sort(), ['bondings.bond0.options', 'extra', 'networks.net1.vlan', 'networks.net2.mtu', 'networks.net3.ipaddr']);
    assert.equal(error.message, 'the request has 5 problems');
    assert.equal(error.path, error.issues[0].path);
    assert.ok(error.issues.every((i) => i.hint.length > 0 && i.message.length > 0));
  });
  it('one problem: the message names the path', () => {
    try {
      canonicalizeRequest({ networks: { net1: { vlan: 4095 } } });
      assert.fail('accepted');
    } catch (e) {
      if (!isNetswitchError(e, ErrorCode.Invalid)) throw e;
      assert.equal(e.message, 'networks.net1.vlan: must be from 0 to 4094');
      assert.equal(e.hint, 'use a VLAN id from 0 to 4094');
    }
  });
  it('refuses unknown fields at every level, with the field\'s path', () => {
    assert.deepEqual(pathsOf({ network: {} }), ['network']);
    assert.deepEqual(pathsOf({ networks: { net1: { nic: 'eth1', bridge_opts: 'x' } } }), ['networks.net1.bridge_opts']);
    assert.deepEqual(pathsOf({ networks: { net1: { custom: { bridge_opt: 'x' } } } }), ['networks.net1.custom.bridge_opt']);
    assert.deepEqual(pathsOf({ bondings: { bond0: { nics: ['eth1'], mode: '4' } } }), ['bondings.bond0.mode']);
    assert.deepEqual(pathsOf({ options: { timeout: 5 } }), ['options.timeout']);
    const [issue] = issuesOf({ networks: { net1: { Stp: 'false' } } });
    assert.equal(issue.message, 'unknown field "Stp"');
    assert.match(issue.hint, /"Stp"/);
  });
  it('reports an unknown field together with the other problems of the same entry', () => {
    assert.deepEqual(pathsOf({ networks: { n: { vlan: 'abc', foo: 1 } } }).sort(), ['networks.n.foo', 'networks.n.vlan']);
    assert.deepEqual(pathsOf({ networks: { n: { ipaddr: '192.0.2.1', netmask: '255.0.255.0', foo: 1 } } }).sort(), ['networks.n.foo', 'networks.n.ipaddr', 'networks.n.netmask']);
  });
  it('refuses bad network and bond names', () => {
    const long = issuesOf({ networks: { abcdefghijklmnop: { nic: 'eth1' } } });
    assert.deepEqual(long.map((i) => i.path), ['networks.abcdefghijklmnop']);
    assert.match(long[0].message, /1-15 characters/);
    const dash = issuesOf({ networks: { '-net': { nic: 'eth1' } } });
    assert.deepEqual(dash.map((i) => [i.path, i.message]), [['networks.-net', 'a network name may not start with -']]);
    assert.deepEqual(pathsOf({ bondings: { team0: { nics: ['eth1'] } } }), ['bondings.team0']);
    assert.deepEqual(pathsOf({ bondings: { 'bond-1': { remove: true } } }), ['bondings.bond-1']);
  });
  it('VLAN 0 is a real tag; 4095 and -1 are refused', () => {
    assert.equal(net({ nic: 'eth1', vlan: 0 }).vlan, 0);
    assert.equal(net({ nic: 'eth1', vlan: '0' }).vlan, 0);
    assert.equal(net({ nic: 'eth1', vlan: 4094 }).vlan, 4094);
    assert.deepEqual(pathsOf({ networks: { n: { vlan: 4095 } } }), ['networks.n.vlan']);
    assert.deepEqual(pathsOf({ networks: { n: { vlan: -1 } } }), ['networks.n.vlan']);
  });
  it('MTU bounds are 68 and 65535', () => {
    assert.equal(net({ mtu: 68 }).mtu, 68);
    assert.equal(net({ mtu: '65535' }).mtu, 65535);
    for (const mtu of [67, 65536, 0, '9000.5']) assert.deepEqual(pathsOf({ networks: { n: { mtu } } }), ['networks.n.mtu'], String(mtu));
  });
  it('checks IPv4 and IPv6 address syntax field by field', () => {
    assert.deepEqual(pathsOf({ networks: { n: { ipaddr: '192.0.2.256', prefix: 24 } } }), ['networks.n.ipaddr']);
    assert.deepEqual(pathsOf({ networks: { n: { ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2' } } }), ['networks.n.gateway']);
    assert.deepEqual(pathsOf({ networks: { n: { prefix: 33, ipaddr: '192.0.2.10' } } }), ['networks.n.prefix']);
    assert.deepEqual(pathsOf({ networks: { n: { nameservers: ['192.0.2.53', 'dns.example'] } } }), ['networks.n.nameservers.1']);
    assert.deepEqual(net({ nameservers: ['192.0.2.53', '2001:db8::53'] }).nameservers, ['192.0.2.53', '2001:db8::53']);
    assert.deepEqual(pathsOf({ networks: { n: { ipv6gateway: '192.0.2.1' } } }), ['networks.n.ipv6gateway']);
  });
  it('ipv6addr needs its /prefix', () => {
    for (const bad of ['2001:db8::10', '2001:db8::10/129', '2001:db8::10/64/1', 'x::y/64', '192.0.2.10/24', '2001:db8::10/']) {
      const issues = issuesOf({ networks: { n: { ipv6addr: bad } } });
      assert.deepEqual(issues.map((i) => i.path), ['networks.n.ipv6addr'], bad);
      assert.match(issues[0].hint, /address\/prefix/);
    }
    assert.equal(net({ ipv6addr: '2001:db8::10/128' }).ipv6addr, '2001:db8::10/128');
  });
  it('refuses bridge_opts words that are not key=value', () => {
    assert.deepEqual(pathsOf({ networks: { n: { custom: { bridge_opts: 'forward_delay=0 stp' } } } }), ['networks.n.custom.bridge_opts']);
  });
  it('refuses an unknown bonding option and a bad bonding value, naming the option', () => {
    const unknown = issuesOf({ bondings: { bond0: { nics: ['eth1'], options: 'mode=1 xmit=layer2' } } });
    assert.deepEqual(unknown.map((i) => [i.path, i.message]), [['bondings.bond0.options', 'unknown bonding option "xmit"']]);
    const bad = issuesOf({ bondings: { bond0: { nics: ['eth1'], options: 'mode=802.3ad lacp_rate=medium' } } });
    assert.equal(bad.length, 1);
    assert.equal(bad[0].path, 'bondings.bond0.options');
    assert.match(bad[0].message, /^bad value "medium" for bonding option lacp_rate/);
  });
  it('sorts bond NICs and refuses a NIC listed twice', () => {
    assert.deepEqual(canonicalizeRequest({ bondings: { bond0: { nics: ['eth3', 'eth1', 'eth2'] } } }).bondings.bond0, { nics: ['eth1', 'eth2', 'eth3'], options: { mode: 'balance-rr' }, switch: 'legacy' });
    assert.deepEqual(pathsOf({ bondings: { bond0: { nics: ['eth1', 'eth2', 'eth1'] } } }), ['bondings.bond0.nics']);
  });
});

describe('canonicalizeRequest: removals', () => {
  it('takes remove: true (or "true") as removing the entry', () => {
    const req = canonicalizeRequest({ networks: { a: { remove: true }, b: { remove: 'true' } }, bondings: { bond9: { remove: true } } });
    assert.deepEqual(req.networks, { a: { remove: true }, b: { remove: true } });
    assert.deepEqual(req.bondings, { bond9: { remove: true } });
  });
  it('takes remove: false as an ordinary entry', () => {
    assert.deepEqual(canonicalizeRequest({ networks: { a: { remove: false, nic: 'eth1' } } }).networks.a, { ...DEFAULTS, nic: 'eth1' });
  });
  it('refuses an unknown field next to remove: true', () => {
    assert.deepEqual(pathsOf({ networks: { a: { remove: true, bogus: 1 } } }), ['networks.a.bogus']);
  });
});

describe('canonicalizeLenient', () => {
  it('keeps every entry, a bad one without its bad fields, and returns the problems', () => {
    const { request, issues } = canonicalizeLenient({ networks: { good: { nic: 'eth1' }, bad: { nic: 'eth2', vlan: 5000 } } });
    assert.deepEqual(Object.keys(request.networks), ['good', 'bad']);
    const bad = request.networks.bad;
    assert.ok(!('remove' in bad) && bad.nic === 'eth2' && bad.vlan === undefined, 'the bad field is left out, the rest kept for validation');
    assert.deepEqual(issues.map((i) => i.path), ['networks.bad.vlan']);
  });
  it('reports schema and address problems of one entry together', () => {
    const { issues } = canonicalizeLenient({ networks: { n: { mtu: 67, ipv6addr: '2001:db8::10' } } });
    assert.deepEqual(issues.map((i) => i.path).sort(), ['networks.n.ipv6addr', 'networks.n.mtu']);
  });
  it('a network or bond given as null, or as a string, is refused with a hint on the entry, not on its name', () => {
    const { issues } = canonicalizeLenient({ networks: { gone: null, str: 'eth3', 'bad name!': {} }, bondings: { bond9: null } });
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    assert.match(byPath['networks.gone'].message, /null is not a network/);
    assert.match(byPath['networks.gone'].hint, /gone: \{ remove: true \}/);
    assert.match(byPath['bondings.bond9'].message, /null is not a bond/);
    assert.match(byPath['networks.str'].hint, /give the network's fields/);
    assert.match(byPath['networks.bad name!'].hint, /a network name is 1-15 characters/);
  });
});

