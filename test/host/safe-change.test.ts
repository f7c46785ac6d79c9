// Host tier: changes that must never cut a host off or be lost — the connectivity check
// (confirm and probes), pending changes with commit/rollback, persistence and restore, and
// recovery after netswitch is killed with SIGKILL at any step of an apply.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';
import { hostState } from './lib/host-state.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'netswitch');

const BASE = `
networks:
  mgmt: { nic: eth0, bridged: false, ipaddr: 192.0.2.10, prefix: 24, gateway: 192.0.2.1, defaultRoute: true, nameservers: [192.0.2.53] }
  vmnet: { nic: eth1 }
`;

// A change that cuts the host off its gateway: management moves to a subnet nobody answers on.
const CUT_OFF = `
networks:
  mgmt: { nic: eth0, bridged: false, ipaddr: 203.0.113.10, prefix: 24, gateway: 203.0.113.1, defaultRoute: true, nameservers: [203.0.113.53] }
  storage: { nic: eth2, bridged: false, ipaddr: 198.51.100.10, prefix: 24 }
`;

async function apply(h: SandboxHarness, yaml: string, ...args: string[]) {
  return h.cli(['apply', ...args, '-'], { input: yaml });
}

/** Run netswitch in the sandbox with extra environment (the test hooks). */
async function withEnv(h: SandboxHarness, env: Record<string, string>, args: string[], yaml: string) {
  const file = join(h.sb.dir, `request-${Date.now()}.yaml`);
  await writeFile(file, yaml);
  return h.sh(['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), BIN, ...args, file]);
}

async function until(check: () => Promise<boolean>, seconds: number): Promise<boolean> {
  for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline; ) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

describe('safe change: connectivity check, commit/rollback, persistence, crash recovery', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    await cleanupLeftovers('ts');
    h = await createSandbox({ prefix: 'ts', ovs: false });
    // The wire side: the management gateway answers pings.
    await h.sh(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'peer0'], 'wire');
    const r = await apply(h, BASE);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => h?.down());

  test('probes: a change that makes the gateway unreachable is rolled back, nameservers included', async () => {
    const ping = await h.sh(['ping', '-c', '1', '-W', '2', '192.0.2.1']);
    assert.equal(ping.code, 0, 'the gateway answers before the change');
    const before = await hostState(h);
    const r = await apply(h, CUT_OFF, '--probe', 'gateway', '--timeout', '3');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /connectivity lost: default gateway/);
    assert.equal(await hostState(h), before);
    assert.match(await readFile(join(h.sb.dir, 'resolv.conf'), 'utf8'), /^nameserver 192\.0\.2\.53$/m);
  });

  test('probes that keep answering let the change through', async () => {
    const r = await apply(h, 'networks: { storage: { nic: eth2, bridged: false, ipaddr: 198.51.100.10, prefix: 24 } }', '--probe', 'gateway', '--probe', 'host=192.0.2.1', '--timeout', '5');
    assert.equal(r.code, 0, r.stderr);
    const r2 = await apply(h, 'networks: { storage: { remove: true } }');
    assert.equal(r2.code, 0, r2.stderr);
  });

  test('confirm mode: a change not confirmed in time is rolled back by itself', async () => {
    const before = await hostState(h);
    const r = await h.cli(['-o', 'json', 'apply', '-'], { input: `${CUT_OFF}options: { connectivityCheck: true, connectivityTimeout: 2 }\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, 'pending');
    assert.notEqual(await hostState(h), before, 'the change is in place while it waits');
    const busy = await apply(h, 'networks: { vmnet: { remove: true } }');
    assert.equal(busy.code, 1, 'no other apply while a change is pending');
    assert.match(busy.stderr, /a change is pending/);
    assert.ok(await until(async () => (await hostState(h)) === before, 15), 'rolled back to the identical host after the timeout');
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.match(show.setupStatus.Failed.message, /not committed in time/);
    const late = await h.cli(['commit']);
    assert.equal(late.code, 2);
    assert.match(late.stderr, /there is no pending change to commit \(change of .* rolled back: not committed in time\)/);
  });

  test('confirm mode: `netswitch commit` keeps the change', async () => {
    const r = await apply(h, 'networks: { storage: { nic: eth2, bridged: false, ipaddr: 198.51.100.10, prefix: 24 } }\noptions: { connectivityCheck: true, connectivityTimeout: 3 }\n');
    assert.equal(r.code, 0, r.stderr);
    const c = await h.cli(['confirm']);
    assert.equal(c.code, 0, c.stderr);
    const kept = await hostState(h);
    await new Promise((res) => setTimeout(res, 4000)); // past the deadline: the timer finds nothing pending
    assert.equal(await hostState(h), kept);
    const again = await h.cli(['commit']);
    assert.equal(again.code, 2, 'nothing pending to commit');
  });

  test('--no-commit then `netswitch rollback` restores the identical host', async () => {
    const before = await hostState(h);
    const r = await apply(h, 'networks: { storage: { remove: true }, extra: { nic: eth3, ipaddr: 203.0.113.99, prefix: 24 } }', '--no-commit', '--timeout', '60');
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(await hostState(h), before);
    // Pending, the change is on the host: the report is of its config, not of the one it replaces at commit.
    const pending = await h.cli(['-o', 'json', 'show']);
    assert.match(pending.stderr, /a change is pending/);
    const kc = JSON.parse(pending.stdout).kernel_config.networks;
    assert.deepEqual([kc.extra?.ipaddr, kc.storage], ['203.0.113.99', undefined]);
    const rb = await h.cli(['rollback']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(await hostState(h), before);
    assert.deepEqual(JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: 'networks: {}' })).stdout).steps, [], 'the running config is the one before');
  });

  test('persist and restore: the safe config comes back on a host whose networking is gone', async () => {
    const p = await h.cli(['persist']);
    assert.equal(p.code, 0, p.stderr);
    const persisted = await hostState(h);
    // A change that is not persisted, then the host loses its networking (as after a reboot).
    const extra = await apply(h, 'networks: { extra: { nic: eth3, ipaddr: 203.0.113.99, prefix: 24 } }');
    assert.equal(extra.code, 0, extra.stderr);
    const links: { ifname: string; linkinfo?: { info_kind?: string } }[] = await h.ipJson(['-d', 'link', 'show']);
    const batch = links
      .filter((l) => l.ifname !== 'lo')
      .flatMap((l) => (l.linkinfo?.info_kind === 'bridge' ? [`link del dev ${l.ifname}`] : [`addr flush dev ${l.ifname}`, `link set dev ${l.ifname} down`, `link set dev ${l.ifname} mtu 1500`]));
    await writeFile(join(h.sb.dir, 'wipe.batch'), `${batch.join('\n')}\n`);
    await h.sh(['ip', '-force', '-batch', join(h.sb.dir, 'wipe.batch')]);
    await writeFile(join(h.sb.dir, 'resolv.conf'), '');
    const r = await h.cli(['restore']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await hostState(h), persisted, 'the persisted config, without the extra network');
    const ping = await h.sh(['ping', '-c', '1', '-W', '2', '192.0.2.10'], 'wire');
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  test('killed with SIGKILL at any step of an apply: the next start restores the checkpoint', async () => {
    const change = `
networks:
  mgmt: { nic: eth0, ipaddr: 192.0.2.11, prefix: 24, gateway: 192.0.2.1, defaultRoute: true, nameservers: [192.0.2.54] }
  vmnet: { remove: true }
  storage: { nic: eth2, bridged: false, mtu: 9000, ipaddr: 198.51.100.10, prefix: 24 }
`;
    const plan = JSON.parse((await h.cli(['-o', 'json', 'plan', '-'], { input: change })).stdout).steps;
    assert.ok(plan.length >= 8, `a plan of many steps (${plan.length})`);
    const before = await hostState(h);
    for (let step = 1; step <= plan.length; step++) {
      const crashed = await withEnv(h, { NETSWITCH_CRASH_STEP: String(step) }, ['apply'], change);
      assert.notEqual(crashed.code, 0, `killed at step ${step}`);
      const journal = await readFile(join(h.sb.stateDir, 'journal.json'), 'utf8').catch(() => '');
      assert.ok(journal.includes('"applying"'), `the journal is left behind at step ${step}`);
      const rb = await h.cli(['rollback']);
      assert.equal(rb.code, 0, `recovery after step ${step}: ${rb.stderr}`);
      assert.equal(await hostState(h), before, `identical host after a crash at step ${step}`);
    }
    // Interrupted half-way, then the same change again: the apply recovers first and plans
    // against the host as recovery left it (the read it started at start-up saw the half-done
    // change and is discarded), so it goes through and leaves nothing to do.
    const half = Math.ceil(plan.length / 2);
    const crashed = await withEnv(h, { NETSWITCH_CRASH_STEP: String(half) }, ['apply'], change);
    assert.notEqual(crashed.code, 0, `killed at step ${half}`);
    // Its process is gone: `show` says the apply was interrupted (not that one is running).
    assert.match((await h.cli(['show'])).stderr, /warning: an apply was interrupted \(pid \d+/);
    const r = await apply(h, change);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /recovering from an interrupted apply/);
    assert.doesNotMatch(r.stderr, /differs/, 'the recovery is proven against the host as it is after the undo');
    const left = await h.cli(['-o', 'json', 'plan', '-'], { input: change.replace('  vmnet: { remove: true }\n', '') });
    assert.deepEqual(JSON.parse(left.stdout).steps, [], `the host has the change: ${left.stdout}`);
  });
});
