// Host tier: the Open vSwitch switch on the sandbox's private OVS (userspace datapath). Every
// assertion reads the host back with ovs-vsctl/ovs-appctl/ovsdb-client and `ip -json`, never
// only with netswitch's own reader, and traffic crosses the cables where it matters. The far
// ends that need VLANs or LACP are a second OVS in the wire namespace (lib/ovs-peer.ts): the
// host kernel has no 8021q or bonding driver.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';
import { type WireOvs, eventually, startWireOvs, wholeHost } from './lib/ovs-peer.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'netswitch');
const PREFIX = 'to';

// ip's JSON is loosely typed; the tests name the fields they check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** examples/setup.yaml's networks, on the switch SWITCH (bridge_opts are Linux bridge options: refused on OVS). */
const setup = (sw: 'legacy' | 'ovs') => `
networks:
  ovirtmgmt: { switch: ${sw}, nic: eth0, ipaddr: 192.0.2.10, netmask: 255.255.255.0, gateway: 192.0.2.1, defaultRoute: true }
  vmnet: { switch: ${sw}, nic: eth1, bridged: true${sw === 'legacy' ? ', custom: { bridge_opts: "forward_delay=0" }' : ''} }
  storage: { switch: ${sw}, nic: eth2, bridged: false, mtu: 9000, ipaddr: 198.51.100.10, prefix: 24 }
`;

async function apply(h: SandboxHarness, yaml: string, ...args: string[]) {
  return h.cli(['apply', ...args, '-'], { input: yaml });
}

async function applied(h: SandboxHarness, yaml: string, ...args: string[]): Promise<void> {
  const r = await apply(h, yaml, ...args);
  assert.equal(r.code, 0, r.stderr);
}

/** `apply FILE` with extra environment (NETSWITCH_FAULT_STEP, NETSWITCH_OVS_DATAPATH). */
async function applyWithEnv(h: SandboxHarness, yaml: string, env: string[]) {
  const file = join(h.sb.dir, 'request.yaml');
  await writeFile(file, yaml);
  return h.sh(['env', ...env, BIN, 'apply', file]);
}

