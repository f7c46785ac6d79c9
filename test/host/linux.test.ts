// Host tier: the Linux switch on the real kernel, in a sandbox host. Every assertion reads
// the host with `ip -json` (never only with netswitch's own reader), and traffic crosses the
// sandbox's cables where it matters.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { report } from '../../src/model/report.ts';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';
import { hostState } from './lib/host-state.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'netswitch');
const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

const SETUP = `
networks:
  ovirtmgmt: { nic: eth0, ipaddr: 192.0.2.10, netmask: 255.255.255.0, gateway: 192.0.2.1, defaultRoute: true }
  vmnet: { nic: eth1, bridged: true, custom: { bridge_opts: "forward_delay=0" } }
  storage: { nic: eth2, bridged: false, mtu: 9000, ipaddr: 198.51.100.10, prefix: 24 }
`;

// ip's JSON is loosely typed; the tests name the fields they check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function link(h: SandboxHarness, name: string): Promise<Json | undefined> {
  const links: Json[] = await h.ipJson(['-d', 'addr', 'show']);
  return links.find((l) => l.ifname === name);
}

function addrs(l: Json): string[] {
  return (l?.addr_info ?? []).filter((a: Json) => a.scope !== 'link').map((a: Json) => `${a.local}/${a.prefixlen}`);
}

async function defaultRoutes(h: SandboxHarness): Promise<string[]> {
  const routes: Json[] = await h.ipJson(['route', 'show', 'default']);
  return routes.map((r) => `${r.gateway} ${r.dev}`);
}

async function apply(h: SandboxHarness, yaml: string, ...args: string[]) {
  return h.cli(['apply', ...args, '-'], { input: yaml });
}

