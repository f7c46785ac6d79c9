// Host tier: what `netswitch show` reports, checked against the real host, and the round trip
// that makes kernel_config worth having: applying it with --replace changes nothing. Covers
// the gateways of networks that do not hold the default route (IPv4 and IPv6, before and after
// a default-route takeover), ipv6autoconf, bridge ids, YAML output, and an OVS bond's active
// member.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { report as reportSchema } from '../../src/model/report.ts';
import { sourceRouteTable } from '../../src/plan/layout.ts';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';

// The report's kernel_config entries and ip's JSON are loosely typed; tests name what they check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const LINUX = `
networks:
  ovirtmgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24, gateway: 192.0.2.1, ipv6addr: "2001:db8:1::10/64", ipv6gateway: "2001:db8:1::1", defaultRoute: true }
  storage: { nic: eth2, bridged: false, ipaddr: 198.51.100.10, prefix: 24, gateway: 198.51.100.1, ipv6addr: "2001:db8:2::10/64", ipv6gateway: "2001:db8:2::1" }
  slaac: { nic: eth3, bridged: false, ipv6autoconf: true }
`;

async function show(h: SandboxHarness): Promise<Json> {
  const r = await h.cli(['-o', 'json', 'show']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(reportSchema.safeParse(out).success, 'the report keeps to its schema');
  return out;
}

/** Applies show's kernel_config with --replace: the host must already be exactly that. */
async function roundTrip(h: SandboxHarness, kernelConfig: Json): Promise<void> {
  const r = await h.cli(['-o', 'json', 'apply', '--replace', '-'], { input: JSON.stringify(kernelConfig) });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, 'unchanged', `kernel_config re-applied changes the host: ${JSON.stringify(out.steps)}`);
}

/** The default routes of a table, "gateway dev" each. */
async function defaults(h: SandboxHarness, family: 4 | 6, table: string): Promise<string[]> {
  const routes: Json[] = await h.ipJson([`-${family}`, 'route', 'show', 'default', 'table', table]);
  return routes.map((r) => `${r.gateway} ${r.dev}`);
}

describe('netswitch show on a real host', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    await cleanupLeftovers('trs');
    h = await createSandbox({ prefix: 'trs' });
  });
  after(async () => h?.down());

  test('Linux: gateways of every network, ipv6autoconf, bridge ids; kernel_config round-trips', async () => {
    const r = await h.cli(['apply', '-'], { input: LINUX });
    assert.equal(r.code, 0, r.stderr);
    const storageTable = sourceRouteTable('storage');
    assert.deepEqual(await defaults(h, 4, storageTable), ['198.51.100.1 eth2'], 'the host has storage\'s source routing');
    assert.deepEqual(await defaults(h, 6, storageTable), ['2001:db8:2::1 eth2']);

    const out = await show(h);
    const nets = out.capabilities.networks;
    assert.deepEqual([nets.storage.gateway, nets.storage.ipv6gateway, nets.storage.ipv4defaultroute], ['198.51.100.1', '2001:db8:2::1', false]);
    assert.deepEqual([nets.ovirtmgmt.gateway, nets.ovirtmgmt.ipv6gateway, nets.ovirtmgmt.ipv4defaultroute], ['192.0.2.1', '2001:db8:1::1', true]);
    assert.deepEqual([nets.slaac.ipv6autoconf, nets.storage.ipv6autoconf, nets.ovirtmgmt.ipv6autoconf], [true, false, false]);
    const kc = out.kernel_config.networks;
    assert.deepEqual([kc.storage.gateway, kc.storage.ipv6gateway, kc.storage.defaultRoute], ['198.51.100.1', '2001:db8:2::1', false]);
    assert.equal(kc.slaac.ipv6autoconf, true);

    const sysfs = await h.sh(['cat', '/sys/class/net/ovirtmgmt/bridge/bridge_id']);
    assert.equal(out.capabilities.bridges.ovirtmgmt.opts.bridge_id, sysfs.stdout.trim());

    const yaml = await h.cli(['-o', 'yaml', 'show']);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.doesNotMatch(yaml.stdout, /(^|\s)[&*][A-Za-z]\w*(\s|$)/m, 'no YAML anchors or aliases');
    assert.deepEqual(parse(yaml.stdout).capabilities.networks.ovirtmgmt.ports, nets.ovirtmgmt.ports);

    await roundTrip(h, out.kernel_config);
    assert.deepEqual(await defaults(h, 4, storageTable), ['198.51.100.1 eth2'], 'storage keeps its source routing');
    assert.deepEqual(await defaults(h, 6, storageTable), ['2001:db8:2::1 eth2']);
    const sysctl = await h.sh(['cat', '/proc/sys/net/ipv6/conf/eth3/autoconf', '/proc/sys/net/ipv6/conf/eth3/accept_ra']);
    assert.deepEqual(sysctl.stdout.trim().split('\n'), ['1', '2'], 'slaac keeps autoconfiguring');
  });

  test('after a default-route takeover the old holder keeps its gateway; kernel_config round-trips', async () => {
    const r = await h.cli(['apply', '-'], {
      input: 'networks:\n  storage: { nic: eth2, bridged: false, ipaddr: 198.51.100.10, prefix: 24, gateway: 198.51.100.1, ipv6addr: "2001:db8:2::10/64", ipv6gateway: "2001:db8:2::1", defaultRoute: true }\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await defaults(h, 4, 'main'), ['198.51.100.1 eth2']);
    const out = await show(h);
    const nets = out.capabilities.networks;
    assert.deepEqual([nets.ovirtmgmt.gateway, nets.ovirtmgmt.ipv6gateway, nets.ovirtmgmt.ipv4defaultroute], ['192.0.2.1', '2001:db8:1::1', false]);
    assert.deepEqual([nets.storage.gateway, nets.storage.ipv4defaultroute], ['198.51.100.1', true]);
    const kc = out.kernel_config.networks;
    assert.deepEqual([kc.ovirtmgmt.gateway, kc.ovirtmgmt.ipv6gateway, kc.ovirtmgmt.defaultRoute], ['192.0.2.1', '2001:db8:1::1', false]);
    assert.equal(kc.storage.defaultRoute, true);
    await roundTrip(h, out.kernel_config);
    assert.deepEqual(await defaults(h, 4, sourceRouteTable('ovirtmgmt')), ['192.0.2.1 ovirtmgmt']);
  });

  test('Open vSwitch: the same on OVS networks, and an OVS bond\'s active member and MAC', async () => {
    const r = await h.cli(['apply', '--replace', '-'], {
      input: `
