// Host tier: host QoS on the OVS switch as linux-hfsc QoS and Queue rows plus a flow per shaped
// network, on the sandbox's private OVS (userspace datapath). This kernel has no HFSC, so OVS
// cannot make its qdiscs here (the kernel tier checks those, and the rates, in user-mode Linux);
// the rows and the flows are what netswitch makes, and they are checked with ovs-vsctl and
// ovs-ofctl: created, read back (re-apply plans nothing), changed, re-added after ovs-vswitchd
// lost its flows, removed, and restored exactly by the rollback of a failing apply.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type SandboxHarness, cleanupLeftovers, createSandbox, skipUnlessRoot } from './lib/harness.ts';
import { wholeHost } from './lib/ovs-peer.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'netswitch');
const PREFIX = 'tq';
const ROOT = '34359738360';

const SETUP = `
networks:
  mgmt: { switch: ovs, nic: eth0, ipaddr: 192.0.2.10, prefix: 24, hostQos: { out: { ls: { m2: 50 }, ul: { m2: 100000000 } } } }
  vm_100: { switch: ovs, nic: eth0, vlan: 100, hostQos: { out: { ls: { m2: 20 } } } }
  plain: { switch: ovs, nic: eth0, vlan: 300 }
  stor: { switch: ovs, bonding: bond0, vlan: 0, bridged: false, hostQos: { out: { rt: { m2: 1000000 }, ul: { m2: 5000000 } } } }
bondings:
  bond0: { switch: ovs, nics: [eth2, eth3], options: "mode=active-backup" }
`;

/** SETUP with mgmt's limit (and address) changed, vm_100's shaping dropped and plain shaped. */
const CHANGE = `
networks:
  mgmt: { switch: ovs, nic: eth0, ipaddr: 192.0.2.11, prefix: 24, hostQos: { out: { ls: { m2: 50 }, ul: { m2: 30000000 } } } }
  vm_100: { switch: ovs, nic: eth0, vlan: 100 }
  plain: { switch: ovs, nic: eth0, vlan: 300, hostQos: { out: { ls: { m2: 5 } } } }
`;

/** `netswitch [GLOBAL...] apply [ARGS...] FILE` with extra environment (NETSWITCH_FAULT_STEP). */
async function applyWithEnv(h: SandboxHarness, yaml: string, env: string[] = [], { global = [], args = [] }: { global?: string[]; args?: string[] } = {}) {
  const file = join(h.sb.dir, 'request.yaml');
  await writeFile(file, yaml);
  return h.sh(['env', 'NETSWITCH_OVS_DATAPATH=netdev', ...env, BIN, ...global, 'apply', ...args, file]);
}

async function applied(h: SandboxHarness, yaml: string, ...args: string[]): Promise<void> {
  const r = await applyWithEnv(h, yaml, [], { args });
  assert.equal(r.code, 0, r.stderr);
}

async function planSteps(h: SandboxHarness, yaml: string): Promise<{ description: string; commands: string[] }[]> {
  const r = await h.cli(['-o', 'json', 'plan', '-'], { input: yaml });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).steps;
}

