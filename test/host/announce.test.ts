// Host tier: the gratuitous ARP an apply sends for the IPv4 addresses it adds (src/ip/announce.ts),
// seen from the wire: the peer learns the address's MAC without the host sending it anything
// else. An apply that is rolled back announces nothing.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';
import { eventually } from './lib/ovs-peer.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'netswitch');

describe('gratuitous ARP for the addresses an apply adds', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    await cleanupLeftovers('ta');
    h = await createSandbox({ prefix: 'ta', ovs: false });
    // The peer takes unsolicited ARP into its neighbour table (the default only updates entries).
    for (const argv of [['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'peer0'], ['sysctl', '-q', '-w', 'net.ipv4.conf.peer0.arp_accept=1'], ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'peer1'], ['sysctl', '-q', '-w', 'net.ipv4.conf.peer1.arp_accept=1']]) {
      const r = await h.sh(argv, 'wire');
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => h?.down());

  /** The MAC the wire's PEER has for ADDRESS, if any. */
  async function learned(peer: string, address: string): Promise<string | undefined> {
    const neigh: { dst: string; lladdr?: string }[] = await h.ipJson(['neigh', 'show', 'dev', peer], 'wire');
    return neigh.find((n) => n.dst === address)?.lladdr;
  }

  test('an applied address is announced: the peer learns its MAC', async () => {
    const r = await h.cli(['apply', '-'], { input: 'networks:\n  ovirtmgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24 }\n' });
    assert.equal(r.code, 0, r.stderr);
    const [bridge] = await h.ipJson(['link', 'show', 'dev', 'ovirtmgmt']);
    assert.ok(await eventually(async () => (await learned('peer0', '192.0.2.10')) === bridge.address, 10_000), 'the peer learned 192.0.2.10 from a gratuitous ARP');
  });

  test('an apply that is rolled back announces nothing', async () => {
    const request = 'networks:\n  storage: { nic: eth1, bridged: false, ipaddr: 198.51.100.10, prefix: 24 }\n';
    const plan = await h.cli(['-o', 'json', 'plan', '-'], { input: request });
    assert.equal(plan.code, 0, plan.stderr);
    const steps: { description: string }[] = JSON.parse(plan.stdout).steps;
    const file = join(h.sb.dir, 'announce-request.yaml');
    await writeFile(file, request);
    const r = await h.sh(['env', `NETSWITCH_FAULT_STEP=${steps.length}`, BIN, 'apply', file]);
    assert.equal(r.code, 3, r.stderr);
    assert.ok(steps.some((s) => /198\.51\.100\.10/.test(s.description)), 'the address was among the steps');
    // Given the time an announcement takes above, none comes.
    assert.equal(await eventually(async () => (await learned('peer1', '198.51.100.10')) !== undefined, 3_000), false);
  });
});
