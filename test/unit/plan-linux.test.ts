// planLinux(actual, desired): the order of a change. Layouts come from configs (layoutOf)
// or from a fake host snapshot (planFor); steps are compared as the sentences they print.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import type { Link, Snapshot } from '../../src/model/snapshot.ts';
import { planFor } from '../../src/engine/apply.ts';
import { type Layout, type LinkSpec, layoutOf, sourceRouteTable } from '../../src/plan/layout.ts';
import { planLinux } from '../../src/plan/linux.ts';
import { type Step, describeStep, ipCommands, undo } from '../../src/plan/steps.ts';

const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;
const said = (steps: Step[]) => steps.map(describeStep);
const commands = (steps: Step[]) => steps.flatMap(ipCommands);
/** Plain NICs as the host has them, up or down. */
function nics(state: Record<string, boolean>): Layout {
  const links: Record<string, LinkSpec> = {};
  for (const [name, up] of Object.entries(state)) links[name] = { name, kind: 'nic', mtu: 1500, up, addresses: [] };
  return { links, routes: [], rules: [] };
}
/** The plan from what `before` built (as the host has it) to what `after` needs. */
const change = (before: Config, after: Config) => planLinux(layoutOf(before, emptyConfig()), layoutOf(after, before));

/** ovirtmgmt's source-routing table. */
const T = sourceRouteTable('ovirtmgmt');
const MGMT = { nic: 'eth1', ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', defaultRoute: true };

describe('planLinux: adding', () => {
  it('a bridged network on a NIC: bridge, port, up, address, default route — in that order', () => {
    const steps = planLinux(nics({ eth1: false }), layoutOf(config({ networks: { ovirtmgmt: MGMT } }), emptyConfig()));
    assert.deepEqual(said(steps), [
      'create bridge ovirtmgmt (mtu 1500)',
      'attach eth1 to ovirtmgmt',
      'set ovirtmgmt IPv6 accept_ra 1 -> 0',
      'set ovirtmgmt IPv6 autoconf 1 -> 0',
      'bring eth1 up',
      'bring ovirtmgmt up',
      'add address 192.0.2.10/24 to ovirtmgmt',
      `add route to 192.0.2.0/24 dev ovirtmgmt table ${T}`,
      'add IPv4 default route via 192.0.2.1 dev ovirtmgmt',
      `add IPv4 default route via 192.0.2.1 dev ovirtmgmt table ${T}`,
      `route traffic from 192.0.2.0/24 by table ${T}`,
    ]);
    assert.deepEqual(commands(steps), [
      'ip link add name ovirtmgmt mtu 1500 type bridge',
      'ip link set dev eth1 master ovirtmgmt',
      'sysctl -w net.ipv6.conf.ovirtmgmt.accept_ra=0',
      'sysctl -w net.ipv6.conf.ovirtmgmt.autoconf=0',
      'ip link set dev eth1 up',
      'ip link set dev ovirtmgmt up',
      'ip addr add 192.0.2.10/24 dev ovirtmgmt',
      `ip route add 192.0.2.0/24 dev ovirtmgmt table ${T}`,
      'ip route add 0.0.0.0/0 via 192.0.2.1 dev ovirtmgmt table main',
      `ip route add 0.0.0.0/0 via 192.0.2.1 dev ovirtmgmt table ${T}`,
      `ip rule add from 192.0.2.0/24 lookup ${T} priority 32000`,
    ]);
  });
  it('bridge options and STP go on the create line; a NIC already up is not brought up again', () => {
    const steps = planLinux(nics({ eth1: true }), layoutOf(config({ networks: { vmnet: { nic: 'eth1', stp: true, custom: { bridge_opts: 'forward_delay=0' } } } }), emptyConfig()));
    assert.deepEqual(commands(steps), [
      'ip link add name vmnet mtu 1500 type bridge forward_delay 0 stp_state 1',
      'ip link set dev eth1 master vmnet',
      // a VM network: the host takes no router advertisements or SLAAC address on it, from
      // the moment it is up
      'sysctl -w net.ipv6.conf.vmnet.accept_ra=0',
      'sysctl -w net.ipv6.conf.vmnet.autoconf=0',
      'ip link set dev vmnet up',
    ]);
  });
  it('a VLAN network: VLAN device created on its NIC, then the bridge; lower devices up first', () => {
    const steps = planLinux(nics({ eth1: false }), layoutOf(config({ networks: { vmnet: { nic: 'eth1', vlan: 0, mtu: 9000 } } }), emptyConfig()));
    assert.deepEqual(said(steps), [
      'set eth1 mtu 1500 -> 9000',
      'create vlan eth1.0 on eth1 (mtu 9000)',
      'create bridge vmnet (mtu 9000)',
      'attach eth1.0 to vmnet',
      'set vmnet IPv6 accept_ra 1 -> 0',
      'set vmnet IPv6 autoconf 1 -> 0',
      'bring eth1 up',
      'bring eth1.0 up',
      'bring vmnet up',
    ]);
    assert.equal(ipCommands(steps[1])[0], 'ip link add name eth1.0 link eth1 mtu 9000 type vlan id 0');
  });
  it('planFor against a host snapshot takes the default route over from another device', () => {
    const nic = (name: string, extra: Partial<Link> = {}): Link => ({ name, ifindex: 2, kind: 'nic', type: '', mtu: 1500, mac: '52:54:00:00:00:02', up: true, operstate: 'UP', info: {}, slaveInfo: {}, addresses: [], ...extra });
    const host: Snapshot = {
      time: 0,
      links: { eth0: nic('eth0', { addresses: [{ family: 4, cidr: '203.0.113.5/24', scope: 'global', dynamic: false }] }), eth1: nic('eth1', { up: false }) },
      routes: [{ family: 4, dst: 'default', gateway: '203.0.113.1', dev: 'eth0', table: 'main', protocol: 'static' }],
      rules: [],
      nameservers: [],
    };
    const steps = planFor(host, emptyConfig(), config({ networks: { ovirtmgmt: MGMT } }), new Set(), 'system');
    assert.deepEqual(said(steps), [
      'remove IPv4 default route via 203.0.113.1 dev eth0',
      'create bridge ovirtmgmt (mtu 1500)',
      'attach eth1 to ovirtmgmt',
      'set ovirtmgmt IPv6 accept_ra 1 -> 0',
      'set ovirtmgmt IPv6 autoconf 1 -> 0',
      'bring eth1 up',
      'bring ovirtmgmt up',
      'add address 192.0.2.10/24 to ovirtmgmt',
      `add route to 192.0.2.0/24 dev ovirtmgmt table ${T}`,
      'add IPv4 default route via 192.0.2.1 dev ovirtmgmt',
      `add IPv4 default route via 192.0.2.1 dev ovirtmgmt table ${T}`,
      `route traffic from 192.0.2.0/24 by table ${T}`,
    ]);
  });
});

describe('planLinux: changing', () => {
  const vlanNet = (mtu: number) => config({ networks: { vmnet: { nic: 'eth1', vlan: 100, mtu } } });
  it('raising an MTU goes bottom-up: NIC, VLAN, bridge', () => {
    assert.deepEqual(said(change(vlanNet(1500), vlanNet(9000))), ['set eth1 mtu 1500 -> 9000', 'set eth1.100 mtu 1500 -> 9000', 'set vmnet mtu 1500 -> 9000']);
  });
  it('lowering an MTU goes top-down: bridge, VLAN, NIC', () => {
    assert.deepEqual(said(change(vlanNet(9000), vlanNet(1500))), ['set vmnet mtu 9000 -> 1500', 'set eth1.100 mtu 9000 -> 1500', 'set eth1 mtu 9000 -> 1500']);
  });
  it('a NIC carries the largest MTU of its networks', () => {
    const cfg = config({ networks: { a: { nic: 'eth1', vlan: 10, mtu: 9000 }, b: { nic: 'eth1', vlan: 20, mtu: 1500 } } });
    const layout = layoutOf(cfg, emptyConfig());
    assert.deepEqual([layout.links.eth1.mtu, layout.links['eth1.10'].mtu, layout.links['eth1.20'].mtu], [9000, 9000, 1500]);
  });
  it("an untagged bridge below its NIC's MTU (a jumbo VLAN shares the NIC) gets its MTU set once its port is in", () => {
    const mgmt = { nic: 'eth1' };
    const both = config({ networks: { mgmt, stor: { nic: 'eth1', vlan: 20, bridged: false, mtu: 9000 } } });
    // Both at once: the kernel gives a bridge its port's MTU when the port joins.
    const fresh = said(planLinux(nics({ eth1: true }), layoutOf(both, emptyConfig())));
    assert.ok(fresh.indexOf('set mgmt mtu 1500 explicitly (the kernel would move it)') > fresh.indexOf('attach eth1 to mgmt'), fresh.join('\n'));
    // The VLAN network added later: the NIC's MTU rises, and the bridge would follow it.
    const later = said(change(config({ networks: { mgmt } }), both));
    assert.ok(later.indexOf('set mgmt mtu 1500 explicitly (the kernel would move it)') > later.indexOf('set eth1 mtu 1500 -> 9000'), later.join('\n'));
    // Nothing changes: nothing to set (the MTU set before stays).
    assert.deepEqual(change(both, both), []);
    // A bridge at its port's MTU needs none.
    assert.ok(!said(change(emptyConfig(), config({ networks: { mgmt: { nic: 'eth1', mtu: 9000 } } }))).some((x) => x.includes('explicitly')));
  });
  it('a slave leaving a bond for a bridge gets its MTU set again (the driver restores the one it had when enslaved)', () => {
    const bonded = config({ bondings: { bond0: { nics: ['eth1', 'eth2'] } }, networks: { b: { bonding: 'bond0' } } });
    const split = config({ networks: { b: { nic: 'eth1' } } });
    const steps = said(change(bonded, split));
    assert.ok(steps.indexOf('set eth1 mtu 1500 explicitly (the kernel would move it)') > steps.indexOf('detach eth1 from bond0'), steps.join('\n'));
    assert.ok(steps.includes('set eth2 mtu 1500 explicitly (the kernel would move it)'), 'a freed NIC too');
  });
  it('bridge timers: the kernel keeps them in jiffies, and a value it rounds by a centisecond is the one asked for', () => {
    const bridge = (bridgeOpts: Record<string, string>): Layout => ({ links: { br: { name: 'br', kind: 'bridge', mtu: 1500, up: true, addresses: [], bridgeOpts } }, routes: [], rules: [] });
    // HZ=250: 1501 cs -> 3752 jiffies -> 1500 cs; the default 3125 reads back as 3124.
    assert.deepEqual(planLinux(bridge({ forward_delay: '1500', multicast_startup_query_interval: '3124' }), bridge({ forward_delay: '1501', multicast_startup_query_interval: '3125' })), []);
    assert.deepEqual(said(planLinux(bridge({ forward_delay: '1500' }), bridge({ forward_delay: '1502' }))), ['set bridge br options forward_delay 1500 -> 1502']);
    assert.deepEqual(said(planLinux(bridge({ priority: '32767' }), bridge({ priority: '32768' }))), ['set bridge br options priority 32767 -> 32768'], 'not a timer: exact');
  });
  it('a bridge option the host does not show has no "from": its undo leaves it out (ip refuses an empty value)', () => {
    const bridge = (bridgeOpts: Record<string, string>): Layout => ({ links: { br: { name: 'br', kind: 'bridge', mtu: 1500, up: true, addresses: [], bridgeOpts } }, routes: [], rules: [] });
    const steps = planLinux(bridge({ multicast_querier: '1' }), bridge({ default_pvid: '0', multicast_querier: '0' }));
    assert.deepEqual(commands(undo(steps)), ['ip link set dev br type bridge mcast_querier 1']);
  });
  it('an address change removes the default route first and adds it again on that device', () => {
    const before = config({ networks: { ovirtmgmt: MGMT } });
    const after = config({ networks: { ovirtmgmt: { ...MGMT, ipaddr: '192.0.2.11' } } });
    assert.deepEqual(said(change(before, after)), [
      'remove IPv4 default route via 192.0.2.1 dev ovirtmgmt',
      `remove route to 192.0.2.0/24 dev ovirtmgmt table ${T}`,
      `remove IPv4 default route via 192.0.2.1 dev ovirtmgmt table ${T}`,
      'remove address 192.0.2.10/24 from ovirtmgmt',
      'add address 192.0.2.11/24 to ovirtmgmt',
      `add route to 192.0.2.0/24 dev ovirtmgmt table ${T}`,
      'add IPv4 default route via 192.0.2.1 dev ovirtmgmt',
      `add IPv4 default route via 192.0.2.1 dev ovirtmgmt table ${T}`,
    ]);
  });
  it('a gateway change replaces the route and leaves the address alone', () => {
    const before = config({ networks: { ovirtmgmt: MGMT } });
    const after = config({ networks: { ovirtmgmt: { ...MGMT, gateway: '192.0.2.254' } } });
    assert.deepEqual(said(change(before, after)), [
      'remove IPv4 default route via 192.0.2.1 dev ovirtmgmt',
      `remove IPv4 default route via 192.0.2.1 dev ovirtmgmt table ${T}`,
      'add IPv4 default route via 192.0.2.254 dev ovirtmgmt',
      `add IPv4 default route via 192.0.2.254 dev ovirtmgmt table ${T}`,
    ]);
  });
  it('a bridge option change sets just that option; a dropped option goes back to its kernel default', () => {
    const opts = (bridge_opts: string | undefined) => config({ networks: { vmnet: { nic: 'eth1', ...(bridge_opts ? { custom: { bridge_opts } } : {}) } } });
    const set = change(opts('forward_delay=0 multicast_router=2'), opts('forward_delay=500 multicast_router=2'));
    assert.deepEqual(set, [{ op: 'bridge.set', name: 'vmnet', from: { forward_delay: '0' }, to: { forward_delay: '500' } }]);
    assert.deepEqual(commands(set), ['ip link set dev vmnet type bridge forward_delay 500']);
    assert.deepEqual(commands(change(opts('forward_delay=0'), opts(undefined))), ['ip link set dev vmnet type bridge forward_delay 1500']);
  });
  it('STP and multicast snooping changes are bridge option changes', () => {
    const steps = change(config({ networks: { vmnet: { nic: 'eth1' } } }), config({ networks: { vmnet: { nic: 'eth1', stp: true, multicastSnooping: false } } }));
    assert.deepEqual(commands(steps), ['ip link set dev vmnet type bridge stp_state 1 mcast_snooping 0']);
  });
  it('STP going off is set before timers STP would refuse, and coming on after them', () => {
    const net = (stp: boolean, bridge_opts: string) => config({ networks: { vmnet: { nic: 'eth1', stp, custom: { bridge_opts } } } });
    assert.deepEqual(commands(change(net(true, 'forward_delay=1500'), net(false, 'forward_delay=0'))), [
      'ip link set dev vmnet type bridge stp_state 0',
      'ip link set dev vmnet type bridge forward_delay 0',
    ]);
    assert.deepEqual(commands(change(net(false, 'forward_delay=0'), net(true, 'forward_delay=400'))), [
      'ip link set dev vmnet type bridge forward_delay 400',
      'ip link set dev vmnet type bridge stp_state 1',
    ]);
  });
  it('an MTU going below 1280 sets the IPv6 sysctls to the defaults first; the device then has none to set', () => {
    const before = layoutOf(config({ networks: { n2: { nic: 'eth3', bridged: false } } }), emptyConfig());
    const after = layoutOf(config({ networks: { n2: { nic: 'eth3', bridged: false, mtu: 1000 } } }), emptyConfig());
    assert.equal(after.links.eth3.ipv6conf, undefined);
    assert.deepEqual(said(planLinux(before, after)), ['set eth3 IPv6 accept_ra 0 -> 1', 'set eth3 IPv6 autoconf 0 -> 1', 'set eth3 mtu 1500 -> 1000']);
    // Back up: the kernel brings IPv6 back with its defaults, which are then set.
    const { ipv6conf: _gone, ...small } = after.links.eth3;
    assert.deepEqual(said(planLinux({ ...after, links: { eth3: small } }, before)), ['set eth3 mtu 1000 -> 1500', 'set eth3 IPv6 accept_ra 1 -> 0', 'set eth3 IPv6 autoconf 1 -> 0']);
  });
  it("an administrator's route through a device that loses its address goes first; it comes back if the device still reaches its gateway", () => {
    const foreign = { family: 4 as const, dst: '10.99.0.0/16', gateway: '10.8.0.254', dev: 'eth3', table: 'main' };
    const host: Layout = { links: { eth3: { name: 'eth3', kind: 'nic', mtu: 1500, up: true, addresses: ['10.8.0.1/24'] } }, routes: [], rules: [], foreignRoutes: [foreign] };
    const bridged = planLinux(host, layoutOf(config({ networks: { vmx: { nic: 'eth3', ipaddr: '10.8.0.1', prefix: 24 } } }), emptyConfig()));
    assert.deepEqual(bridged.slice(0, 2).map(describeStep), ['remove route to 10.99.0.0/16 via 10.8.0.254 dev eth3', 'remove address 10.8.0.1/24 from eth3']);
    assert.ok(!bridged.some((s) => s.op === 'route.add' && s.route.dst === '10.99.0.0/16'), 'eth3 is a port now: the route does not come back');
    const moved = planLinux(host, layoutOf(config({ networks: { vmy: { nic: 'eth3', bridged: false, ipaddr: '10.8.0.2', prefix: 24 } } }), emptyConfig()));
    assert.deepEqual(moved.filter((s) => s.op.startsWith('route')).map(describeStep), ['remove route to 10.99.0.0/16 via 10.8.0.254 dev eth3', 'add route to 10.99.0.0/16 via 10.8.0.254 dev eth3']);
    const untouched = planLinux(host, layoutOf(config({ networks: { vmy: { nic: 'eth3', bridged: false, ipaddr: '10.8.0.1', prefix: 24 } } }), emptyConfig()));
    assert.ok(!untouched.some((s) => s.op.startsWith('route') && (s as { route: { dst: string } }).route.dst === '10.99.0.0/16'), 'an address kept: the route is left alone');
  });
  it('a bond option change other than mode is set in place', () => {
    const bond = (options: string) => config({ bondings: { bond0: { nics: ['eth1', 'eth2'], options } }, networks: { n: { bonding: 'bond0' } } });
    const steps = change(bond('mode=802.3ad miimon=100'), bond('mode=802.3ad miimon=200'));
    assert.deepEqual(commands(steps), ['ip link set dev bond0 type bond miimon 200']);
  });
  it('an option the driver changes only while the bond is down takes the bond down and up again', () => {
    const bond = (options: string) => config({ bondings: { bond0: { nics: ['eth1', 'eth2'], options } }, networks: { n: { bonding: 'bond0' } } });
    const steps = change(bond('mode=802.3ad miimon=100'), bond('mode=802.3ad miimon=200 lacp_rate=fast'));
    assert.deepEqual(commands(steps), ['ip link set dev bond0 down', 'ip link set dev bond0 type bond miimon 200 lacp_rate fast', 'ip link set dev bond0 up']);
  });
  it('fail_over_mac, like mode, is changed only by re-creating the bond', () => {
    const bond = (options: string) => config({ bondings: { bond0: { nics: ['eth1', 'eth2'], options } }, networks: { n: { bonding: 'bond0' } } });
    const steps = change(bond('mode=active-backup'), bond('mode=active-backup fail_over_mac=active'));
    assert.ok(said(steps).includes('delete bond bond0') && said(steps).includes('create bond bond0 (mtu 1500)'), said(steps).join('; '));
  });
});

describe('planLinux: bonds', () => {
  const bonded = (options: string) => config({
    bondings: { bond0: { nics: ['eth2', 'eth1'], options } },
    networks: { storage: { bonding: 'bond0', vlan: 10, bridged: false, ipaddr: '198.51.100.2', prefix: 24 } },
  });
  it('a slave that is up is brought down before it is enslaved; one that is down is not', () => {
    const steps = planLinux(nics({ eth1: true, eth2: false }), layoutOf(bonded('mode=active-backup miimon=100'), emptyConfig()));
    const lines = said(steps);
    assert.equal(lines.indexOf('bring eth1 down'), lines.indexOf('attach eth1 to bond0') - 1);
    assert.ok(lines.indexOf('bring eth1 down') > lines.indexOf('create bond bond0 (mtu 1500)'));
    assert.ok(!lines.includes('bring eth2 down'));
    assert.ok(lines.indexOf('attach eth1 to bond0') < lines.indexOf('attach eth2 to bond0'), 'slaves in sorted order');
    assert.ok(lines.indexOf('bring eth2 up') < lines.indexOf('bring bond0 up') && lines.indexOf('bring bond0 up') < lines.indexOf('bring bond0.10 up'));
    assert.equal(ipCommands(steps[0])[0], 'ip link add name bond0 mtu 1500 type bond mode active-backup miimon 100');
  });
  it('a mode change re-creates the bond and its VLANs', () => {
    const steps = change(bonded('mode=active-backup miimon=100'), bonded('mode=4 miimon=100'));
    assert.deepEqual(said(steps), [
      'remove address 198.51.100.2/24 from bond0.10',
      'set bond0.10 IPv6 accept_ra 0 -> 1',
      'set bond0.10 IPv6 autoconf 0 -> 1',
      'bring eth2 down', // in the reverse of the attach order: the undo attaches as before
      'detach eth2 from bond0',
      'bring eth1 down',
      'detach eth1 from bond0',
      'delete vlan bond0.10',
      'delete bond bond0',
      'create bond bond0 (mtu 1500)',
      'attach eth1 to bond0',
      'attach eth2 to bond0',
      'create vlan bond0.10 on bond0 (mtu 1500)',
      'set bond0.10 IPv6 accept_ra 1 -> 0',
      'set bond0.10 IPv6 autoconf 1 -> 0',
      'bring eth1 up',
      'bring eth2 up',
      'bring bond0 up',
      'bring bond0.10 up',
      'add address 198.51.100.2/24 to bond0.10',
    ]);
    assert.equal(ipCommands(steps[9])[0], 'ip link add name bond0 mtu 1500 type bond mode 802.3ad miimon 100');
  });
});

describe('planLinux: removing', () => {
  it('routes and addresses go before the device, ports are detached, uppers deleted first', () => {
    const before = config({
      bondings: { bond0: { nics: ['eth1', 'eth2'] } },
      networks: { ovirtmgmt: { bonding: 'bond0', vlan: 100, ipaddr: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', defaultRoute: true } },
    });
    assert.deepEqual(said(change(before, emptyConfig())), [
      `stop routing traffic from 192.0.2.0/24 by table ${T}`,
      'remove IPv4 default route via 192.0.2.1 dev ovirtmgmt',
      `remove route to 192.0.2.0/24 dev ovirtmgmt table ${T}`,
      `remove IPv4 default route via 192.0.2.1 dev ovirtmgmt table ${T}`,
      'remove address 192.0.2.10/24 from ovirtmgmt',
      'set ovirtmgmt IPv6 accept_ra 0 -> 1',
      'set ovirtmgmt IPv6 autoconf 0 -> 1',
      'bring eth2 down', // in the reverse of the attach order: the undo attaches as before
      'detach eth2 from bond0',
      // The bonding driver gives a freed slave the MTU it had when enslaved: set again.
      'set eth2 mtu 1500 explicitly (the kernel would move it)',
      'bring eth1 down',
      'detach eth1 from bond0',
      'set eth1 mtu 1500 explicitly (the kernel would move it)',
      'detach bond0.100 from ovirtmgmt',
      'delete bridge ovirtmgmt',
      'delete vlan bond0.100',
      'delete bond bond0',
    ]);
  });
  it('removing one network of two leaves the other and the shared NIC alone', () => {
    const both = config({ networks: { a: { nic: 'eth1', vlan: 10 }, b: { nic: 'eth1', vlan: 20 } } });
    const one = config({ networks: { a: { nic: 'eth1', vlan: 10 } } });
    assert.deepEqual(said(change(both, one)), ['set b IPv6 accept_ra 0 -> 1', 'set b IPv6 autoconf 0 -> 1', 'detach eth1.20 from b', 'delete bridge b', 'delete vlan eth1.20']);
  });
});

describe('planLinux: no-op', () => {
  const configs: Record<string, Config> = {
    empty: emptyConfig(),
    mgmt: config({ networks: { ovirtmgmt: MGMT } }),
    full: config({
      bondings: { bond0: { nics: ['eth2', 'eth1'], options: 'mode=4 miimon=100 lacp_rate=1', hwaddr: '52:54:00:aa:bb:cc' } },
      networks: {
        ovirtmgmt: { ...MGMT, nic: 'eth0', vlan: 100, ipv6addr: '2001:db8::10/64', ipv6gateway: '2001:db8::1', custom: { bridge_opts: 'forward_delay=0' } },
        vmnet: { bonding: 'bond0', vlan: 200, mtu: 9000, stp: true, multicastSnooping: false },
        storage: { bonding: 'bond0', vlan: 300, bridged: false, ipaddr: '198.51.100.5', prefix: 24 },
        nicless: {},
      },
    }),
  };
  for (const [name, cfg] of Object.entries(configs)) {
    it(`re-planning the desired layout against itself gives no steps (${name})`, () => {
      const d = layoutOf(cfg, emptyConfig());
      assert.deepEqual(planLinux(d, d), []);
      assert.deepEqual(planLinux(d, layoutOf(cfg, cfg)), []);
    });
  }
});

/**
 * The admin state (IFF_UP) and masters as the kernel keeps them while a plan runs: a bond
 * refuses to enslave a device that is up, and closes a slave it releases or loses.
 */
function runAdminState(start: Layout, steps: Step[]): { up: Map<string, boolean>; refused: string[] } {
  const kind = new Map<string, string>(Object.values(start.links).map((l) => [l.name, l.kind]));
  const up = new Map(Object.values(start.links).map((l) => [l.name, l.up === true]));
  const master = new Map(Object.values(start.links).map((l) => [l.name, l.master]));
  const refused: string[] = [];
  const release = (dev: string) => {
    if (kind.get(master.get(dev) ?? '') === 'bond') up.set(dev, false);
    master.delete(dev);
  };
  for (const s of steps) {
    if (s.op === 'link.add') {
      kind.set(s.link.name, s.link.kind);
      up.set(s.link.name, s.link.up === true);
    } else if (s.op === 'link.del') {
      for (const [dev, m] of master) if (m === s.link.name) release(dev);
      up.delete(s.link.name);
    } else if (s.op === 'link.set' && s.attr === 'up') {
      up.set(s.name, s.to === true);
    } else if (s.op === 'link.set' && s.attr === 'master') {
      if (s.to === null) release(s.name);
      else if (kind.get(String(s.to)) === 'bond' && up.get(s.name)) refused.push(`${describeStep(s)}: ${s.name} is up`);
      else master.set(s.name, String(s.to));
    }
  }
  return { up, refused };
}

describe('planLinux: admin state through the kernel', () => {
  const bonded = (mode: string) => config({ bondings: { bond0: { nics: ['eth1'], options: `mode=${mode}` } }, networks: { net1: { bonding: 'bond0' } } });
  it('a bond mode change never enslaves an up device and ends with everything up', () => {
    const actual = layoutOf(bonded('active-backup'), emptyConfig());
    const desired = layoutOf(bonded('802.3ad'), bonded('active-backup'));
    const { up, refused } = runAdminState(actual, planLinux(actual, desired));
    assert.deepEqual(refused, []);
    assert.deepEqual(Object.values(desired.links).map((l) => [l.name, up.get(l.name)]), Object.values(desired.links).map((l) => [l.name, true]));
  });
  it('a NIC released from a bond and reused as a bridge port is brought up', () => {
    const before = config({ bondings: { bond0: { nics: ['eth1', 'eth2'] } }, networks: { net1: { bonding: 'bond0' } } });
    const after = config({ bondings: { bond0: { nics: ['eth2'] } }, networks: { net1: { bonding: 'bond0' }, net2: { nic: 'eth1' } } });
    const actual = layoutOf(before, emptyConfig());
    const steps = planLinux(actual, layoutOf(after, before));
    assert.deepEqual(said(steps).slice(0, 5), ['bring eth1 down', 'detach eth1 from bond0', 'set eth1 mtu 1500 explicitly (the kernel would move it)', 'create bridge net2 (mtu 1500)', 'attach eth1 to net2']);
    assert.equal(runAdminState(actual, steps).up.get('eth1'), true);
  });
  it('undoing a bond mode change never enslaves an up device', () => {
    const actual = layoutOf(bonded('active-backup'), emptyConfig());
    const steps = planLinux(actual, layoutOf(bonded('802.3ad'), bonded('active-backup')));
    const after = runAdminState(actual, steps);
    assert.deepEqual(after.refused, []);
    const desired = layoutOf(bonded('802.3ad'), bonded('active-backup'));
    assert.deepEqual(runAdminState(desired, undo(steps)).refused, []);
  });
});
