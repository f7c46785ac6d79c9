// The sandbox host, checked with independent tools: namespaces and links with `ip -json`, the
// private OVS with ovs-vsctl/ovs-appctl, cabling with real pings, teardown with /proc.
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, test } from 'node:test';
import { isNetswitchError } from '../../src/model/errors.ts';
import { down, execArgv, isRunning, list, load, sandboxEnv, up, validateSandboxName } from '../../src/sandbox/sandbox.ts';
import { execInherit } from '../../src/sys/exec.ts';
import { runJson } from '../../src/sys/run.ts';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot, uniqueName, withSandbox } from './lib/harness.ts';

const PREFIX = 'sb';

interface IpLink {
  ifname: string;
  flags: string[];
}

async function rootLinkNames(): Promise<Set<string>> {
  return new Set((await runJson<IpLink[]>(['ip', '-json', 'link', 'show'])).map((l) => l.ifname));
}

async function namespaceNames(): Promise<string[]> {
  return (await runJson<{ name: string }[]>(['ip', '-json', 'netns', 'list'])).map((ns) => ns.name);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

before(async () => {
  if (!skipUnlessRoot) await cleanupLeftovers(PREFIX);
});

test('up builds a fresh host: two namespaces, cabled NICs, a private OVS, nothing in the root ns', { skip: skipUnlessRoot }, async (t) => {
  const rootBefore = await rootLinkNames();
  const h: SandboxHarness = await createSandbox({ prefix: PREFIX });
  t.after(() => h.down());
  const { sb } = h;

  await t.test('namespaces and links', async () => {
    const nss = await namespaceNames();
    assert.ok(nss.includes(sb.hostNs) && nss.includes(sb.wireNs), `${sb.hostNs}, ${sb.wireNs} in ${nss.join(' ')}`);

    const hostLinks = await h.ipJson<IpLink[]>(['link', 'show']);
    assert.deepEqual(hostLinks.map((l) => l.ifname).sort(), ['eth0', 'eth1', 'eth2', 'eth3', 'lo']);
    for (const link of hostLinks) {
      // lo is up; the NICs are left down, as on a host netswitch has not configured yet.
      assert.equal(link.flags.includes('UP'), link.ifname === 'lo', `${link.ifname} ${link.flags.join(',')}`);
    }
    const wireLinks = await h.ipJson<IpLink[]>(['link', 'show'], 'wire');
    assert.deepEqual(wireLinks.map((l) => l.ifname).sort(), ['lo', 'peer0', 'peer1', 'peer2', 'peer3']);
    for (const link of wireLinks) assert.ok(link.flags.includes('UP'), `${link.ifname} ${link.flags.join(',')}`);

    const offload = await h.sh(['ethtool', '-k', 'eth2']);
    assert.match(offload.stdout, /^tx-checksumming: off$/m);
    assert.match((await h.sh(['ethtool', '-k', 'peer2'], 'wire')).stdout, /^tx-checksumming: off$/m);
  });

  await t.test('files', async () => {
    assert.equal(await readFile(join(sb.dir, 'resolv.conf'), 'utf8'), '');
    assert.ok(await exists(sb.stateDir));
    assert.deepEqual(await load(sb.name), sb);
    assert.ok((await list()).includes(sb.name));
  });

  await t.test('the private OVS answers, and its bridges appear in the host ns', async () => {
    assert.ok(sb.pids.ovsdbServer && (await isRunning(sb.pids.ovsdbServer)));
    assert.ok(sb.pids.vswitchd && (await isRunning(sb.pids.vswitchd)));
    // Plain ovs-vsctl/ovs-appctl find the private instance through the sandbox's environment.
    const show = await h.sh(['ovs-vsctl', 'show']);
    assert.equal(show.code, 0, show.stderr);
    const version = await h.sh(['ovs-appctl', '-t', 'ovs-vswitchd', 'version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /Open vSwitch/);

    const add = await h.sh(['ovs-vsctl', 'add-br', 'sbbr0', '--', 'set', 'bridge', 'sbbr0', 'datapath_type=netdev']);
    assert.equal(add.code, 0, add.stderr);
    const [bridge] = await h.ipJson<IpLink[]>(['link', 'show', 'dev', 'sbbr0']);
    assert.equal(bridge.ifname, 'sbbr0');
  });

  await t.test('a ping crosses a NIC cable', async () => {
    await h.sh(['ip', 'address', 'add', '10.231.0.1/24', 'dev', 'eth1']);
    await h.sh(['ip', 'link', 'set', 'eth1', 'up']);
    await h.sh(['ip', 'address', 'add', '10.231.0.2/24', 'dev', 'peer1'], 'wire');
    const ping = await h.sh(['ping', '-c', '1', '-W', '2', '10.231.0.2']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  await t.test('exec runs in the chosen namespace with the sandbox environment', async () => {
    assert.equal((await h.sh(['ip', 'netns', 'identify'])).stdout.trim(), sb.hostNs);
    assert.equal((await h.sh(['ip', 'netns', 'identify'], 'wire')).stdout.trim(), sb.wireNs);
    const env = sandboxEnv(sb);
    assert.equal(env.NETSWITCH_OVSDB, `unix:${sb.ovsdbSocket}`);
    assert.equal(env.OVS_RUNDIR, sb.ovsDir);
    const printed = new Set((await h.sh(['env'])).stdout.split('\n'));
    for (const [key, value] of Object.entries(env)) assert.ok(printed.has(`${key}=${value}`), key);
    // execInherit is what `netswitch sandbox exec` uses: exit codes and signals come back.
    assert.equal(await execInherit(execArgv(sb, ['sh', '-c', 'exit 3'])), 3);
    assert.equal(await execInherit(execArgv(sb, ['sh', '-c', 'kill -TERM $$'])), 128 + 15);
    // `netswitch` as the command means this very netswitch, built or from the sources.
    const version = await h.cli(['sandbox', 'exec', sb.name, '--', 'netswitch', '--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  await t.test('nothing appeared in the root namespace', async () => {
    const added = [...(await rootLinkNames())].filter((name) => !rootBefore.has(name));
    assert.deepEqual(added, []);
  });
});

test('down removes processes, links, namespaces and the directory', { skip: skipUnlessRoot }, async () => {
  const h = await createSandbox({ prefix: PREFIX });
  const { sb } = h;
  // A daemon a test might leave behind inside the sandbox.
  const pidfile = join(sb.dir, 'iperf3.pid');
  const iperf = await h.sh(['iperf3', '-s', '-D', '-B', '127.0.0.1', '--pidfile', pidfile], 'wire');
  assert.equal(iperf.code, 0, iperf.stderr);
  // iperf3 -D writes its pid file after it has forked: wait for it.
  const iperfPid = Number.parseInt(await readWhenThere(pidfile), 10);
  const pids = [sb.pids.ovsdbServer, sb.pids.vswitchd, iperfPid];
  for (const pid of pids) assert.ok(pid && (await isRunning(pid)), `pid ${pid} runs before down`);

  await h.down();

  for (const pid of pids) assert.equal(await isRunning(pid!), false, `pid ${pid} gone after down`);
  const nss = await namespaceNames();
  assert.ok(!nss.includes(sb.hostNs) && !nss.includes(sb.wireNs), nss.join(' '));
  assert.equal(await exists(sb.dir), false);
  assert.ok(!(await list()).includes(sb.name));
});

test('up twice with the same name replaces the first', { skip: skipUnlessRoot }, async () => {
  const name = uniqueName(PREFIX);
  try {
    const first = await up(name, { nics: 2 });
    const second = await up(name, { nics: 3 });
    assert.equal(await isRunning(first.pids.vswitchd!), false);
    assert.equal(await isRunning(first.pids.ovsdbServer!), false);
    assert.ok(await isRunning(second.pids.vswitchd!));
    const links = await runJson<IpLink[]>(['ip', '-n', second.hostNs, '-json', 'link', 'show']);
    assert.deepEqual(links.map((l) => l.ifname).sort(), ['eth0', 'eth1', 'eth2', 'lo']);
  } finally {
    await down(name);
  }
});

test('a sandbox without OVS has no daemons', { skip: skipUnlessRoot }, () =>
  withSandbox(
    async ({ sb, ipJson }) => {
      assert.deepEqual(sb.pids, {});
      assert.deepEqual((await ipJson<IpLink[]>(['link', 'show'])).map((l) => l.ifname).sort(), ['eth0', 'lo']);
    },
    { prefix: PREFIX, nics: 1, ovs: false },
  ),
);

test('down of a missing sandbox is a no-op', { skip: skipUnlessRoot }, async () => {
  await down(uniqueName(PREFIX));
});

test('names are checked and a missing sandbox says how to make it', async () => {
  for (const bad of ['', 'Demo', '-x', 'a_b', 'abcdefghijklm', '../etc', 'x-wire']) {
    assert.throws(() => validateSandboxName(bad), (e) => isNetswitchError(e, 'E_SANDBOX') && !!e.hint, bad);
  }
  validateSandboxName('demo-1');
  const name = uniqueName(PREFIX);
  await assert.rejects(load(name), (e) => isNetswitchError(e, 'E_SANDBOX') && e.hint === `run: netswitch sandbox up ${name}`);
});

/** FILE's text once it exists and is not empty (a daemon's pid file), within 10 s. */
async function readWhenThere(file: string): Promise<string> {
  for (const deadline = Date.now() + 10_000; ; await sleep(50)) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.trim() || Date.now() > deadline) return text;
  }
}
