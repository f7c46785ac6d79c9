// The request schemas field by field (src/model/request.ts) and the kernel bonding options
// (src/model/bond-options.ts): what an oVirt engine sends must pass, typos must not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import {
  bondAttrs,
  bondName,
  boolField,
  intField,
  ipAddress,
  ipv4,
  isIpv6,
  networkAttrs,
  networkName,
  nicName,
  setupRequest,
} from '../../src/model/request.ts';
import {
  BOND_MODES,
  DEFAULT_BOND_MODE,
  bondModeName,
  formatBondOptions,
  normalizeBondValue,
  parseBondOptions,
} from '../../src/model/bond-options.ts';

const ok = (schema: z.ZodType, value: unknown) => schema.safeParse(value).success;
const value = (schema: z.ZodType, input: unknown): unknown => {
  const r = schema.safeParse(input);
  assert.ok(r.success, `expected ${JSON.stringify(input)} to be accepted`);
  return r.data;
};
const firstMessage = (schema: z.ZodType, input: unknown): string => {
  const r = schema.safeParse(input);
  assert.ok(!r.success, `expected ${JSON.stringify(input)} to be refused`);
  return r.error.issues[0].message;
};

describe('intField', () => {
  const vlan = intField(0, 4094);
  it('takes numbers and numeric strings as VDSM sends them', () => {
    assert.equal(value(vlan, 100), 100);
    assert.equal(value(vlan, '100'), 100);
    assert.equal(value(vlan, '0'), 0);
    assert.equal(value(vlan, 4094), 4094);
  });
  it('refuses values out of range, fractions and non-numbers', () => {
    assert.equal(firstMessage(vlan, '4095'), 'must be from 0 to 4094');
    assert.equal(firstMessage(vlan, -1), 'must be from 0 to 4094');
    for (const bad of [1.5, '1.5', 'abc', '', ' 100', '1e2', null, true]) assert.equal(ok(vlan, bad), false, String(bad));
  });
});

describe('boolField', () => {
  it('takes booleans and the strings VDSM\'s tobool reads: true/false in any capitalization, "1"/"0"', () => {
    assert.equal(value(boolField, true), true);
    assert.equal(value(boolField, false), false);
    for (const t of ['true', 'True', 'TRUE', '1']) assert.equal(value(boolField, t), true, t);
    for (const f of ['false', 'False', 'FALSE', '0']) assert.equal(value(boolField, f), false, f);
  });
  it('refuses anything else (tobool would read it as false silently; numbers it reads as false)', () => {
    for (const bad of ['yes', 'no', 'on', 'off', 1, 0, '', null, '2', 'truthy', ' true']) assert.equal(ok(boolField, bad), false, String(bad));
  });
});

describe('IP address syntax', () => {
  it('accepts IPv4 dotted quads', () => {
    for (const a of ['192.0.2.10', '0.0.0.0', '255.255.255.255', '10.0.0.1']) assert.ok(ok(ipv4, a), a);
  });
  it('refuses malformed IPv4', () => {
    for (const a of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4 ', 'a.b.c.d', '', '2001:db8::1']) {
      assert.equal(ok(ipv4, a), false, a);
    }
  });
  it('accepts IPv6 in full, compressed and IPv4-mapped forms', () => {
    for (const a of ['2001:db8::10', '::', '::1', 'fe80::1', '1:2:3:4:5:6:7:8', '2001:DB8::A', '::ffff:192.0.2.1', '1:2:3:4:5:6:7::']) {
      assert.equal(isIpv6(a), true, a);
    }
  });
  it('refuses malformed IPv6', () => {
    for (const a of ['1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', '2001:db8::g', '12345::1', ':1::', '1:2:3:4:5:6:7:8::', '192.0.2.1', '', '::ffff:192.0.2.256', 'fe80::1%eth0']) {
      assert.equal(isIpv6(a), false, a);
    }
  });
  it('ipAddress (nameservers) takes either family', () => {
    assert.ok(ok(ipAddress, '192.0.2.53'));
    assert.ok(ok(ipAddress, '2001:db8::53'));
    assert.equal(firstMessage(ipAddress, 'dns.example'), 'expected an IPv4 or IPv6 address');
  });
});

