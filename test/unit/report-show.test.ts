// What `netswitch show` reports: each network's gateways from its own source-routing table,
// ipv6autoconf from the device's sysctls, OVS bonds' active member from OVSDB, bridge ids in
// sysfs's form, and a report YAML prints without anchors and aliases — with kernel_config
// saying what a request needs to re-create all of it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeLenient } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import { report as reportSchema } from '../../src/model/report.ts';
import type { Address, Ipv6Conf, Link, Route, Snapshot } from '../../src/model/snapshot.ts';
import { ovsLayoutOf } from '../../src/plan/ovs.ts';
import { sourceRouteTable } from '../../src/plan/layout.ts';
import { buildReport, ipInfo, sysfsBridgeId } from '../../src/report/report.ts';
import { bondStatusOf } from '../../src/switch/ovs/state.ts';
import { parse, stringify } from '../../src/cli/yaml.ts';

const config = (request: unknown): Config => {
  const { request: canonical, issues } = canonicalizeLenient(request);
  assert.deepEqual(issues, []);
  return mergeRequest(emptyConfig(), canonical, true).config;
};

let ifindex = 1;
const link = (name: string, kind: Link['kind'], extra: Partial<Link> = {}): Link => ({
  name, ifindex: ifindex++, kind, type: kind === 'nic' ? 'veth' : kind, mtu: 1500, mac: '52:54:00:00:00:01', up: true, operstate: 'UP', info: {}, slaveInfo: {}, addresses: [], ...extra,
});
const addr = (cidr: string, dynamic = false): Address => ({ family: cidr.includes(':') ? 6 : 4, cidr, scope: 'global', dynamic });
const route = (family: 4 | 6, dst: string, dev: string, table: string, gateway?: string, extra: Partial<Route> = {}): Route => ({ family, dst, dev, table, ...(gateway ? { gateway } : {}), ...extra });

/** The routes netswitch makes for a network with gateways (plan/layout.ts addRoutes). */
function sourceRoutes(network: string, dev: string, v4: [string, string], v6?: [string, string]): Route[] {
  const t = sourceRouteTable(network);
  const out = [route(4, v4[0], dev, t), route(4, 'default', dev, t, v4[1])];
  if (v6) out.push(route(6, v6[0], dev, t), route(6, 'default', dev, t, v6[1]));
  return out;
}