networks:
  ovirtmgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24, gateway: 192.0.2.1, defaultRoute: true, switch: ovs }
  storage: { bonding: bond0, vlan: 20, bridged: false, ipaddr: 198.51.100.10, prefix: 24, gateway: 198.51.100.1, ipv6addr: "2001:db8:2::10/64", ipv6gateway: "2001:db8:2::1", ipv6autoconf: true, switch: ovs }
bondings:
  bond0: { nics: [eth1, eth2], options: "mode=active-backup miimon=100", switch: ovs }
`,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = await show(h);
    const nets = out.capabilities.networks;
    assert.deepEqual([nets.storage.gateway, nets.storage.ipv6gateway, nets.storage.ipv4defaultroute, nets.storage.ipv6autoconf], ['198.51.100.1', '2001:db8:2::1', false, true]);
    const kc = out.kernel_config.networks;
    assert.deepEqual([kc.storage.gateway, kc.storage.ipv6gateway, kc.storage.ipv6autoconf, kc.storage.defaultRoute], ['198.51.100.1', '2001:db8:2::1', true, false]);
    // VDSM's shape for OVS networks (vdsm/network/ovs/info.py, fake_bridgeless): southbound the
    // NIC or bond; a bridgeless network on the device a Linux host would give it, with its IP there.
    assert.deepEqual([nets.ovirtmgmt.iface, nets.ovirtmgmt.southbound, nets.ovirtmgmt.ports, nets.ovirtmgmt.bridged], ['ovirtmgmt', 'eth0', ['eth0'], true]);
    assert.deepEqual([nets.storage.iface, nets.storage.southbound, nets.storage.ports, nets.storage.vlanid, nets.storage.bridged], ['bond0.20', 'bond0', ['bond0.20'], 20, false]);
    assert.deepEqual(out.capabilities.bridges.ovirtmgmt.ports, ['eth0']);
    assert.equal(out.capabilities.bridges.storage, undefined);
    const vlan = out.capabilities.vlans['bond0.20'];
    assert.deepEqual([vlan.iface, vlan.vlanid, vlan.ipv4addrs, vlan.gateway, vlan.switch], ['bond0', 20, ['198.51.100.10/24'], '198.51.100.1', 'ovs']);

    // ovs-appctl's own word: "active member mac: <mac>(<member>)".
    const appctl = await h.sh(['ovs-appctl', 'bond/show', 'bond0']);
    const [, mac, member] = /active (?:member|slave) mac: ([0-9a-f:]+)\((\w+)\)/.exec(appctl.stdout) ?? [];
    assert.ok(member, appctl.stdout + appctl.stderr);
    const bond = out.capabilities.bondings.bond0;
    assert.deepEqual([bond.active_slave, bond.hwaddr, bond.switch], [member, mac, 'ovs']);
    const links: Json[] = await h.ipJson(['link', 'show', 'dev', member]);
    assert.equal(links[0].address, bond.hwaddr, 'the active member\'s MAC');

    await roundTrip(h, out.kernel_config);
  });
});