describe('names', () => {
  it('network names: 1-15 of [A-Za-z0-9_.-], not starting with -', () => {
    for (const n of ['ovirtmgmt', 'a', 'net_1.2-x', 'abcdefghijklmno']) assert.ok(ok(networkName, n), n);
    assert.match(firstMessage(networkName, 'abcdefghijklmnop'), /1-15 characters/);
    assert.equal(firstMessage(networkName, '-net'), 'a network name may not start with -');
    for (const n of ['', 'a b', 'a:b', 'a/b', 'ünï']) assert.equal(ok(networkName, n), false, n);
  });
  it('bond names: bond followed by [A-Za-z0-9_], 15 characters at most', () => {
    for (const n of ['bond0', 'bond_lacp', 'bondX1', 'bond12345678901']) assert.ok(ok(bondName, n), n);
    for (const n of ['bond', 'team0', 'bond-1', 'bond0.1', 'Bond0', 'bond123456789012']) assert.equal(ok(bondName, n), false, n);
  });
  it('NIC names: 1-15 characters without spaces, / or :', () => {
    for (const n of ['eth0', 'enp0s31f6', 'eth1.100', 'ens1f0np0']) assert.ok(ok(nicName, n), n);
    for (const n of ['eth 0', 'a/b', 'eth0:1', '.', '..', '', 'abcdefghijklmnop']) assert.equal(ok(nicName, n), false, n);
  });
});

describe('networkAttrs / bondAttrs', () => {
  it('MTU is 68..65535', () => {
    assert.equal((value(networkAttrs, { mtu: 68 }) as { mtu: number }).mtu, 68);
    assert.equal((value(networkAttrs, { mtu: '65535' }) as { mtu: number }).mtu, 65535);
    assert.equal(ok(networkAttrs, { mtu: 67 }), false);
    assert.equal(ok(networkAttrs, { mtu: 65536 }), false);
  });
  it('VLAN 0 is a real tag; 4095 is refused', () => {
    assert.equal((value(networkAttrs, { vlan: 0 }) as { vlan: number }).vlan, 0);
    assert.equal((value(networkAttrs, { vlan: '4094' }) as { vlan: number }).vlan, 4094);
    assert.equal(ok(networkAttrs, { vlan: 4095 }), false);
  });
  it('refuses unknown keys of a network, a bond and the request', () => {
    const r = networkAttrs.safeParse({ nic: 'eth0', bridge_opts: 'x' });
    assert.ok(!r.success);
    assert.deepEqual(r.error.issues.map((i) => [i.code, i.code === 'unrecognized_keys' ? i.keys : []]), [['unrecognized_keys', ['bridge_opts']]]);
    assert.equal(ok(bondAttrs, { nics: ['eth1'], mode: '4' }), false);
    assert.equal(ok(setupRequest, { networks: {}, network: {} }), false);
  });
  it('a bond needs its nics list', () => {
    assert.equal(ok(bondAttrs, { options: 'mode=1' }), false);
    assert.ok(ok(bondAttrs, { nics: [] }));
  });
  it('the whole request schema accepts removals and attributes side by side', () => {
    const r = value(setupRequest, { networks: { a: { remove: true }, b: { nic: 'eth0', vlan: '5' } }, bondings: { bond1: { remove: 'true' } } });
    assert.deepEqual(r, { networks: { a: { remove: true }, b: { nic: 'eth0', vlan: 5 } }, bondings: { bond1: { remove: true } } });
  });
});

