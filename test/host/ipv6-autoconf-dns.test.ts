// Host tier: a network with DHCPv4, DHCPv6 and SLAAC from a real dnsmasq (router advertisements
// too). Both clients' nameservers end up in resolv.conf (IPv4's first), and each goes with its
// client; turning autoconfiguration off removes the SLAAC address the kernel would otherwise
// keep for an hour (planned, verified, and put back by a rollback), leaving link-local alone.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'netswitch');

// ip's JSON is loosely typed; the tests name the fields they check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const DYNAMIC = 'networks:\n  mgmt: { nic: eth0, bootproto: dhcp, dhcpv6: true, ipv6autoconf: true, defaultRoute: true }\n';
const DHCP4_ONLY = 'networks:\n  mgmt: { nic: eth0, bootproto: dhcp, defaultRoute: true }\n';
const STATIC = 'networks:\n  mgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24, gateway: 192.0.2.254, defaultRoute: true }\n';

describe('DHCPv4 + DHCPv6 + SLAAC on the default-route network', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  const file = async (name: string, yaml: string) => {
    const path = join(h.sb.dir, `${name}.yaml`);
    await writeFile(path, yaml);
    return path;
  };
  const nameservers = async () => (await readFile(join(h.sb.dir, 'resolv.conf'), 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('nameserver '));
  /** mgmt's global IPv6 addresses (ip -json shows those the scope filter leaves out as empty objects). */
  const global6 = async (): Promise<Json[]> => {
    const [link]: Json[] = await h.ipJson(['-6', 'addr', 'show', 'dev', 'mgmt', 'scope', 'global']);
    return (link?.addr_info ?? []).filter((a: Json) => a.local);
  };
  const slaac = async () => (await global6()).filter((a) => a.prefixlen === 64).map((a) => `${a.local}/64`);
  const linkLocal = async () => {
    const [link]: Json[] = await h.ipJson(['-6', 'addr', 'show', 'dev', 'mgmt', 'scope', 'link']);
    return (link?.addr_info ?? []).filter((a: Json) => a.local).length;
  };
  /** The SLAAC address comes with the first router advertisement after mgmt comes up. */
  const waitForSlaac = async () => {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const found = await slaac();
      if (found.length) return found;
    }
    assert.fail('no SLAAC address within 15 s');
  };
  const apply = async (path: string, env: string[] = []) => h.sh(['env', 'NETSWITCH_DHCP_TIMEOUT=20', ...env, BIN, 'apply', path]);

  before(async () => {
    await cleanupLeftovers('ta');
    h = await createSandbox({ prefix: 'ta', ovs: false, nics: 1 });
    await h.sh(['ip', 'addr', 'add', '192.0.2.254/24', 'dev', 'peer0'], 'wire');
    await h.sh(['ip', 'addr', 'add', '2001:db8:2::fe/64', 'dev', 'peer0', 'nodad'], 'wire');
    const d = h.sb.dir;
    const dnsmasq = await h.sh(
      [
        'dnsmasq', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--port=0', '--interface=peer0', '--bind-interfaces', '--except-interface=lo',
        '--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h', '--dhcp-range=2001:db8:2::100,2001:db8:2::1ff,slaac,64,1h', '--enable-ra', '--ra-param=peer0,10,600',
        '--dhcp-option=3,192.0.2.254', '--dhcp-option=6,192.0.2.153', '--dhcp-option=option6:dns-server,[2001:db8:2::53]',
        `--dhcp-leasefile=${d}/leases`, `--pid-file=${d}/dnsmasq.pid`, '--dhcp-authoritative', '--user=root', '--no-ping', `--log-facility=${d}/dnsmasq.log`,
      ],
      'wire',
    );
    assert.equal(dnsmasq.code, 0, dnsmasq.stderr);
  });
  // dnsmasq and every dhclient live in the sandbox's namespaces: down() stops them by pid.
  after(async () => h?.down());

  test('both clients\' nameservers, IPv4\'s first (a dead client\'s left-over server goes); kernel_config does not pin a lease\'s', async () => {
    // What a DHCPv4 client killed before a reboot leaves: its servers file and its server in resolv.conf.
    await mkdir(join(h.sb.stateDir, 'dhcp'), { recursive: true });
    await writeFile(join(h.sb.stateDir, 'dhcp', 'mgmt.4.nameservers'), '192.0.2.99\n');
    await writeFile(join(h.sb.dir, 'resolv.conf'), 'nameserver 192.0.2.99\n');
    const r = await apply(await file('dynamic', DYNAMIC));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await nameservers(), ['nameserver 192.0.2.153', 'nameserver 2001:db8:2::53']);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.deepEqual(show.capabilities.nameservers, ['192.0.2.153', '2001:db8:2::53']);
    assert.equal(show.kernel_config.networks.mgmt.nameservers, undefined);
    await waitForSlaac();
  });

  test('a client that stops takes its own servers only', async () => {
    const r = await apply(await file('dhcp4', DHCP4_ONLY));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await nameservers(), ['nameserver 192.0.2.153']);
    const back = await apply(await file('dynamic', DYNAMIC));
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(await nameservers(), ['nameserver 192.0.2.153', 'nameserver 2001:db8:2::53']);
  });

  test('autoconf off: the SLAAC address is planned away and gone; link-local stays; re-apply is unchanged', async () => {
    const [address] = await waitForSlaac();
    const path = await file('static', STATIC);
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', path])).stdout);
    assert.ok(plan.steps.some((s: Json) => s.description === `remove address ${address} from mgmt`), JSON.stringify(plan.steps.map((s: Json) => s.description)));
    const r = await apply(path);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await global6(), [], 'neither the SLAAC address nor the DHCPv6 lease is left');
    assert.ok((await linkLocal()) > 0, 'the link-local address stays');
    const again = await apply(path);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged/);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.deepEqual(show.capabilities.networks.mgmt.ipv6addrs, []);
  });

  test('an autoconfigured address left on a device whose config says autoconf off is not "in sync"', async () => {
    // As the kernel leaves one (a lifetime makes it dynamic), e.g. by an older netswitch.
    await h.sh(['ip', 'addr', 'add', '2001:db8:2::77/64', 'dev', 'mgmt', 'valid_lft', '600', 'preferred_lft', '600']);
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', await file('static', STATIC)])).stdout);
    assert.deepEqual(plan.steps.map((s: Json) => s.description), ['remove address 2001:db8:2::77/64 from mgmt']);
    const r = await apply(await file('static', STATIC));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await global6(), []);
  });

  test('a rollback puts the SLAAC address back, with autoconfiguration on', async () => {
    const r = await apply(await file('dynamic', DYNAMIC));
    assert.equal(r.code, 0, r.stderr);
    const addresses = await waitForSlaac();
    const path = await file('static', STATIC);
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', path])).stdout);
    const failed = await apply(path, [`NETSWITCH_FAULT_STEP=${plan.steps.length}`]);
    assert.equal(failed.code, 3, failed.stderr);
    assert.deepEqual(await slaac(), addresses);
    const conf = await h.sh(['sysctl', '-n', 'net.ipv6.conf.mgmt.accept_ra', 'net.ipv6.conf.mgmt.autoconf']);
    assert.deepEqual(conf.stdout.trim().split('\n'), ['2', '1']);
    assert.deepEqual(await nameservers(), ['nameserver 192.0.2.153', 'nameserver 2001:db8:2::53']);
  });
});