/** `ovs-vsctl ARGS` on the host's OVS: its stdout, trimmed and unquoted. */
async function vsctl(h: SandboxHarness, ...args: string[]): Promise<string> {
  const r = await h.sh(['ovs-vsctl', '--timeout=10', ...args]);
  assert.equal(r.code, 0, `ovs-vsctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim().replaceAll('"', '');
}

const lines = (s: string) => s.split('\n').filter(Boolean).sort();

/** Names of the rows of TABLE that carry netswitch's mark. */
async function ownedRows(h: SandboxHarness, table: string): Promise<string[]> {
  return lines(await vsctl(h, '--bare', '--columns=name', 'find', table, 'external_ids:netswitch-owner=netswitch'));
}

async function appctl(h: SandboxHarness, ...args: string[]): Promise<string> {
  const r = await h.sh(['ovs-appctl', ...args]);
  assert.equal(r.code, 0, `ovs-appctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Run `ip` commands in the wire namespace, each must succeed. */
async function wireIp(h: SandboxHarness, ...commands: string[]): Promise<void> {
  for (const c of commands) {
    const r = await h.sh(['ip', ...c.split(' ')], 'wire');
    assert.equal(r.code, 0, `ip ${c}: ${r.stderr}`);
  }
}

async function ping(h: SandboxHarness, target: string, ...options: string[]): Promise<void> {
  const r = await h.sh(['ping', '-c', '1', '-W', '2', ...options, target], 'wire');
  assert.equal(r.code, 0, `ping ${target} ${options.join(' ')}: ${r.stdout}${r.stderr}`);
}

async function link(h: SandboxHarness, name: string): Promise<Json | undefined> {
  const links: Json[] = await h.ipJson(['-d', 'addr', 'show']);
  return links.find((l) => l.ifname === name);
}

function addrs(l: Json): string[] {
  return (l?.addr_info ?? []).filter((a: Json) => a.family === 'inet').map((a: Json) => `${a.local}/${a.prefixlen}`);
}

before(async () => {
  if (!skipUnlessRoot) await cleanupLeftovers(PREFIX);
});

describe('OVS switch: VLANs, NICs, multicast snooping, re-apply and removal', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  let wire: WireOvs;
  before(async () => {
    h = await createSandbox({ prefix: PREFIX });
    wire = await startWireOvs(h);
  });
  after(async () => {
    await wire?.stop();
    await h?.down();
  });
  // Each test starts from a host without networks: one failing leaves no trail for the next.
  afterEach(async () => applied(h, 'networks: {}', '--replace'));

  // The wire namespace is one IP stack: each test's peers use their own subnet.
  const VLANS = `
networks:
  red: { switch: ovs, nic: eth1, vlan: 100, ipaddr: 192.0.2.10, prefix: 24 }
  blue: { switch: ovs, nic: eth1, vlan: 200, ipaddr: 198.51.100.10, prefix: 24 }
`;

  test('two VLANs on one NIC: tagged ports, each reaches its peer, and they are isolated', async () => {
    await applied(h, VLANS);
    assert.deepEqual(lines(await vsctl(h, 'list-ports', 'br-eth1')), ['blue', 'eth1', 'red']);
    assert.equal(await vsctl(h, 'get', 'port', 'red', 'tag'), '100');
    assert.equal(await vsctl(h, 'get', 'port', 'blue', 'tag'), '200');
    assert.equal(await vsctl(h, 'get', 'port', 'eth1', 'tag'), '[]', 'the NIC is the trunk');
    assert.equal(await vsctl(h, 'get', 'interface', 'red', 'type'), 'internal');
    assert.deepEqual(addrs(await link(h, 'red')), ['192.0.2.10/24']);
    assert.deepEqual(addrs(await link(h, 'blue')), ['198.51.100.10/24']);

    // The switch port on the far end: peer1 a trunk, an access port per VLAN. A ping that
    // comes back through w100/w200 proves the frames crossed the cable with the right tag.
    await wire.vsctl('add-br', 'wbr1', '--', 'set', 'bridge', 'wbr1', 'datapath_type=netdev', '--', 'add-port', 'wbr1', 'peer1',
      '--', 'add-port', 'wbr1', 'w100', 'tag=100', '--', 'set', 'interface', 'w100', 'type=internal',
      '--', 'add-port', 'wbr1', 'w200', 'tag=200', '--', 'set', 'interface', 'w200', 'type=internal');
    await wireIp(h, 'addr add 192.0.2.1/24 dev w100', 'link set w100 up', 'addr add 198.51.100.1/24 dev w200', 'link set w200 up');
    await ping(h, '192.0.2.10');
    await ping(h, '198.51.100.10');

    // From VLAN 100, try blue: an address of its subnet on w100, and blue's MAC as the
    // neighbour, so the frame is exactly right but for its VLAN. (Left to ARP, the host's
    // own weak-host reply on `red` would muddle what is being shown.)
    const blueMac = (await link(h, 'blue')).address;
    await wireIp(h, 'addr add 198.51.100.2/24 dev w100', `neigh replace 198.51.100.10 lladdr ${blueMac} dev w100 nud permanent`);
    const leak = await h.sh(['ping', '-c', '2', '-W', '1', '-I', 'w100', '198.51.100.10'], 'wire');
    assert.notEqual(leak.code, 0, `VLAN 100 reached the VLAN 200 address:\n${leak.stdout}`);
    await ping(h, '198.51.100.10', '-I', 'w200'); // the same through VLAN 200 works
    await wireIp(h, 'addr del 198.51.100.2/24 dev w100');
  });

  test('untagged networks on two NICs: one bridge each, both reachable', async () => {
    await applied(h, `
networks:
  left: { switch: ovs, nic: eth0, ipaddr: 203.0.113.10, prefix: 28 }
  right: { switch: ovs, nic: eth2, ipaddr: 203.0.113.26, prefix: 28 }
`);
    for (const [bridge, net, nic] of [['br-eth0', 'left', 'eth0'], ['br-eth2', 'right', 'eth2']]) {
      assert.deepEqual(lines(await vsctl(h, 'list-ports', bridge)), [nic, net].sort());
      assert.equal(await vsctl(h, 'get', 'bridge', bridge, 'datapath_type'), 'netdev');
      assert.equal(await vsctl(h, 'get', 'port', net, 'tag'), '[]');
    }
    await wireIp(h, 'addr add 203.0.113.1/28 dev peer0', 'addr add 203.0.113.17/28 dev peer2');
    await ping(h, '203.0.113.10');
    await ping(h, '203.0.113.26');
  });

  test("an untagged network's port carries untagged frames only, not every VLAN's", async () => {
    await applied(h, `
networks:
  left: { switch: ovs, nic: eth0, ipaddr: 203.0.113.10, prefix: 28 }
  lv100: { switch: ovs, nic: eth0, vlan: 100, bridged: false }
`);
    assert.equal(await vsctl(h, 'get', 'port', 'left', 'trunks'), '[0]');
    // OVS's own forwarding decision for a broadcast from the NIC: which datapath ports get it.
    const dpPort = (await h.sh(['ovs-appctl', 'dpif/show'])).stdout.match(/^\s+left \d+\/(\d+):/m)?.[1];
    assert.ok(dpPort, 'left has a datapath port');
    const outputs = async (flow: string) => {
      const trace = (await h.sh(['ovs-appctl', 'ofproto/trace', 'br-eth0', `in_port=eth0,dl_dst=ff:ff:ff:ff:ff:ff${flow}`])).stdout;
      return (trace.match(/^Datapath actions: (.*)$/m)?.[1] ?? '').split(',').filter((a) => /^\d+$/.test(a));
    };
    assert.ok((await outputs('')).includes(dpPort), 'untagged frames reach it');
    assert.ok(!(await outputs(',dl_vlan=100')).includes(dpPort), 'VLAN 100 frames do not');
    await ping(h, '203.0.113.10');
    assert.equal((await h.cli(['apply', '-'], { input: 'networks: { lv100: { remove: true } }' })).code, 0);
  });

  test('multicast snooping: enabled on its bridge, and a group joined on the wire is learned', async () => {
    await applied(h, `
networks:
  mcast: { switch: ovs, nic: eth3, multicastSnooping: true, ipaddr: 203.0.113.42, prefix: 28 }
  quiet: { switch: ovs, nic: eth0 }
`);
    assert.equal(await vsctl(h, 'get', 'bridge', 'br-eth3', 'mcast_snooping_enable'), 'true');
    assert.equal(await vsctl(h, 'get', 'bridge', 'br-eth0', 'mcast_snooping_enable'), 'false', 'only the snooping network\'s bridge');
    await wireIp(h, 'addr add 203.0.113.33/28 dev peer3');
    await ping(h, '203.0.113.42');
    // autojoin makes peer3 send an IGMP report into eth3; the bridge learns the group there.
    await wireIp(h, 'addr add 239.1.2.3/32 dev peer3 autojoin');
    const ofport = await vsctl(h, 'get', 'interface', 'eth3', 'ofport');
    let mdb = '';
    const learned = await eventually(async () => {
      mdb = await appctl(h, 'mdb/show', 'br-eth3');
      return mdb.split('\n').some((row) => {
        const [port, , group] = row.trim().split(/\s+/);
        return group === '239.1.2.3' && (port === ofport || port === 'eth3');
      });
    }, 5_000);
    assert.ok(learned, `239.1.2.3 on eth3 (ofport ${ofport}) in:\n${mdb}`);
  });

  test('re-applying plans nothing; removing networks removes their ports, then the bridge', async () => {
    await applied(h, VLANS);
    const plan = await h.cli(['-o', 'json', 'plan', '-'], { input: VLANS });
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual(JSON.parse(plan.stdout).steps, []);
    const before = await wholeHost(h);
    const again = await apply(h, VLANS, '-o', 'json');
    assert.equal(JSON.parse(again.stdout).status, 'unchanged', again.stderr);
    assert.deepEqual(await wholeHost(h), before);

    await applied(h, 'networks: { blue: { remove: true } }');
    assert.deepEqual(lines(await vsctl(h, 'list-ports', 'br-eth1')), ['eth1', 'red']);
    assert.equal(await link(h, 'blue'), undefined, 'the internal device went with its port');
    await ping(h, '192.0.2.10'); // the other VLAN carries on

    await applied(h, 'networks: { red: { remove: true } }');
    assert.deepEqual(lines(await vsctl(h, 'list-br')), [], 'the last network took its bridge');
    for (const table of ['Bridge', 'Port', 'Interface']) assert.deepEqual(await ownedRows(h, table), [], table);
  });

  test('moving a network to another NIC keeps its address', async () => {
    const mover = (nic: string) => `networks: { mover: { switch: ovs, nic: ${nic}, bridged: false, ipaddr: 203.0.113.10, prefix: 28 } }`;
    await applied(h, mover('eth0'));
    const r = await apply(h, mover('eth1'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(await vsctl(h, 'list-ports', 'br-eth1')), ['eth1', 'mover']);
    const moved = await link(h, 'mover');
    assert.deepEqual(addrs(moved), ['203.0.113.10/28']);
    assert.ok(moved.flags.includes('UP'));
  });
});

describe('OVS switch: an 802.3ad bond against an LACP peer', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  let wire: WireOvs;
  before(async () => {
    h = await createSandbox({ prefix: PREFIX });
    wire = await startWireOvs(h);
    // The switch: an LACP bond over peer2+peer3 and an address behind it.
    await wire.vsctl('add-br', 'wbr', '--', 'set', 'bridge', 'wbr', 'datapath_type=netdev',
      '--', 'add-bond', 'wbr', 'wbond', 'peer2', 'peer3', 'bond_mode=balance-tcp', 'lacp=active', 'other_config:lacp-time=fast',
      '--', 'add-port', 'wbr', 'wip', '--', 'set', 'interface', 'wip', 'type=internal');
    await wireIp(h, 'addr add 203.0.113.1/24 dev wip', 'link set wip up');
    // On the userspace datapath a NIC stays in the kernel's IP stack too, and by default it
    // answers ARP for any of the host's addresses with its own MAC: the peer may then send to
    // eth3's MAC over eth2 and lose every packet. Only the internal port may answer.
    for (const nic of ['eth2', 'eth3']) assert.equal((await h.sh(['sysctl', '-qw', `net.ipv4.conf.${nic}.arp_ignore=1`])).code, 0);
  });
  after(async () => {
    await wire?.stop();
    await h?.down();
  });

  const bondShow = () => appctl(h, 'bond/show', 'bond0');
  const pingWithin = (target: string, ms: number) =>
    eventually(async () => (await h.sh(['ping', '-c', '1', '-W', '1', target], 'wire')).code === 0, ms);

  test('kernel options mapped, LACP negotiated, traffic flows and survives losing a member', async () => {
    await applied(h, `
networks:
  bonded: { switch: ovs, bonding: bond0, ipaddr: 203.0.113.10, prefix: 24 }
bondings:
  bond0: { switch: ovs, nics: [eth2, eth3], options: "mode=802.3ad miimon=100 lacp_rate=fast" }
`);
    assert.deepEqual(lines(await vsctl(h, 'list-ports', 'br-bond0')), ['bond0', 'bonded']);
    assert.deepEqual(lines(await vsctl(h, 'list-ifaces', 'br-bond0')), ['bonded', 'eth2', 'eth3']);
    assert.equal(await vsctl(h, 'get', 'port', 'bond0', 'bond_mode'), 'balance-tcp');
    assert.equal(await vsctl(h, 'get', 'port', 'bond0', 'lacp'), 'active');
    assert.equal(await vsctl(h, 'get', 'port', 'bond0', 'other_config'), '{bond-detect-mode=miimon, bond-miimon-interval=100, lacp-time=fast}');

    // LACP on the userspace datapath settles within a few fast-rate periods; the bond enables
    // its members a moment after both ends agree (may_enable follows the LACP state).
    let show = '';
    let lacp = '';
    const negotiated = await eventually(async () => {
      [show, lacp] = [await bondShow(), await appctl(h, 'lacp/show', 'bond0')];
      const agreed = /lacp_status: negotiated/.test(show) && /status: active negotiated/.test(lacp) && (lacp.match(/current attached/g) ?? []).length === 2;
      return agreed && /member eth2: enabled/.test(show) && /member eth3: enabled/.test(show);
    }, 15_000);
    assert.ok(negotiated, `LACP negotiated and both members enabled:\n${show}\n${lacp}`);
    assert.match((await wire.appctl('bond/show', 'wbond')).stdout, /lacp_status: negotiated/, 'the peer agrees');
    assert.ok(await pingWithin('203.0.113.10', 5_000), 'ping over the bond');
    const neigh: Json[] = await h.ipJson(['neigh', 'show', '203.0.113.10'], 'wire');
    assert.equal(neigh[0]?.lladdr, (await link(h, 'bonded')).address, 'answered by the internal port');

    // A member's cable goes dead: the bond drops it and traffic moves to the other.
    await wireIp(h, 'link set peer2 down');
    assert.ok(await eventually(async () => /member eth2: disabled/.test((show = await bondShow())), 5_000), show);
    assert.match(show, /member eth3: enabled/);
    assert.ok(await pingWithin('203.0.113.10', 10_000), `ping with eth2 down:\n${await bondShow()}`);
  });
});

describe('OVS switch: migration legacy -> ovs -> legacy', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    h = await createSandbox({ prefix: PREFIX });
    await wireIp(h, 'addr add 192.0.2.1/24 dev peer0', 'addr add 198.51.100.1/24 dev peer2', 'link set peer2 mtu 9000');
  });
  after(async () => h?.down());

  /** The setup networks answer from the wire, jumbo frames too. SETTLE_MS: NICs this apply
   * brought up for the first time need a moment for carrier (linkwatch). */
  async function pingsWork(settleMs = 0): Promise<void> {
    await eventually(async () => (await h.sh(['ping', '-c', '1', '-W', '1', '192.0.2.10'], 'wire')).code === 0, settleMs);
    await ping(h, '192.0.2.10');
    await ping(h, '198.51.100.10');
    await ping(h, '198.51.100.10', '-M', 'do', '-s', '8972');
  }

  const linuxBridges = async () => ((await h.ipJson(['link', 'show', 'type', 'bridge'])) as Json[]).map((l) => l.ifname).sort();
  const defaultRoutes = async () => ((await h.ipJson(['route', 'show', 'default'])) as Json[]).map((r) => `${r.gateway} ${r.dev}`);

  test('legacy: Linux bridges, no OVS rows, pings work', async () => {
    await applied(h, setup('legacy'));
    assert.deepEqual(await linuxBridges(), ['ovirtmgmt', 'vmnet']);
    assert.deepEqual(await ownedRows(h, 'Bridge'), []);
    await pingsWork(15_000);
  });

  test('a request moving only some networks to OVS is refused (mixed switch types) and changes nothing', async () => {
    const before = await wholeHost(h);
    const r = await apply(h, 'networks: { ovirtmgmt: { switch: ovs, nic: eth0, ipaddr: 192.0.2.10, prefix: 24, gateway: 192.0.2.1, defaultRoute: true } }');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /mix switch types/);
    assert.deepEqual(await wholeHost(h), before);
  });

  test('legacy -> ovs: one OVS bridge per NIC, no Linux bridges left, pings work', async () => {
    await applied(h, setup('ovs'));
    assert.deepEqual(await linuxBridges(), []);
    assert.deepEqual(lines(await vsctl(h, 'list-br')), ['br-eth0', 'br-eth1', 'br-eth2']);
    for (const [bridge, net, nic] of [['br-eth0', 'ovirtmgmt', 'eth0'], ['br-eth1', 'vmnet', 'eth1'], ['br-eth2', 'storage', 'eth2']]) {
      assert.deepEqual(lines(await vsctl(h, 'list-ports', bridge)), [nic, net].sort());
    }
    assert.equal(await vsctl(h, 'get', 'interface', 'storage', 'mtu_request'), '9000');
    assert.equal((await link(h, 'storage')).mtu, 9000);
    assert.equal((await link(h, 'eth2')).mtu, 9000);
    assert.deepEqual(addrs(await link(h, 'ovirtmgmt')), ['192.0.2.10/24']);
    assert.deepEqual(addrs(await link(h, 'eth0')), [], 'the address moved to the internal port');
    assert.deepEqual(await defaultRoutes(), ['192.0.2.1 ovirtmgmt']);
    await pingsWork();
  });

  test('ovs -> legacy left pending, then rolled back: a proven rollback (OVS re-makes its datapath device with a new MAC), pings work', async () => {
    const before = await wholeHost(h);
    await applied(h, setup('legacy'), '--no-commit');
    assert.deepEqual(lines(await vsctl(h, 'list-br')), [], 'the OVS bridges, and with them its datapath device, are gone');
    const r = await h.cli(['rollback']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(await vsctl(h, 'list-br')), ['br-eth0', 'br-eth1', 'br-eth2']);
    assert.deepEqual(await wholeHost(h), before);
    await pingsWork();
  });

  test('ovs -> legacy killed after its first OVS bridge went: recovery undoes only the steps that ran', async () => {
    const before = await wholeHost(h);
    const plan: { description: string }[] = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: setup('legacy') })).stdout).steps;
    const firstBridgeGone = plan.findIndex((s) => s.description.startsWith('delete OVS bridge'));
    assert.ok(firstBridgeGone >= 0 && plan.some((s) => s.description.startsWith('create bridge')), plan.map((s) => s.description).join('; '));
    // Killed once steps 1..firstBridgeGone+1 ran: the other OVS bridges and every Linux bridge
    // (named like the internal ports still there) never started. Undoing those would delete
    // the internal ports (the undo of "create bridge vmnet" is `ip link del dev vmnet`).
    const crashed = await applyWithEnv(h, setup('legacy'), [`NETSWITCH_CRASH_STEP=${firstBridgeGone + 2}`]);
    assert.notEqual(crashed.code, 0);
    const r = await h.cli(['rollback']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`steps 1-${firstBridgeGone + 1} of ${plan.length} may have run`));
    assert.deepEqual(await wholeHost(h), before);
    await pingsWork();
  });

  test('ovs -> legacy: Linux bridges back, no netswitch rows in OVSDB, pings work', async () => {
    await applied(h, setup('legacy'));
    for (const table of ['Bridge', 'Port', 'Interface']) assert.deepEqual(await ownedRows(h, table), [], table);
    assert.deepEqual(lines(await vsctl(h, 'list-br')), []);
    assert.deepEqual(await linuxBridges(), ['ovirtmgmt', 'vmnet']);
    assert.equal((await link(h, 'eth0')).master, 'ovirtmgmt');
    assert.deepEqual(await defaultRoutes(), ['192.0.2.1 ovirtmgmt']);
    await pingsWork();
  });
});