describe('parseBondOptions', () => {
  it('normalizes mode and named values given by number', () => {
    const { options, problems } = parseBondOptions('mode=4 miimon=100 lacp_rate=1');
    assert.deepEqual(problems, []);
    assert.deepEqual(options, { mode: '802.3ad', miimon: '100', lacp_rate: 'fast' });
  });
  it('maps every numeric mode to its name', () => {
    for (const [i, name] of BOND_MODES.entries()) {
      assert.equal(parseBondOptions(`mode=${i}`).options.mode, name);
      assert.equal(parseBondOptions(`mode=${name}`).options.mode, name);
    }
  });
  it('defaults the mode to balance-rr', () => {
    assert.equal(DEFAULT_BOND_MODE, 'balance-rr');
    assert.deepEqual(parseBondOptions(undefined).options, { mode: 'balance-rr' });
    assert.deepEqual(parseBondOptions('  miimon=100  ').options, { miimon: '100', mode: 'balance-rr' });
  });
  it('refuses an unknown option, naming it', () => {
    const { options, problems } = parseBondOptions('mode=1 xmit_policy=layer2');
    assert.deepEqual(problems.map((p) => p.option), ['xmit_policy']);
    assert.equal(problems[0].message, 'unknown bonding option "xmit_policy"');
    assert.match(problems[0].hint, /xmit_hash_policy/);
    assert.deepEqual(options, { mode: 'active-backup' });
  });
  it('refuses a bad value, naming the option and the value', () => {
    const cases: [string, string][] = [
      ['miimon=fast', 'miimon'],
      ['mode=7', 'mode'],
      ['lacp_rate=medium', 'lacp_rate'],
      ['lacp_rate=2', 'lacp_rate'],
      ['arp_ip_target=gw.example', 'arp_ip_target'],
      ['ad_actor_system=52:54:00', 'ad_actor_system'],
      ['use_carrier=2', 'use_carrier'],
    ];
    for (const [text, option] of cases) {
      const { problems } = parseBondOptions(text);
      assert.equal(problems.length, 1, text);
      assert.equal(problems[0].option, option);
      assert.match(problems[0].message, new RegExp(`bad value "${text.split('=')[1]}" for bonding option ${option}`));
      assert.equal(problems[0].hint, `fix ${option}= in the options string`);
    }
  });
  it('refuses words that are not key=value', () => {
    assert.deepEqual(parseBondOptions('miimon =5').problems.map((p) => p.option), ['miimon', '=5']);
  });
  it('refuses an option the driver does not support in the bond mode, naming both', () => {
    const { problems } = parseBondOptions('mode=active-backup lacp_rate=fast');
    assert.equal(problems.length, 1);
    assert.equal(problems[0].option, 'lacp_rate');
    assert.match(problems[0].message, /lacp_rate is not supported in mode active-backup \(only in 802\.3ad\)/);
    assert.deepEqual(parseBondOptions('mode=4 lacp_rate=fast').problems, []);
    assert.deepEqual(parseBondOptions('mode=802.3ad arp_interval=100').problems.map((p) => p.option), ['arp_interval']);
  });
  it('accepts valid values of list and name options', () => {
    const { options, problems } = parseBondOptions('mode=active-backup primary=eth1 arp_interval=100 arp_ip_target=192.0.2.1,192.0.2.2 xmit_hash_policy=1');
    assert.deepEqual(problems, []);
    assert.equal(options.arp_ip_target, '192.0.2.1,192.0.2.2');
    assert.equal(options.xmit_hash_policy, 'layer3+4');
  });
  it('keeps ovs: keys verbatim for the OVS switch', () => {
    assert.deepEqual(parseBondOptions('ovs:bond_mode=balance-slb ovs:lacp=active'), {
      options: { 'ovs:bond_mode': 'balance-slb', 'ovs:lacp': 'active', mode: 'balance-rr' },
      problems: [],
    });
  });
});

describe('normalizeBondValue / formatBondOptions', () => {
  it('normalizes numbers of named options only', () => {
    assert.equal(normalizeBondValue('mode', '4'), '802.3ad');
    assert.equal(normalizeBondValue('lacp_rate', '1'), 'fast');
    assert.equal(normalizeBondValue('xmit_hash_policy', '2'), 'layer2+3');
    assert.equal(normalizeBondValue('ad_select', '0'), 'stable');
    assert.equal(normalizeBondValue('miimon', '1'), '1');
    assert.equal(normalizeBondValue('mode', 'balance-alb'), 'balance-alb');
    assert.equal(normalizeBondValue('lacp_rate', '7'), '7');
    assert.equal(bondModeName('1'), 'active-backup');
  });
  it('formats mode first, the rest sorted, and round-trips', () => {
    const options = { miimon: '100', lacp_rate: 'fast', mode: '802.3ad', ad_select: 'bandwidth' };
    const text = formatBondOptions(options);
    assert.equal(text, 'mode=802.3ad ad_select=bandwidth lacp_rate=fast miimon=100');
    assert.deepEqual(parseBondOptions(text), { options: { mode: '802.3ad', ad_select: 'bandwidth', lacp_rate: 'fast', miimon: '100' }, problems: [] });
  });
});
