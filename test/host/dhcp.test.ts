// Host tier: DHCPv4 with a real dnsmasq on the wire side and netswitch's dhclient: the lease
// (address, default route, source routing, nameservers), the client gone after removal and
// after a rollback, and a missing lease rolling the apply back.
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRunning } from '../../src/sandbox/sandbox.ts';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';
import { hostState } from './lib/host-state.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'netswitch');

// ip's JSON is loosely typed; the tests name the fields they check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** pids of netswitch's dhclients in the sandbox's state dir. */
async function clientPids(h: SandboxHarness): Promise<number[]> {
  const dir = join(h.sb.stateDir, 'dhcp');
  const names = await readdir(dir).catch(() => [] as string[]);
  const pids = await Promise.all(names.filter((n) => n.endsWith('.pid')).map(async (n) => Number((await readFile(join(dir, n), 'utf8')).trim())));
  return pids.filter((p) => p > 0);
}

async function requestFile(h: SandboxHarness, yaml: string): Promise<string> {
  const file = join(h.sb.dir, `request-${Date.now()}.yaml`);
  await writeFile(file, yaml);
  return file;
}

async function addrs(h: SandboxHarness, dev: string): Promise<Json[]> {
  const [link]: Json[] = await h.ipJson(['addr', 'show', 'dev', dev]);
  return (link?.addr_info ?? []).filter((a: Json) => a.family === 'inet');
}