describe('Linux switch on the host kernel', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    await cleanupLeftovers('tl');
    h = await createSandbox({ prefix: 'tl', ovs: false });
  });
  after(async () => h?.down());

  test('apply creates bridged, bridgeless and default-route networks', async () => {
    const r = await apply(h, SETUP);
    assert.equal(r.code, 0, r.stderr);
    const mgmt = await link(h, 'ovirtmgmt');
    assert.equal(mgmt.linkinfo.info_kind, 'bridge');
    assert.deepEqual(addrs(mgmt), ['192.0.2.10/24']);
    assert.equal((await link(h, 'eth0')).master, 'ovirtmgmt');
    const vmnet = await link(h, 'vmnet');
    assert.equal(vmnet.linkinfo.info_data.forward_delay, 0);
    assert.equal((await link(h, 'eth1')).master, 'vmnet');
    const eth2 = await link(h, 'eth2');
    assert.equal(eth2.mtu, 9000);
    assert.equal(eth2.master, undefined);
    assert.deepEqual(addrs(eth2), ['198.51.100.10/24']);
    assert.ok(eth2.flags.includes('UP'));
    assert.equal(await link(h, 'storage'), undefined, 'a bridgeless network has no bridge');
    assert.deepEqual(await defaultRoutes(h), ['192.0.2.1 ovirtmgmt']);
  });

  test('re-applying the applied config plans nothing and changes nothing', async () => {
    const before = await hostState(h);
    const plan = await h.cli(['-o', 'json', 'plan', '-'], { input: SETUP });
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual(JSON.parse(plan.stdout).steps, []);
    const r = await apply(h, SETUP, '-o', 'json');
    assert.equal(JSON.parse(r.stdout).status, 'unchanged');
    assert.equal(await hostState(h), before);
  });

  test('an address on a network answers pings from the wire', async () => {
    await h.sh(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'peer0'], 'wire');
    await h.sh(['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'peer2'], 'wire');
    await h.sh(['ip', 'link', 'set', 'peer2', 'mtu', '9000'], 'wire');
    for (const target of ['192.0.2.10', '198.51.100.10']) {
      const ping = await h.sh(['ping', '-c', '1', '-W', '2', target], 'wire');
      assert.equal(ping.code, 0, `ping ${target}: ${ping.stdout}${ping.stderr}`);
    }
    // Jumbo frames cross the 9000-byte storage network unfragmented.
    const jumbo = await h.sh(['ping', '-c', '1', '-W', '2', '-M', 'do', '-s', '8972', '198.51.100.10'], 'wire');
    assert.equal(jumbo.code, 0, jumbo.stdout + jumbo.stderr);
  });

  test('a plan printed by `netswitch plan` changes nothing', async () => {
    const before = await hostState(h);
    const plan = await h.cli(['plan', join(EXAMPLES, 'change.yaml')]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /ip link set dev eth2 mtu 1500/);
    assert.match(plan.stdout, /ip link add name internal mtu 1500 type bridge/);
    assert.equal(await hostState(h), before);
  });

  test('change: address, MTU, and bridged to bridgeless', async () => {
    const r = await apply(h, `
networks:
  ovirtmgmt: { nic: eth0, bridged: false, ipaddr: 192.0.2.11, prefix: 24, gateway: 192.0.2.1, defaultRoute: true }
  storage: { nic: eth2, bridged: false, mtu: 1500, ipaddr: 198.51.100.10, prefix: 24 }
`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await link(h, 'ovirtmgmt'), undefined, 'the bridge is gone');
    const eth0 = await link(h, 'eth0');
    assert.equal(eth0.master, undefined);
    assert.deepEqual(addrs(eth0), ['192.0.2.11/24']);
    assert.deepEqual(await defaultRoutes(h), ['192.0.2.1 eth0']);
    assert.equal((await link(h, 'eth2')).mtu, 1500);
    const ping = await h.sh(['ping', '-c', '1', '-W', '2', '192.0.2.11'], 'wire');
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  test('a failure in the middle of an apply is rolled back to an identical host', async () => {
    const before = await hostState(h);
    // The bond is refused by this kernel (no bonding driver) after several steps took effect.
    const change = `
networks:
  vmnet: { remove: true }
  storage: { nic: eth2, bridged: false, mtu: 9000, ipaddr: 198.51.100.12, prefix: 24 }
  ovirtmgmt: { nic: eth0, bridged: true, ipaddr: 192.0.2.12, prefix: 24, gateway: 192.0.2.1, defaultRoute: true }
  bonded: { bonding: bond0, ipaddr: 203.0.113.9, prefix: 24 }
bondings:
  bond0: { nics: [eth3], options: "mode=active-backup miimon=100" }
`;
    const r = await apply(h, change);
    if (r.code === 0) {
      // A kernel with bonding: the fault-injection run below proves the rollback instead.
      await apply(h, 'networks: { bonded: { remove: true } }\nbondings: { bond0: { remove: true } }');
    } else {
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /rolled back/);
      assert.equal(await hostState(h), before);
    }
    // Without the bond, with a refusal injected at step 5 of its plan (NETSWITCH_FAULT_STEP).
    const noBond = change.replace(/ {2}bonded:.*\n/, '').replace(/bondings:\n.*\n/, '');
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: noBond })).stdout);
    assert.ok(plan.steps.length > 5, `the change has more than five steps: ${plan.steps.join('; ')}`);
    const file = join(h.sb.dir, 'no-bond.yaml');
    await writeFile(file, noBond);
    const faulty = await h.sh(['env', 'NETSWITCH_FAULT_STEP=5', BIN, 'apply', file]);
    assert.equal(faulty.code, 3, faulty.stderr);
    assert.match(faulty.stderr, /rolled back/);
    assert.equal(await hostState(h), before);
  });

  test('a step the kernel refuses whole changed nothing: the rollback leaves it out', async (t) => {
    const before = await hostState(h);
    // This kernel has no bonding driver (TESTING.md): creating the bond is refused in one
    // request, after the jumbo MTU of eth2 took effect.
    const change = `
networks:
  storage: { nic: eth2, bridged: false, mtu: 9000, ipaddr: 198.51.100.12, prefix: 24 }
  bonded: { bonding: bond0, ipaddr: 203.0.113.9, prefix: 24 }
bondings:
  bond0: { nics: [eth3], options: "mode=active-backup" }
`;
    const log = join(h.sb.stateDir, 'netswitch.log');
    const logBefore = await readFile(log, 'utf8').catch(() => '');
    const r = await apply(h, change);
    if (r.code === 0) {
      await apply(h, 'networks: { bonded: { remove: true }, storage: { remove: true } }\nbondings: { bond0: { remove: true } }');
      t.skip('this kernel has bonding: no refusal to observe');
      return;
    }
    assert.equal(r.code, 3, r.stderr);
    const failed = Number(/step (\d+) \(create bond bond0\b.*?\) failed/.exec(r.stderr)?.[1]);
    assert.ok(failed > 1, `the bond is not the first step: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`rolling back ${failed - 1} steps?\\b`), 'every step before the refused one is undone, not the refused one');
    const rollback = (await readFile(log, 'utf8')).slice(logBefore.length).split(' rollback (')[1] ?? '';
    assert.match(rollback, /undo 1:/);
    assert.doesNotMatch(rollback, /link del dev bond0/);
    assert.equal(await hostState(h), before);
  });

  test('a bad request is refused with every problem and changes nothing', async () => {
    const before = await hostState(h);
    const r = await h.cli(['apply', join(EXAMPLES, 'bad.yaml')]);
    assert.equal(r.code, 2);
    for (const path of ['networks.bad.net.vlan', 'networks.both', 'networks.twice.gateway', 'networks.twice.colour', 'networks.twice.ipaddr']) {
      assert.ok(r.stderr.includes(path), `${path} in:\n${r.stderr}`);
    }
    assert.equal(await hostState(h), before);
  });

  test('remove takes the network away and frees its NIC', async () => {
    await apply(h, SETUP);
    const r = await apply(h, 'networks: { vmnet: { remove: true } }');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await link(h, 'vmnet'), undefined);
    const eth1 = await link(h, 'eth1');
    assert.equal(eth1.master, undefined);
    assert.ok(await link(h, 'ovirtmgmt'), 'networks not named stay');
  });

  test('--replace removes what the request does not name', async () => {
    const r = await apply(h, 'networks: { storage: { nic: eth2, bridged: false, ipaddr: 198.51.100.10, prefix: 24 } }', '--replace');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await link(h, 'ovirtmgmt'), undefined);
    assert.deepEqual(addrs(await link(h, 'eth0')), []);
    assert.deepEqual(await defaultRoutes(h), []);
    assert.deepEqual(addrs(await link(h, 'eth2')), ['198.51.100.10/24']);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.deepEqual(Object.keys(show.kernel_config.networks), ['storage']);
    assert.equal(show.kernel_config.networks.storage.nic, 'eth2');
    assert.equal(show.kernel_config.networks.storage.ipaddr, '198.51.100.10');
  });

  test('static IPv6 address and IPv6 default route, answering pings from the wire', async () => {
    const r = await apply(h, `
networks:
  v6net: { nic: eth3, ipaddr: 192.0.2.33, prefix: 28, gateway: 192.0.2.34, ipv6addr: "2001:db8:3::10/64", ipv6gateway: "2001:db8:3::1", defaultRoute: true }
`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(addrs(await link(h, 'v6net')).sort(), ['192.0.2.33/28', '2001:db8:3::10/64']);
    const routes6: Json[] = await h.ipJson(['-6', 'route', 'show', 'default']);
    assert.deepEqual(routes6.map((x) => `${x.gateway} ${x.dev}`), ['2001:db8:3::1 v6net']);
    await h.sh(['ip', 'addr', 'add', '2001:db8:3::1/64', 'dev', 'peer3', 'nodad'], 'wire');
    // Until DAD on the host side completes the address is tentative: retry for a few seconds.
    let ping = await h.sh(['ping', '-6', '-c', '1', '-W', '1', '2001:db8:3::10'], 'wire');
    for (let i = 0; i < 15 && ping.code !== 0; i++) ping = await h.sh(['ping', '-6', '-c', '1', '-W', '1', '2001:db8:3::10'], 'wire');
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.equal(show.kernel_config.networks.v6net.ipv6addr, '2001:db8:3::10/64');
    assert.equal(show.kernel_config.networks.v6net.ipv6gateway, '2001:db8:3::1');
    const r2 = await apply(h, 'networks: { v6net: { remove: true } }');
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(await h.ipJson(['-6', 'route', 'show', 'default']), []);
  });

  test('source routing: replies leave by the network the request came in on', async () => {
    const r = await apply(h, `
networks:
  neta: { nic: eth0, bridged: false, ipaddr: 192.0.2.10, prefix: 24, gateway: 192.0.2.1, defaultRoute: true, nameservers: [192.0.2.53, 192.0.2.54] }
  netb: { nic: eth1, bridged: false, ipaddr: 198.51.100.10, prefix: 24, gateway: 198.51.100.1 }
`, '--replace');
    assert.equal(r.code, 0, r.stderr);
    // The kernel's own answer: from netb's address, the way out is netb's gateway.
    const viaB: Json[] = await h.ipJson(['route', 'get', '203.0.113.5', 'from', '198.51.100.10']);
    assert.equal(viaB[0].dev, 'eth1');
    assert.equal(viaB[0].gateway, '198.51.100.1');
    const viaMain: Json[] = await h.ipJson(['route', 'get', '203.0.113.5']);
    assert.equal(viaMain[0].dev, 'eth0', 'anything else takes the default route');
    // Traffic: a remote host (203.0.113.5, behind both gateways on the wire) pings netb's
    // address; the replies come back on the netb cable, not by the default route.
    for (const [argv, ns] of [
      [['ip', 'addr', 'add', '203.0.113.5/32', 'dev', 'lo'], 'wire'],
      [['ip', 'addr', 'replace', '198.51.100.1/24', 'dev', 'peer1'], 'wire'],
      [['ip', 'addr', 'replace', '192.0.2.1/24', 'dev', 'peer0'], 'wire'],
    ] as const) await h.sh(argv, ns);
    const rx = async (dev: string) => Number((await h.ipJson(['-s', 'link', 'show', 'dev', dev], 'wire'))[0].stats64.rx.packets);
    const [a0, b0] = [await rx('peer0'), await rx('peer1')];
    const ping = await h.sh(['ping', '-c', '5', '-i', '0.2', '-W', '2', '-I', '203.0.113.5', '198.51.100.10'], 'wire');
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const [a1, b1] = [await rx('peer0'), await rx('peer1')];
    assert.ok(b1 - b0 >= 5, `5 replies on the netb cable (got ${b1 - b0})`);
    assert.ok(a1 - a0 < 5, `no replies by the default route (got ${a1 - a0} packets there)`);
    // DNS: the default-route network's nameservers, in the sandbox's resolv.conf.
    const resolv = await readFile(join(h.sb.dir, 'resolv.conf'), 'utf8');
    assert.match(resolv, /^nameserver 192\.0\.2\.53\nnameserver 192\.0\.2\.54\n$/m);
    const r2 = await apply(h, 'networks: { netb: { remove: true } }');
    assert.equal(r2.code, 0, r2.stderr);
    const rules: Json[] = await h.ipJson(['rule', 'show']);
    assert.deepEqual(rules.filter((x) => x.priority === 32000).map((x) => x.src), ['192.0.2.0'], 'netb\'s rule is gone, neta\'s stays');
  });

  test('NIC-less bridged network, STP and the report', async () => {
    const r = await apply(h, 'networks: { internal: { bridged: true, stp: true, ipaddr: 203.0.113.1, prefix: 24 } }');
    assert.equal(r.code, 0, r.stderr);
    const br = await link(h, 'internal');
    assert.equal(br.linkinfo.info_data.stp_state, 1);
    assert.deepEqual(addrs(br), ['203.0.113.1/24']);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.equal(show.capabilities.bridges.internal.stp, true);
    assert.deepEqual(show.capabilities.networks.internal.ipv4addrs, ['203.0.113.1/24']);
    assert.equal(show.kernel_config.networks.internal.stp, true);
    assert.ok('Success' in show.setupStatus);
    assert.ok(show.statistics.eth2, 'statistics per interface');
    // The whole report keeps to the contract (STATE-FORMAT.md, as the model's schema has it).
    report.parse(show);
  });

  test('IPv6 autoconfiguration follows ipv6autoconf (router advertisements and SLAAC)', async () => {
    const sysctl = async (dev: string, key: string) => (await h.sh(['cat', `/proc/sys/net/ipv6/conf/${dev}/${key}`])).stdout.trim();
    assert.deepEqual([await sysctl('internal', 'accept_ra'), await sysctl('internal', 'autoconf')], ['0', '0'], 'off by default on a network device');
    const r = await apply(h, 'networks: { internal: { bridged: true, ipv6autoconf: true } }');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([await sysctl('internal', 'accept_ra'), await sysctl('internal', 'autoconf')], ['2', '1']);
    const show = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: 'networks: { internal: { bridged: true, ipv6autoconf: true } }' })).stdout);
    assert.deepEqual(show.steps, [], 'read back: nothing left to do');
  });

  test("an administrator's route through a NIC that loses its address: removed explicitly, restored by rollback", async () => {
    assert.equal((await apply(h, 'networks: {}', '--replace')).code, 0);
    for (const argv of [['ip', 'link', 'set', 'eth3', 'up'], ['ip', 'addr', 'add', '10.8.0.1/24', 'dev', 'eth3'], ['ip', 'route', 'add', '10.99.0.0/16', 'via', '10.8.0.254', 'dev', 'eth3']]) {
      assert.equal((await h.sh(argv)).code, 0, argv.join(' '));
    }
    const before = await hostState(h);
    const take = 'networks: { vmx: { nic: eth3, ipaddr: 10.8.0.1, prefix: 24 } }';
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: take })).stdout);
    assert.ok(plan.steps.some((s: Json) => /10\.99\.0\.0\/16/.test(s.commands.join(' ')) && /route del/.test(s.commands.join(' '))), 'the plan says the route goes');
    const r = await apply(h, take, '--no-commit');
    assert.equal(r.code, 0, r.stderr);
    const rb = await h.cli(['rollback']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(await hostState(h), before);
    const log = await readFile(join(h.sb.stateDir, 'netswitch.log'), 'utf8');
    assert.match(log, /rollback \(`netswitch rollback` of change [0-9a-f-]+\) by pid \d+: \d+ steps\n/);
    assert.match(log, /ip route add 10\.99\.0\.0\/16 via 10\.8\.0\.254 dev eth3 table main {2}# undo \d+: /);
    assert.match(log, /# rollback done: the host is as it was before the change\n$/);
    // The NIC's address changes within the subnet: the route comes back through it.
    const r2 = await apply(h, 'networks: { vmy: { nic: eth3, bridged: false, ipaddr: 10.8.0.2, prefix: 24 } }');
    assert.equal(r2.code, 0, r2.stderr);
    const routes: Json[] = await h.ipJson(['route', 'show', '10.99.0.0/16']);
    assert.deepEqual(routes.map((x) => `${x.gateway} ${x.dev}`), ['10.8.0.254 eth3']);
    assert.equal((await apply(h, 'networks: { vmy: { remove: true } }')).code, 0);
  });

  test('an MTU below 1280 (no IPv6 on the device) is applied, and rolled back exactly', async () => {
    assert.equal((await apply(h, 'networks: { n2: { nic: eth3, bridged: false, mtu: 1500 } }')).code, 0);
    const before = await hostState(h);
    const change = 'networks: { n3: { nic: eth3, bridged: false, mtu: 1000, ipaddr: 10.7.0.1, prefix: 24 }, n2: { remove: true } }';
    const r = await apply(h, change, '--no-commit');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await link(h, 'eth3')).mtu, 1000);
    const rb = await h.cli(['rollback']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(await hostState(h), before);
    const sysctl = async (key: string) => (await h.sh(['cat', `/proc/sys/net/ipv6/conf/eth3/${key}`])).stdout.trim();
    assert.deepEqual([await sysctl('accept_ra'), await sysctl('autoconf')], ['0', '0']);
    assert.equal((await apply(h, change)).code, 0);
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: change.replace(', n2: { remove: true }', '') })).stdout);
    assert.deepEqual(plan.steps, []);
    assert.equal((await apply(h, 'networks: { n2: { nic: eth3, bridged: false, mtu: 1500 }, n3: { remove: true } }')).code, 0);
    assert.deepEqual([await sysctl('accept_ra'), await sysctl('autoconf')], ['0', '0'], 'IPv6 is back, and netswitch set it again');
  });

  test('STP off and a forward delay STP would refuse, in one change', async () => {
    assert.equal((await apply(h, 'networks: { stpnet: { nic: eth2, stp: true } }')).code, 0);
    const r = await apply(h, 'networks: { stpnet: { nic: eth2, stp: false, custom: { bridge_opts: "forward_delay=0" } } }');
    assert.equal(r.code, 0, r.stderr);
    const br = await link(h, 'stpnet');
    assert.deepEqual([br.linkinfo.info_data.stp_state, br.linkinfo.info_data.forward_delay], [0, 0]);
    const back = await apply(h, 'networks: { stpnet: { nic: eth2, stp: true, custom: { bridge_opts: "forward_delay=400" } } }');
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual([(await link(h, 'stpnet')).linkinfo.info_data.stp_state, (await link(h, 'stpnet')).linkinfo.info_data.forward_delay], [1, 400]);
    assert.equal((await apply(h, 'networks: { stpnet: { remove: true } }')).code, 0);
  });

  test('more nameservers than the resolver reads: accepted, with a warning naming those never asked', async () => {
    const r = await h.cli(['plan', '-'], { input: 'networks: { dnsnet: { nic: eth2, ipaddr: 203.0.113.5, prefix: 24, gateway: 203.0.113.1, defaultRoute: true, nameservers: [192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4] } }' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: networks\.dnsnet\.nameservers: 4 servers, and the resolver uses the first 3 of resolv\.conf \(192\.0\.2\.4 would never be asked\)/);
  });

  test('a default-route network without a gateway: accepted, with a warning that the host loses its default route', async () => {
    const r = await h.cli(['plan', '-'], { input: 'networks: { nogw: { nic: eth2, ipaddr: 203.0.113.5, prefix: 24, defaultRoute: true } }' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: networks\.nogw: defaultRoute without a gateway: the host will have no IPv4 default route/);
    const withGateway = await h.cli(['plan', '-'], { input: 'networks: { nogw: { nic: eth2, ipaddr: 203.0.113.5, prefix: 24, gateway: 203.0.113.1, defaultRoute: true } }' });
    assert.doesNotMatch(withGateway.stderr, /defaultRoute without a gateway/);
  });

  test('a bridge made by hand, named as a network, is taken over as it is (VDSM), and removed with it', async () => {
    await h.sh(['ip', 'link', 'add', 'handbr', 'type', 'bridge']);
    await h.sh(['ip', 'link', 'add', 'hp0', 'type', 'veth', 'peer', 'name', 'hp1']);
    await h.sh(['ip', 'link', 'set', 'hp0', 'master', 'handbr']);
    await h.sh(['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'handbr']);
    const before = await link(h, 'handbr');
    const request = 'networks: { handbr: { nic: eth2, ipaddr: 203.0.113.77, prefix: 24 } }';
    const r = await apply(h, request);
    assert.equal(r.code, 0, r.stderr);
    const after = await link(h, 'handbr');
    assert.equal(after.ifindex, before.ifindex, 'the same bridge, not re-created');
    assert.deepEqual(addrs(after), ['203.0.113.77/24'], 'its addresses are the network\'s');
    assert.equal((await link(h, 'eth2')).master, 'handbr');
    assert.equal((await link(h, 'hp0')).master, 'handbr', 'a port someone else attached stays');
    assert.deepEqual(JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: request })).stdout).steps, []);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.deepEqual(show.capabilities.networks.handbr.ipv4addrs, ['203.0.113.77/24']);
    assert.equal((await apply(h, 'networks: { handbr: { remove: true } }')).code, 0);
    assert.equal(await link(h, 'handbr'), undefined, 'removed with its network: netswitch owns it now');
    assert.equal((await link(h, 'hp0')).master, undefined);
    await h.sh(['ip', 'link', 'del', 'hp0']);
  });

  test('a change of hundreds of devices runs in lanes; a failure in one lane is rolled back to an identical host', async () => {
    const before = await hostState(h);
    // 100 NIC-less networks with an address each: 500 steps, each network's its own family.
    const many = `networks:\n${Array.from({ length: 100 }, (_, k) => `  lane${k}: { ipaddr: 198.18.${k}.1, prefix: 24 }\n`).join('')}`;
    const file = join(h.sb.dir, 'lanes.yaml');
    await writeFile(file, many);
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', file])).stdout);
    assert.equal(plan.steps.length, 500);
    // A refusal late in the plan (an address), in one lane: the other lanes ran on.
    const faulty = await h.sh(['env', 'NETSWITCH_LANES=2', 'NETSWITCH_FAULT_STEP=450', BIN, '-v', 'apply', file]);
    assert.equal(faulty.code, 3, faulty.stderr);
    assert.match(faulty.stderr, /in 2 lanes/);
    assert.match(faulty.stderr, /step 450 \(.*\) failed: refused by a fault injected/);
    assert.match(faulty.stderr, /rolled back/);
    // Undone: what ran up to the furthest step a lane reached, not the failed lane's steps
    // after its failure (they never ran: their undo would act on whatever has those names).
    const [, from, to, never] = /undoing what ran of steps (\d+)-(\d+) \((\d+) never ran\)/.exec(faulty.stderr) ?? [];
    assert.ok(Number(never) > 0, faulty.stderr);
    const undone = Number(/rolling back (\d+) steps/.exec(faulty.stderr)?.[1]);
    assert.equal(undone, Number(to) - Number(from) + 1 - Number(never) - 1, 'all that ran, less the never-run steps and the injected one');
    assert.equal(await hostState(h), before);
    const r = await h.sh(['env', 'NETSWITCH_LANES=3', BIN, '-v', 'apply', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /in 3 lanes/);
    const links: Json[] = await h.ipJson(['addr', 'show']);
    for (const k of [0, 42, 99]) {
      const l = links.find((x) => x.ifname === `lane${k}`);
      assert.deepEqual(addrs(l), [`198.18.${k}.1/24`]);
      assert.equal(l.flags.includes('UP'), true);
    }
    const gone = await apply(h, `networks:\n${Array.from({ length: 100 }, (_, k) => `  lane${k}: { remove: true }\n`).join('')}`);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(await hostState(h), before);
  });

  test('bridge timers the kernel rounds (jiffies) apply and re-apply; an option this kernel lacks is refused', async () => {
    const r = await apply(h, 'networks: { timers: { bridged: true, custom: { bridge_opts: "forward_delay=1501 multicast_startup_query_interval=5001" } } }');
    assert.equal(r.code, 0, r.stderr);
    // The option dropped: back to the kernel's default, which it may show a centisecond lower.
    const again = await apply(h, 'networks: { timers: { bridged: true } }');
    assert.equal(again.code, 0, again.stderr);
    const bridge = await link(h, 'timers');
    if (!('vlan_default_pvid' in bridge.linkinfo.info_data)) {
      const lacking = await apply(h, 'networks: { timers: { bridged: true, custom: { bridge_opts: "default_pvid=0" } } }');
      assert.equal(lacking.code, 2, lacking.stderr);
      assert.match(lacking.stderr, /default_pvid: this kernel's bridges do not have it/);
    }
    assert.equal((await apply(h, 'networks: { timers: { remove: true } }')).code, 0);
    assert.equal(await link(h, 'timers'), undefined);
  });

  test('output to a reader that went away (EPIPE) does not stop an apply half-way', async () => {
    const file = join(h.sb.dir, 'epipe.yaml');
    await writeFile(file, 'networks: { epipe: { bridged: true, ipaddr: 198.18.200.1, prefix: 24 } }\n');
    // `true` has exited before netswitch writes its first line: every write fails with EPIPE.
    const r = await h.sh(['bash', '-c', `${BIN} -v apply ${file} 2>&1 | true; echo "rc=\${PIPESTATUS[0]}"`]);
    assert.match(r.stdout, /rc=0/, r.stdout + r.stderr);
    assert.deepEqual(addrs(await link(h, 'epipe')), ['198.18.200.1/24']);
    assert.equal(await readFile(join(h.sb.stateDir, 'journal.json'), 'utf8').catch(() => 'none'), 'none');
    assert.equal((await apply(h, 'networks: { epipe: { remove: true } }')).code, 0);
  });

  test('a port-less bridge whose removal is rolled back comes back with carrier', async () => {
    assert.equal((await apply(h, 'networks: { lonely: { bridged: true, ipaddr: 198.18.210.1, prefix: 24 } }')).code, 0);
    const before = await hostState(h);
    const removal = 'networks: { lonely: { remove: true } }\n';
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: removal })).stdout).steps;
    const file = join(h.sb.dir, 'lonely-removal.yaml');
    await writeFile(file, removal);
    const r = await h.sh(['env', `NETSWITCH_FAULT_STEP=${plan.length}`, BIN, 'apply', file]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(await hostState(h), before);
    // Re-created with the address it had, an empty bridge would stay NO-CARRIER (no IPv6
    // link-local address, its routes linkdown).
    const bridge = await link(h, 'lonely');
    assert.ok(!bridge.flags.includes('NO-CARRIER'), JSON.stringify(bridge.flags));
    assert.equal((await apply(h, removal)).code, 0);
  });

  test('NETSWITCH_FAULT_STEP past the last step says that it injected nothing', async () => {
    const file = join(h.sb.dir, 'fault-past.yaml');
    await writeFile(file, 'networks: { pastend: { bridged: true } }\n');
    const r = await h.sh(['env', 'NETSWITCH_FAULT_STEP=999', BIN, 'apply', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /NETSWITCH_FAULT_STEP=999: no such step \(the plan has steps 1-\d+\); no fault injected/);
    assert.equal((await apply(h, 'networks: { pastend: { remove: true } }')).code, 0);
  });
});