async function vsctl(h: SandboxHarness, ...args: string[]): Promise<string> {
  const r = await h.sh(['ovs-vsctl', '--timeout=10', ...args]);
  assert.equal(r.code, 0, `ovs-vsctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

// ovs-vsctl -f json is loosely typed; the reader names the fields it uses.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** ovs-vsctl's JSON for a map column ["map", [[k, v], ...]] as an object. */
const map = (d: Json): Record<string, unknown> => Object.fromEntries(d[1]);

/** A port's QoS row and its queues, as ovs-vsctl shows them: { type, other_config, external_ids, queues: { id: { other_config, external_ids } } }. */
async function qosOf(h: SandboxHarness, port: string): Promise<Json> {
  const ref = await vsctl(h, 'get', 'port', port, 'qos');
  if (ref === '[]') return undefined;
  const row: Json = JSON.parse(await vsctl(h, '-f', 'json', '--columns=type,other_config,external_ids,queues', 'list', 'qos', ref)).data[0];
  const queues: Record<string, Json> = {};
  for (const [id, [, uuid]] of row[3][1]) {
    const q: Json = JSON.parse(await vsctl(h, '-f', 'json', '--columns=other_config,external_ids', 'list', 'queue', uuid)).data[0];
    queues[id] = { other_config: map(q[0]), external_ids: map(q[1]) };
  }
  return { type: row[0], other_config: map(row[1]), external_ids: map(row[2]), queues };
}

/** Rows of TABLE (QoS, Queue) in the whole database. */
async function count(h: SandboxHarness, table: string): Promise<number> {
  return (await vsctl(h, '--bare', '--columns=_uuid', 'list', table)).split('\n').filter(Boolean).length;
}

/** The flows of BRIDGE as ovs-ofctl prints them (no statistics), sorted. */
async function flows(h: SandboxHarness, bridge: string): Promise<string[]> {
  const r = await h.sh(['ovs-ofctl', 'dump-flows', '--names', '--no-stats', bridge]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
}

const OWNER = { 'netswitch-owner': 'netswitch' };
const queue = (min: number | string, max: number | string, network?: string, basis?: string) => ({
  other_config: { 'max-rate': String(max), 'min-rate': String(min) },
  external_ids: { ...(basis ? { 'netswitch-min-rate': basis } : {}), ...(network ? { 'netswitch-network': network } : {}), ...OWNER },
});

before(async () => {
  if (!skipUnlessRoot) await cleanupLeftovers(PREFIX);
});

describe('OVS host QoS: linux-hfsc QoS and Queue rows, a flow per shaped network', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    h = await createSandbox({ prefix: PREFIX });
  });
  after(async () => h?.down());

  test('the rows: a QoS row on the NIC port and on the bond port, a queue per shaped network and the default queue', async () => {
    await applied(h, SETUP);
    assert.deepEqual(await qosOf(h, 'eth0'), {
      type: 'linux-hfsc',
      other_config: { 'max-rate': ROOT },
      external_ids: OWNER,
      queues: {
        0: queue(400, ROOT),
        100: queue(160, ROOT, 'vm_100', 'ls'),
        5000: queue(400, 100_000_000, 'mgmt', 'ls'),
      },
    });
    assert.deepEqual((await qosOf(h, 'bond0')).queues, { 0: queue(1_000_000, ROOT), 4096: queue(1_000_000, 5_000_000, 'stor', 'rt') });
    for (const port of ['plain', 'mgmt', 'vm_100', 'stor']) assert.equal(await qosOf(h, port), undefined, port);
    assert.equal(await count(h, 'QoS'), 2);
    assert.equal(await count(h, 'Queue'), 5);
  });

  test('the flows: one per shaped network, by its port, into its queue, with netswitch\'s cookie', async () => {
    assert.deepEqual(await flows(h, 'br-eth0'), [
      'cookie=0x6e73770000000064, priority=100,in_port="vm_100" actions=set_queue:100,NORMAL',
      'cookie=0x6e73770000001388, priority=100,in_port=mgmt actions=set_queue:5000,NORMAL',
      'priority=0 actions=NORMAL',
    ]);
    assert.deepEqual(await flows(h, 'br-bond0'), ['cookie=0x6e73770000001000, priority=100,in_port=stor actions=set_queue:4096,NORMAL', 'priority=0 actions=NORMAL']);
  });

  test('re-applying plans nothing; the report says each network\'s hostQos as the request did', async () => {
    assert.deepEqual(await planSteps(h, SETUP), []);
    const r = await applyWithEnv(h, SETUP, [], { global: ['-o', 'json'] });
    assert.equal(JSON.parse(r.stdout).status, 'unchanged', r.stderr);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    const nets = show.kernel_config.networks;
    assert.deepEqual(nets.mgmt.hostQos, { out: { ls: { m2: 50 }, ul: { m2: 100_000_000 } } });
    assert.deepEqual(nets.vm_100.hostQos, { out: { ls: { m2: 20 } } });
    assert.deepEqual(nets.stor.hostQos, { out: { rt: { m2: 1_000_000 }, ul: { m2: 5_000_000 } } });
    assert.equal(nets.plain.hostQos, undefined);
    // capabilities say the same, per network and per NIC/bond (VDSM's `qos` list)
    const caps = show.capabilities;
    for (const name of ['mgmt', 'vm_100', 'stor']) assert.deepEqual(caps.networks[name].hostQos, nets[name].hostQos, name);
    assert.equal(caps.networks.plain.hostQos, undefined);
    assert.deepEqual(caps.nics.eth0.qos, [{ hostQos: nets.mgmt.hostQos, vlan: -1 }, { hostQos: nets.vm_100.hostQos, vlan: 100 }]);
    assert.deepEqual(caps.bondings.bond0.qos, [{ hostQos: nets.stor.hostQos, vlan: 0 }]);
  });

  test('flows ovs-vswitchd lost (as after its restart) are planned back, alone, and re-added; the report tells meanwhile', async () => {
    const r = await h.sh(['ovs-ofctl', 'del-flows', 'br-eth0', 'cookie=0x6e73770000000000/0xffffffff00000000']);
    assert.equal(r.code, 0, r.stderr);
    const show = JSON.parse((await h.cli(['-o', 'json', 'show'])).stdout);
    assert.equal(show.kernel_config.networks.mgmt.hostQos, undefined, 'a queue no flow sends to shapes nothing');
    assert.equal(show.capabilities.networks.mgmt.hostQos, undefined);
    const steps = await planSteps(h, SETUP);
    assert.deepEqual(steps.map((s) => s.commands[0]), [
      `ovs-ofctl add-flow br-eth0 'cookie=0x6e73770000000064,priority=100,in_port="vm_100",actions=set_queue:100,NORMAL'`,
      `ovs-ofctl add-flow br-eth0 'cookie=0x6e73770000001388,priority=100,in_port=mgmt,actions=set_queue:5000,NORMAL'`,
    ]);
    await applied(h, SETUP);
    assert.equal((await flows(h, 'br-eth0')).length, 3);
  });

  test('a failing apply is rolled back to identical rows and flows, wherever it fails', async () => {
    const steps = await planSteps(h, CHANGE);
    const index = (re: RegExp) => steps.findIndex((s) => re.test(s.commands[0])) + 1;
    const at = { flowDel: index(/^ovs-ofctl del-flows/), qos: index(/^ovs-vsctl set port eth0 qos=/), flowAdd: index(/^ovs-ofctl add-flow/), last: steps.length };
    assert.ok(at.flowDel > 0 && at.qos > at.flowDel && at.flowAdd > at.qos && at.last > at.flowAdd, JSON.stringify(steps.map((s) => s.commands[0])));
    const before = await wholeHost(h);
    assert.equal(before.flows['br-eth0'].length, 3);
    assert.match(before.ovsdb, /"queue 5000 of qos of eth0"/, 'the comparison covers the queues');
    for (const [where, step] of Object.entries(at)) {
      const r = await applyWithEnv(h, CHANGE, [`NETSWITCH_FAULT_STEP=${step}`]);
      assert.equal(r.code, 3, `${where}: ${r.stderr}`);
      assert.match(r.stderr, /rolled back/);
      assert.deepEqual(await wholeHost(h), before, where);
    }
  });

  test('a change: the QoS row replaced (the old rows deleted), the dropped network\'s flow gone', async () => {
    await applied(h, CHANGE);
    assert.deepEqual((await qosOf(h, 'eth0')).queues, { 0: queue(400, ROOT), 300: queue(40, ROOT, 'plain', 'ls'), 5000: queue(400, 30_000_000, 'mgmt', 'ls') });
    assert.deepEqual(await flows(h, 'br-eth0'), [
      'cookie=0x6e7377000000012c, priority=100,in_port=plain actions=set_queue:300,NORMAL',
      'cookie=0x6e73770000001388, priority=100,in_port=mgmt actions=set_queue:5000,NORMAL',
      'priority=0 actions=NORMAL',
    ]);
    assert.equal(await count(h, 'QoS'), 2);
    assert.equal(await count(h, 'Queue'), 5, 'no Queue row left behind');
    assert.deepEqual(await planSteps(h, CHANGE), []);
  });

  test('removal: hostQos dropped, then the networks: no QoS or Queue row and no flow of netswitch left', async () => {
    await applied(h, `
networks:
  mgmt: { switch: ovs, nic: eth0, ipaddr: 192.0.2.10, prefix: 24 }
  plain: { switch: ovs, nic: eth0, vlan: 300 }
  stor: { switch: ovs, bonding: bond0, vlan: 0, bridged: false }
`);
    assert.equal(await qosOf(h, 'eth0'), undefined);
    assert.equal(await qosOf(h, 'bond0'), undefined);
    assert.equal(await count(h, 'QoS'), 0);
    assert.equal(await count(h, 'Queue'), 0);
    assert.deepEqual(await flows(h, 'br-eth0'), ['priority=0 actions=NORMAL']);
    await applied(h, SETUP);
    await applied(h, 'networks: {}', '--replace');
    assert.equal(await vsctl(h, 'list-br'), '');
    assert.equal(await count(h, 'QoS'), 0, 'the QoS rows went with their ports');
    assert.equal(await count(h, 'Queue'), 0);
  });
});

describe('OVS host QoS: refusals', { skip: skipUnlessRoot }, () => {
  let h: SandboxHarness;
  before(async () => {
    h = await createSandbox({ prefix: PREFIX });
  });
  after(async () => h?.down());

  test('what linux-hfsc cannot express is refused with its path, and nothing changes', async () => {
    const before = await wholeHost(h);
    const r = await applyWithEnv(h, `
networks:
  burst: { switch: ovs, nic: eth0, hostQos: { out: { ls: { m2: 10 }, ul: { m1: 20000000, d: 5000, m2: 10000000 } } } }
  both: { switch: ovs, nic: eth1, hostQos: { out: { ls: { m2: 10 }, rt: { m2: 1000000 } } } }
`);
    assert.equal(r.code, 2, r.stderr);
    for (const path of ['networks.burst.hostQos.out.ul.m1', 'networks.burst.hostQos.out.ul.d', 'networks.both.hostQos.out.rt']) assert.match(r.stderr, new RegExp(path.replaceAll('.', '\\.')));
    assert.match(r.stderr, /hint: drop m1 and d/);
    assert.deepEqual(await wholeHost(h), before);
  });

  test('a port whose QoS row is someone else\'s is not taken over', async () => {
    await applied(h, 'networks: { net: { switch: ovs, nic: eth0 } }');
    await vsctl(h, '--', 'set', 'port', 'eth0', 'qos=@q', '--', '--id=@q', 'create', 'qos', 'type=linux-htb');
    const r = await applyWithEnv(h, 'networks: { net: { switch: ovs, nic: eth0, hostQos: { out: { ls: { m2: 10 } } } } }');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /networks\.net\.hostQos: OVS port eth0 already has a QoS row that netswitch did not make/);
    await vsctl(h, 'clear', 'port', 'eth0', 'qos');
  });
});