const REQUEST = {
  networks: {
    ovirtmgmt: { nic: 'eth0', ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', ipv6addr: '2001:db8:1::10/64', ipv6gateway: '2001:db8:1::1', defaultRoute: true },
    storage: { nic: 'eth2', bridged: false, ipaddr: '198.51.100.10', prefix: 24, gateway: '198.51.100.1', ipv6addr: '2001:db8:2::10/64', ipv6gateway: '2001:db8:2::1' },
  },
};

/** The host after applying REQUEST on Linux. */
function linuxHost(extra: Partial<Snapshot> = {}): Snapshot {
  return {
    time: 0,
    links: {
      eth0: link('eth0', 'nic', { master: 'ovirtmgmt' }),
      ovirtmgmt: link('ovirtmgmt', 'bridge', { addresses: [addr('192.0.2.10/24'), addr('2001:db8:1::10/64')], info: { stp_state: 0, bridge_id: '8000.52:54:0:0:0:1', root_id: '8000.52:54:0:0:0:1' } }),
      eth2: link('eth2', 'nic', { addresses: [addr('198.51.100.10/24'), addr('2001:db8:2::10/64')] }),
    },
    routes: [
      route(4, 'default', 'ovirtmgmt', 'main', '192.0.2.1'),
      route(6, 'default', 'ovirtmgmt', 'main', '2001:db8:1::1', { metric: 1024 }),
      ...sourceRoutes('ovirtmgmt', 'ovirtmgmt', ['192.0.2.0/24', '192.0.2.1'], ['2001:db8:1::/64', '2001:db8:1::1']),
      ...sourceRoutes('storage', 'eth2', ['198.51.100.0/24', '198.51.100.1'], ['2001:db8:2::/64', '2001:db8:2::1']),
      route(4, '198.51.100.0/24', 'eth2', 'main', undefined, { protocol: 'kernel', scope: 'link' }),
    ],
    rules: [],
    nameservers: ['192.0.2.53'],
    ...extra,
  };
}

describe('gateways of networks that do not hold the default route', () => {
  const cfg = config(REQUEST);

  it('capabilities: each network\'s gateways from its own table; ipv4defaultroute only where the main table has it', () => {
    const { networks, nics, bridges } = buildReport(linuxHost(), cfg).capabilities;
    assert.deepEqual([networks.storage.gateway, networks.storage.ipv6gateway, networks.storage.ipv4defaultroute], ['198.51.100.1', '2001:db8:2::1', false]);
    assert.deepEqual([networks.ovirtmgmt.gateway, networks.ovirtmgmt.ipv6gateway, networks.ovirtmgmt.ipv4defaultroute], ['192.0.2.1', '2001:db8:1::1', true]);
    assert.equal(nics.eth2.gateway, '198.51.100.1', 'a device: its gateway in any table when the main table has none');
    assert.equal(bridges.ovirtmgmt.gateway, '192.0.2.1');
  });

  it('kernel_config says them, so that applying it with --replace keeps the source routing', () => {
    const nets = buildReport(linuxHost(), cfg).kernel_config.networks;
    assert.deepEqual(nets.storage, {
      bridged: false, nic: 'eth2', bootproto: 'none', ipaddr: '198.51.100.10', prefix: 24, ipv6addr: '2001:db8:2::10/64',
      gateway: '198.51.100.1', ipv6gateway: '2001:db8:2::1', defaultRoute: false, switch: 'legacy',
    });
    assert.deepEqual([nets.ovirtmgmt.gateway, nets.ovirtmgmt.ipv6gateway, nets.ovirtmgmt.defaultRoute, nets.ovirtmgmt.nameservers], ['192.0.2.1', '2001:db8:1::1', true, ['192.0.2.53']]);
    // Re-applied, the request lays out the very routes the host has.
    const again = config({ networks: nets });
    assert.deepEqual(again.networks.storage, cfg.networks.storage);
    assert.equal(again.networks.ovirtmgmt.gateway, '192.0.2.1');
  });

  it('after a default-route takeover the old holder keeps its gateway (from its table)', () => {
    const host = linuxHost();
    const taken: Snapshot = { ...host, routes: host.routes.filter((r) => r.table !== 'main' || r.dst !== 'default').concat(route(4, 'default', 'eth2', 'main', '198.51.100.1')) };
    const { capabilities, kernel_config: kc } = buildReport(taken, cfg);
    assert.deepEqual([capabilities.networks.ovirtmgmt.gateway, capabilities.networks.ovirtmgmt.ipv4defaultroute], ['192.0.2.1', false]);
    assert.deepEqual([kc.networks.ovirtmgmt.gateway, kc.networks.ovirtmgmt.defaultRoute], ['192.0.2.1', false]);
    assert.deepEqual([kc.networks.storage.gateway, kc.networks.storage.defaultRoute], ['198.51.100.1', true]);
  });

  it('a router advertisement\'s default route is shown, but is no ipv6gateway or default route of kernel_config', () => {
    const host = linuxHost();
    const ra: Snapshot = { ...host, routes: [...host.routes.filter((r) => r.family === 4), route(6, 'default', 'eth2', 'main', 'fe80::1', { protocol: 'ra' })] };
    const { capabilities, kernel_config: kc } = buildReport(ra, cfg);
    assert.equal(capabilities.networks.storage.ipv6gateway, 'fe80::1');
    assert.deepEqual([kc.networks.storage.ipv6gateway, kc.networks.storage.defaultRoute], [undefined, false]);
  });

  it('a DHCP network: its gateway comes with the lease, not in kernel_config', () => {
    const cfgDhcp = config({ networks: { dnet: { nic: 'eth1', bootproto: 'dhcp', defaultRoute: true } } });
    const host: Snapshot = {
      time: 0,
      links: { eth1: link('eth1', 'nic', { master: 'dnet' }), dnet: link('dnet', 'bridge', { addresses: [addr('198.51.100.120/24', true)], info: { stp_state: 0 } }) },
      routes: [route(4, 'default', 'dnet', 'main', '198.51.100.1'), ...sourceRoutes('dnet', 'dnet', ['198.51.100.0/24', '198.51.100.1'])],
      rules: [],
      nameservers: [],
      dhcp: [{ dev: 'dnet', family: 4, defaultRoute: true, table: sourceRouteTable('dnet') }],
    };
    const { capabilities, kernel_config: kc } = buildReport(host, cfgDhcp);
    assert.deepEqual([capabilities.networks.dnet.gateway, capabilities.networks.dnet.dhcpv4], ['198.51.100.1', true]);
    assert.deepEqual([kc.networks.dnet.bootproto, kc.networks.dnet.gateway, kc.networks.dnet.defaultRoute], ['dhcp', undefined, true]);
  });

  it('OVS networks the same way', () => {
    const ovsCfg = config({ networks: { ovirtmgmt: { ...REQUEST.networks.ovirtmgmt, switch: 'ovs' }, storage: { ...REQUEST.networks.storage, switch: 'ovs' } } });
    const host = linuxHost();
    const snapshot: Snapshot = {
      ...host,
      links: {
        eth0: link('eth0', 'nic'), eth2: link('eth2', 'nic'),
        ovirtmgmt: link('ovirtmgmt', 'ovs', { addresses: host.links.ovirtmgmt.addresses }),
        storage: link('storage', 'ovs', { addresses: host.links.eth2.addresses }),
      },
      routes: host.routes.map((r) => (r.dev === 'eth2' ? { ...r, dev: 'storage' } : r)),
      ovs: { layout: ovsLayoutOf(ovsCfg, 'system'), bridges: {}, ports: {}, interfaces: {} },
    };
    const { capabilities, kernel_config: kc } = buildReport(snapshot, ovsCfg);
    assert.deepEqual([capabilities.networks.storage.gateway, capabilities.networks.storage.ipv6gateway], ['198.51.100.1', '2001:db8:2::1']);
    assert.deepEqual([kc.networks.storage.gateway, kc.networks.storage.ipv6gateway, kc.networks.storage.defaultRoute], ['198.51.100.1', '2001:db8:2::1', false]);
    assert.equal(kc.networks.ovirtmgmt.defaultRoute, true);
  });
});

describe('ipv6autoconf', () => {
  const cfg = config({ networks: { slaac: { nic: 'eth2', bridged: false, ipv6autoconf: true }, none: { nic: 'eth3', bridged: false } } });
  const host = (conf: Record<string, Ipv6Conf>): Snapshot => ({
    time: 0,
    links: { eth2: link('eth2', 'nic', { addresses: [addr('2001:db8:9::5054:ff:fe00:1/64', true)] }), eth3: link('eth3', 'nic', { addresses: [addr('2001:db8:8::5054:ff:fe00:2/64', true)] }) },
    routes: [],
    rules: [],
    nameservers: [],
    ipv6conf: conf,
  });

  it('is read from the sysctls: autoconf on and router advertisements taken', () => {
    const report = buildReport(host({ eth2: { accept_ra: '2', autoconf: '1' }, eth3: { accept_ra: '0', autoconf: '0' } }), cfg);
    assert.equal(report.capabilities.networks.slaac.ipv6autoconf, true);
    assert.equal(report.capabilities.networks.none.ipv6autoconf, false, 'a dynamic /64 is no evidence when the sysctls say off');
    assert.equal(report.kernel_config.networks.slaac.ipv6autoconf, true);
    assert.equal(report.kernel_config.networks.none.ipv6autoconf, undefined);
    assert.equal(config({ networks: report.kernel_config.networks }).networks.slaac.ipv6autoconf, true, 'kernel_config re-creates it');
  });

  it('on even before an address came (no router yet), off when router advertisements are refused', () => {
    const snap = host({ eth2: { accept_ra: '2', autoconf: '1' }, eth3: { accept_ra: '0', autoconf: '1' } });
    const bare: Snapshot = { ...snap, links: { eth2: { ...snap.links.eth2, addresses: [] }, eth3: snap.links.eth3 } };
    assert.equal(ipInfo(bare, 'eth2').ipv6autoconf, true);
    assert.equal(ipInfo(bare, 'eth3').ipv6autoconf, false);
  });

  it('a device whose sysctls were not read: a dynamic /64 is the evidence', () => {
    assert.equal(ipInfo(host({}), 'eth2').ipv6autoconf, true);
  });

  it('a DHCPv6 client is said in kernel_config', () => {
    const snap: Snapshot = { ...host({ eth2: { accept_ra: '2', autoconf: '0' } }), dhcp: [{ dev: 'eth2', family: 6, defaultRoute: false, table: sourceRouteTable('slaac') }] };
    const kc = buildReport(snap, cfg).kernel_config.networks.slaac;
    assert.deepEqual([kc.dhcpv6, kc.ipv6autoconf], [true, undefined]);
  });
});

describe('OVS bonds: active member and MAC from OVSDB', () => {
  const uuid = (n: number) => ['uuid', `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`] as const;

  it('bond_active_slave (a MAC) names the member whose mac_in_use it is', () => {
    const ifaces = [
      { _uuid: uuid(1), name: 'eth2', mac_in_use: '52:54:00:aa:00:02' },
      { _uuid: uuid(2), name: 'eth3', mac_in_use: '52:54:00:AA:00:03' },
      { _uuid: uuid(3), name: 'eth1', mac_in_use: ['set', []] },
    ];
    const ports = [
      { name: 'bond0', interfaces: ['set', [uuid(1), uuid(2)]], bond_active_slave: '52:54:00:aa:00:03' },
      { name: 'bond1', interfaces: ['set', [uuid(3)]], bond_active_slave: '52:54:00:aa:00:09' },
      { name: 'eth9', interfaces: uuid(3), bond_active_slave: ['set', []] },
    ];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.deepEqual(bondStatusOf(ports as any, ifaces as any), {
      bond0: { activeSlave: 'eth3', hwaddr: '52:54:00:aa:00:03' },
      bond1: { activeSlave: '', hwaddr: '52:54:00:aa:00:09' },
    });
  });

  it('the report says them', () => {
    const cfg = config({ bondings: { bond0: { nics: ['eth2', 'eth3'], options: 'mode=active-backup', switch: 'ovs' } }, networks: { vm: { bonding: 'bond0', switch: 'ovs' } } });
    const snapshot: Snapshot = { time: 0, links: { vm: link('vm', 'ovs') }, routes: [], rules: [], nameservers: [], ovs: { layout: ovsLayoutOf(cfg, 'system'), bridges: {}, ports: {}, interfaces: {} } };
    const port = { name: 'bond0', bridge: 'br-bond0', interfaces: ['eth2', 'eth3'], owned: true, bond: { activeSlave: 'eth3', hwaddr: '52:54:00:aa:00:03' } };
    const withStatus: Snapshot = { ...snapshot, ovs: { ...snapshot.ovs!, ports: { bond0: port } } };
    const bond = buildReport(withStatus, cfg).capabilities.bondings.bond0;
    assert.deepEqual([bond.active_slave, bond.hwaddr, bond.switch], ['eth3', '52:54:00:aa:00:03', 'ovs']);
    assert.deepEqual(buildReport(snapshot, cfg).capabilities.bondings.bond0.active_slave, '', 'unknown without OVSDB\'s word');
  });
});

describe('bridge ids', () => {
  it('in sysfs\'s form: zero-padded hex, no colons', () => {
    assert.equal(sysfsBridgeId('8000.b6:2d:80:11:7:cf'), '8000.b62d801107cf');
    assert.equal(sysfsBridgeId('1000.52:54:0:0:0:1'), '1000.525400000001');
    assert.equal(sysfsBridgeId('8000.b62d801107cf'), '8000.b62d801107cf');
    const opts = buildReport(linuxHost(), config(REQUEST)).capabilities.bridges.ovirtmgmt.opts;
    assert.deepEqual([opts.bridge_id, opts.root_id], ['8000.525400000001', '8000.525400000001']);
  });
});

describe("VDSM's getCapabilities shapes", () => {
  it("running bridge timers in centiseconds, as sysfs has them (ip shows seconds)", () => {
    const host = linuxHost();
    const br = host.links.ovirtmgmt;
    const withTimers: Snapshot = { ...host, links: { ...host.links, ovirtmgmt: { ...br, info: { ...br.info, gc_timer: 290.53, hello_timer: 0, tcn_timer: 0.5, topology_change_timer: 0 } } } };
    const opts = buildReport(withTimers, config(REQUEST)).capabilities.bridges.ovirtmgmt.opts;
    assert.deepEqual([opts.gc_timer, opts.hello_timer, opts.tcn_timer, opts.topology_change_timer], ['29053', '0', '50', '0']);
  });
  it("no IPv6 gateway is '::' (no IPv4 gateway is '')", () => {
    const info = ipInfo({ time: 0, links: { eth9: link('eth9', 'nic') }, routes: [], rules: [], nameservers: [] }, 'eth9');
    assert.deepEqual([info.gateway, info.ipv6gateway], ['', '::']);
  });
  it("a bond slave's own MAC is its permhwaddr (its hwaddr may be the bond's)", () => {
    const host = linuxHost();
    const slave: Snapshot = { ...host, links: { ...host.links, eth3: link('eth3', 'nic', { mac: '52:54:00:aa:00:02', master: 'x', slaveInfo: { perm_hwaddr: '52:54:00:aa:00:03' } }) } };
    const nics = buildReport(slave, config(REQUEST)).capabilities.nics;
    assert.deepEqual([nics.eth3.hwaddr, nics.eth3.permhwaddr], ['52:54:00:aa:00:02', '52:54:00:aa:00:03']);
    assert.equal(nics.eth0.permhwaddr, undefined);
    assert.ok(reportSchema.safeParse(buildReport(slave, config(REQUEST))).success);
  });
});

describe('the report as YAML', () => {
  /** Every object or array reached twice while walking the value. */
  function shared(value: unknown, seen = new Set<object>(), out: string[] = [], path = '$'): string[] {
    if (value === null || typeof value !== 'object') return out;
    if (seen.has(value)) out.push(path);
    seen.add(value);
    for (const [k, v] of Object.entries(value)) shared(v, seen, out, `${path}.${k}`);
    return out;
  }

  it('shares no object or array between two places (Linux and OVS), and prints without anchors or aliases', () => {
    const linux = buildReport(linuxHost(), config(REQUEST));
    const ovsCfg = config({ bondings: { bond0: { nics: ['eth2', 'eth3'], options: 'mode=active-backup', switch: 'ovs' } }, networks: { vm: { bonding: 'bond0', vlan: 10, switch: 'ovs' }, m: { nic: 'eth0', switch: 'ovs', ipaddr: '192.0.2.3', prefix: 24 } } });
    const ovsSnap: Snapshot = { time: 0, links: { vm: link('vm', 'ovs'), m: link('m', 'ovs', { addresses: [addr('192.0.2.3/24')] }) }, routes: [], rules: [], nameservers: ['192.0.2.53'], ovs: { layout: ovsLayoutOf(ovsCfg, 'system'), bridges: {}, ports: {}, interfaces: {} } };
    const ovs = buildReport(ovsSnap, ovsCfg);
    for (const report of [linux, ovs]) {
      assert.deepEqual(shared(report), []);
      assert.ok(reportSchema.safeParse(report).success);
    }
    // Even a value that does share arrays prints each one in full.
    const ports = ['eth0'];
    const text = stringify({ bridges: { a: { ports } }, networks: { a: { ports } } });
    assert.doesNotMatch(text, /[&*]a\d/);
    assert.deepEqual(parse(text), { bridges: { a: { ports } }, networks: { a: { ports } } });
    assert.doesNotMatch(stringify(linux), /(^|\s)[&*][A-Za-z]/m);
  });
});