describe('OVS switch: a failed apply leaves OVSDB and the kernel as they were', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    h = await createSandbox({ prefix: PREFIX });
    // A bridge that is not netswitch's, so the comparison covers rows it must never touch.
    await vsctl(h, 'add-br', 'br-foreign', '--', 'set', 'bridge', 'br-foreign', 'datapath_type=netdev', 'other_config:test=1');
    await wireIp(h, 'addr add 192.0.2.1/24 dev peer0');
  });
  after(async () => h?.down());

  // legacy -> ovs plus a tagged port: Linux steps before the OVS transaction (the legacy
  // bridges go) and after it (ups, addresses, routes).
  const MIGRATE = `${setup('ovs')}  tagged: { switch: ovs, nic: eth0, vlan: 42 }\n`;

  /** The 1-based number of YAML's last step, checked to be a Linux step after an OVS one. */
  async function lastStepAfterOvs(yaml: string): Promise<number> {
    const plan = await h.cli(['-o', 'json', 'plan', '-'], { input: yaml });
    assert.equal(plan.code, 0, plan.stderr);
    const steps: { description: string; commands: string[] }[] = JSON.parse(plan.stdout).steps;
    const last = steps.length - 1;
    assert.match(steps[last].commands[0], /^ip /, steps[last].description);
    assert.ok(steps.slice(0, last).some((s) => s.commands[0].startsWith('ovs-vsctl')), 'an OVS step comes first');
    return last + 1;
  }

  test('OVS refusing the bridges (no kernel datapath) fails legacy -> ovs and restores everything', async () => {
    await applied(h, setup('legacy'));
    const before = await wholeHost(h);
    const r = await applyWithEnv(h, MIGRATE, ['NETSWITCH_OVS_DATAPATH=system']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /rolled back/);
    assert.deepEqual(await wholeHost(h), before);
    await ping(h, '192.0.2.10');
  });

  test('a fault at a Linux step after the OVS transaction rolls back the OVS rows too', async () => {
    await applied(h, setup('legacy'));
    const step = await lastStepAfterOvs(MIGRATE);
    const before = await wholeHost(h);
    const r = await applyWithEnv(h, MIGRATE, [`NETSWITCH_FAULT_STEP=${step}`]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /rolled back/);
    assert.deepEqual(await wholeHost(h), before);
    assert.deepEqual(lines(await vsctl(h, 'list-br')), ['br-foreign']);
    await ping(h, '192.0.2.10');
  });

  test('the failure names the step by its number in the plan', async () => {
    await applied(h, setup('legacy'));
    const step = await lastStepAfterOvs(MIGRATE);
    const r = await applyWithEnv(h, MIGRATE, [`NETSWITCH_FAULT_STEP=${step}`]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`step ${step} \\(`));
  });

  test('a fault after an OVS network removal restores its port as it was', async () => {
    const storage = (ip: string) => `storage: { switch: ovs, nic: eth2, bridged: false, ipaddr: ${ip}, prefix: 24 }`;
    await applied(h, `networks:\n  vmnet: { switch: ovs, nic: eth1 }\n  ${storage('198.51.100.10')}\n`, '--replace');
    const removal = `networks:\n  vmnet: { remove: true }\n  ${storage('198.51.100.11')}\n`;
    const step = await lastStepAfterOvs(removal);
    const before = await wholeHost(h);
    const r = await applyWithEnv(h, removal, [`NETSWITCH_FAULT_STEP=${step}`]);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(await wholeHost(h), before);
  });

  test("a fault after the OVS transaction puts a jumbo NIC's MTU back (OVS has let it go by then)", async () => {
    await applied(h, 'networks: {}', '--replace');
    const jumbo = 'networks: { storage: { switch: ovs, nic: eth3, bridged: false, mtu: 9000, ipaddr: 198.51.100.10, prefix: 24 } }';
    const step = await lastStepAfterOvs(jumbo);
    const before = await wholeHost(h);
    const r = await applyWithEnv(h, jumbo, [`NETSWITCH_FAULT_STEP=${step}`]);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(await wholeHost(h), before);
    assert.equal((await link(h, 'eth3')).mtu, 1500);
  });

  test('OVS refusing re-created bridges (datapath change) restores the existing ones', async () => {
    const storage = 'networks: { storage: { switch: ovs, nic: eth2, bridged: false, ipaddr: 198.51.100.10, prefix: 24 } }';
    await applied(h, storage, '--replace');
    const before = await wholeHost(h);
    const r = await apply(h, storage, '--ovs-datapath', 'system');
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(await wholeHost(h), before);
  });

  test('another default datapath leaves existing bridges alone; an unknown one is refused', async () => {
    const before = await wholeHost(h);
    const other = await applyWithEnv(h, 'networks: {}', ['NETSWITCH_OVS_DATAPATH=system']);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stdout + other.stderr, /unchanged/);
    const bad = await applyWithEnv(h, 'networks: {}', ['NETSWITCH_OVS_DATAPATH=foo']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /NETSWITCH_OVS_DATAPATH: unknown OVS datapath type "foo"/);
    const flag = await apply(h, 'networks: {}', '--ovs-datapath', 'foo');
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /--ovs-datapath: unknown OVS datapath type "foo"/);
    assert.deepEqual(await wholeHost(h), before);
  });
});