describe('DHCPv4 and DHCPv6 through dnsmasq', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    await cleanupLeftovers('td');
    h = await createSandbox({ prefix: 'td', ovs: false });
    await h.sh(['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'peer1'], 'wire');
    const d = h.sb.dir;
    const dnsmasq = await h.sh(
      [
        'dnsmasq', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--port=0', '--interface=peer1', '--bind-interfaces', '--except-interface=lo',
        '--dhcp-range=198.51.100.100,198.51.100.150,255.255.255.0,1h', '--dhcp-option=option:router,198.51.100.1', '--dhcp-option=option:dns-server,198.51.100.53',
        `--dhcp-leasefile=${d}/leases`, `--pid-file=${d}/dnsmasq.pid`, '--dhcp-authoritative', '--user=root', '--no-ping', `--log-facility=${d}/dnsmasq.log`,
      ],
      'wire',
    );
    assert.equal(dnsmasq.code, 0, dnsmasq.stderr);
    // DHCPv6 (with router advertisements) on the eth2 cable.
    await h.sh(['ip', 'addr', 'add', '2001:db8:9::1/64', 'dev', 'peer2'], 'wire');
    const dnsmasq6 = await h.sh(
      [
        'dnsmasq', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--port=0', '--interface=peer2', '--bind-interfaces', '--except-interface=lo',
        '--dhcp-range=2001:db8:9::100,2001:db8:9::1ff,64,1h', '--enable-ra', `--dhcp-leasefile=${d}/leases6`, `--pid-file=${d}/dnsmasq6.pid`, '--user=root',
        `--log-facility=${d}/dnsmasq6.log`,
      ],
      'wire',
    );
    assert.equal(dnsmasq6.code, 0, dnsmasq6.stderr);
  });
  // dnsmasq and every dhclient live in the sandbox's namespaces: down() stops them by pid.
  after(async () => h?.down());

  test('a lease: dynamic address, default route, source routing and nameservers; re-plan is empty', async () => {
    const r = await h.cli(['apply', '-'], { input: 'networks:\n  dnet: { nic: eth1, bootproto: dhcp, defaultRoute: true, blockingdhcp: true }\n' });
    assert.equal(r.code, 0, r.stderr);
    const [a] = await addrs(h, 'dnet');
    assert.match(a.local, /^198\.51\.100\.(1[0-4]\d|150)$/);
    assert.equal(a.dynamic, true, 'a leased address has a lifetime');
    const routes: Json[] = await h.ipJson(['route', 'show', 'default']);
    assert.deepEqual(routes.map((x) => `${x.gateway} ${x.dev}`), ['198.51.100.1 dnet']);
    const viaTable: Json[] = await h.ipJson(['route', 'get', '203.0.113.9', 'from', a.local]);
    assert.equal(viaTable[0].gateway, '198.51.100.1');
    assert.match(await readFile(join(h.sb.dir, 'resolv.conf'), 'utf8'), /^nameserver 198\.51\.100\.53$/m);
    const pids = await clientPids(h);
    assert.equal(pids.length, 1);
    assert.ok(await isRunning(pids[0]), 'the client keeps running to renew the lease');
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.equal(show.capabilities.networks.dnet.dhcpv4, true);
    assert.deepEqual(show.capabilities.networks.dnet.ipv4addrs, [`${a.local}/24`]);
    assert.equal(show.kernel_config.networks.dnet.bootproto, 'dhcp');
    assert.equal(show.kernel_config.networks.dnet.ipaddr, undefined);
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: 'networks:\n  dnet: { nic: eth1, bootproto: dhcp, defaultRoute: true, blockingdhcp: true }\n' })).stdout);
    assert.deepEqual(plan.steps, []);
  });

  test('removal stops the client and takes its address and routes away', async () => {
    const pids = await clientPids(h);
    const r = await h.cli(['apply', '-'], { input: 'networks: { dnet: { remove: true } }' });
    assert.equal(r.code, 0, r.stderr);
    for (const pid of pids) assert.equal(await isRunning(pid), false, `dhclient ${pid} is gone`);
    assert.deepEqual(await clientPids(h), []);
    assert.deepEqual(await h.ipJson(['route', 'show', 'default']), []);
    assert.deepEqual(await h.ipJson(['rule', 'show', 'priority', '32001']), []);
  });

  test('a failure after the lease rolls back: the client is stopped, the host identical', async () => {
    const before = await hostState(h);
    const request = `
networks:
  dnet: { nic: eth1, bridged: false, bootproto: dhcp }
  mgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24, gateway: 192.0.2.1, defaultRoute: true, nameservers: [192.0.2.53] }
`;
    const plan: { description: string }[] = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: request })).stdout).steps;
    const dhcpAt = plan.findIndex((s) => s.description.startsWith('start a DHCPv4 client'));
    assert.ok(dhcpAt >= 0 && dhcpAt < plan.length - 1, 'the client starts before the last step');
    const file = join(h.sb.dir, 'dhcp-fault.yaml');
    await writeFile(file, request);
    const r = await h.sh(['env', `NETSWITCH_FAULT_STEP=${plan.length}`, BIN, 'apply', file]);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(await clientPids(h), []);
    assert.equal(await hostState(h), before);
  });

  test('a fault injected at "stop the DHCP client" rolls back without a second client', async () => {
    const up = await h.sh(['env', 'NETSWITCH_DHCP_TIMEOUT=20', BIN, 'apply', await requestFile(h, 'networks:\n  dstop: { nic: eth1, bridged: false, bootproto: dhcp }\n')]);
    assert.equal(up.code, 0, up.stderr);
    const pids = await clientPids(h);
    assert.equal(pids.length, 1);
    const removal = 'networks:\n  dstop: { remove: true }\n';
    const plan: { description: string }[] = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: removal })).stdout).steps;
    const stopAt = plan.findIndex((s) => s.description.startsWith('stop the DHCPv4 client'));
    assert.ok(stopAt >= 0, plan.map((s) => s.description).join('; '));
    const r = await h.sh(['env', `NETSWITCH_FAULT_STEP=${stopAt + 1}`, BIN, 'apply', await requestFile(h, removal)]);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(await clientPids(h), pids, 'the same one client, not a second');
    assert.equal((await h.cli(['apply', '-'], { input: removal })).code, 0);
    assert.deepEqual(await clientPids(h), []);
  });

  test('DHCPv6: a leased address, reported; removal stops the client and takes the address', async () => {
    const r = await h.sh(['env', 'NETSWITCH_DHCP_TIMEOUT=20', BIN, 'apply', await requestFile(h, 'networks:\n  d6: { nic: eth2, bridged: false, dhcpv6: true }\n')]);
    assert.equal(r.code, 0, r.stderr);
    const [link]: Json[] = await h.ipJson(['-6', 'addr', 'show', 'dev', 'eth2', 'scope', 'global']);
    // (ip -json shows the addresses the scope filter leaves out as empty objects)
    const leased = (link?.addr_info ?? []).filter((a: Json) => a.local).map((a: Json) => `${a.local}/${a.prefixlen}`);
    assert.equal(leased.length, 1, JSON.stringify(link));
    assert.match(leased[0], /^2001:db8:9::1[0-9a-f]{2}\/128$/);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.equal(show.capabilities.networks.d6.dhcpv6, true);
    assert.equal(show.capabilities.networks.d6.ipv6autoconf, false);
    const pids = await clientPids(h);
    const rm = await h.cli(['apply', '-'], { input: 'networks: { d6: { remove: true } }' });
    assert.equal(rm.code, 0, rm.stderr);
    for (const pid of pids) assert.equal(await isRunning(pid), false);
    const [after]: Json[] = await h.ipJson(['-6', 'addr', 'show', 'dev', 'eth2', 'scope', 'global']);
    assert.deepEqual((after?.addr_info ?? []).filter((a: Json) => a.local), []);
  });

  test('no lease within the timeout: the apply fails and is rolled back', async () => {
    const before = await hostState(h);
    const file = join(h.sb.dir, 'dhcp-timeout.yaml');
    await writeFile(file, 'networks:\n  silent: { nic: eth3, bootproto: dhcp }\n');
    const r = await h.sh(['env', 'NETSWITCH_DHCP_TIMEOUT=3', BIN, 'apply', file]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /no DHCPv4 lease on silent within 3 s/);
    assert.deepEqual(await clientPids(h), []);
    assert.equal(await hostState(h), before);
  });

  test('blockingdhcp: false: no server, yet the apply returns; the client keeps asking in the background', async () => {
    const file = join(h.sb.dir, 'dhcp-background.yaml');
    await writeFile(file, 'networks:\n  quiet: { nic: eth3, bootproto: dhcp, blockingdhcp: false }\n');
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', file])).stdout);
    assert.ok(plan.steps.some((s: Json) => s.commands.some((c: string) => c.startsWith('dhclient -4 -nw'))), 'started in the background');
    const r = await h.sh(['env', 'NETSWITCH_DHCP_TIMEOUT=3', BIN, 'apply', file]);
    assert.equal(r.code, 0, r.stderr);
    const pids = await clientPids(h);
    assert.equal(pids.length, 1);
    const again = JSON.parse((await h.cli(['-o', 'json', 'plan', file])).stdout);
    assert.deepEqual(again.steps, [], 'the running client is the one asked for');
    const rm = await h.cli(['apply', '-'], { input: 'networks: { quiet: { remove: true } }' });
    assert.equal(rm.code, 0, rm.stderr);
    for (const pid of pids) assert.equal(await isRunning(pid), false);
  });
});
