// Kernel tier: what the host kernel here cannot do (bonding, 802.1Q, HFSC, the OVS kernel
// datapath), each scenario in its own user-mode Linux boot, checked with independent tools
// and real traffic. To add one: write a Scenario (a bash script that saves what it wants
// checked into $UML_OUT with `save NAME CMD...`, and a check on those files) and list it in
// SCENARIOS. Scripts are String.raw template literals: write shell variables as $name, never
// ${name} (that is JavaScript's interpolation). netswitch is there as `netswitch ARGS...`.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GUEST_STATE_DIR, type Scenario, runScenario } from './scenario.ts';
import { GUEST_NODE_DIR, REPO_ROOT, umlSkipReason } from './uml.ts';

interface IpLink {
  ifname: string;
  link?: string;
  master?: string;
  linkinfo?: {
    info_kind?: string;
    info_slave_kind?: string;
    info_data?: Record<string, unknown>;
  };
}

interface BondingStatus {
  mode: string;
  lacpRate: string;
  activeAggregator: { id: number; ports: number };
  slaves: { name: string; mii: string; aggregatorId: number }[];
}

/** The parts of /proc/net/bonding/BOND that the checks look at. */
function parseBonding(text: string): BondingStatus {
  const field = (block: string, name: string): string => {
    const m = new RegExp(`^\\s*${name}: (.*)$`, 'm').exec(block);
    assert.ok(m, `no '${name}:' in\n${block}`);
    return m[1].trim();
  };
  const [head, ...slaveBlocks] = text.split(/^(?=Slave Interface: )/m);
  const active = head.slice(head.indexOf('Active Aggregator Info:'));
  return {
    mode: field(head, 'Bonding Mode'),
    lacpRate: field(head, 'LACP rate'),
    activeAggregator: { id: Number(field(active, 'Aggregator ID')), ports: Number(field(active, 'Number of ports')) },
    slaves: slaveBlocks.map((b) => ({
      name: field(b, 'Slave Interface'),
      mii: field(b, 'MII Status'),
      aggregatorId: Number(field(b, 'Aggregator ID')),
    })),
  };
}

interface TcQdisc {
  kind: string;
  handle: string;
  root?: boolean;
  options?: Record<string, unknown>;
}

/**
 * `tc -j qdisc` output, parsed. iproute2 6.1 has no JSON printer for HFSC: it writes the
 * options as text, `"options":{default 10 }`, which is not JSON; those are turned into
 * `{"default":"10"}` here (and `tc -j class show` prints plain text for HFSC classes).
 */
function parseTcQdiscJson(text: string): TcQdisc[] {
  const repaired = text.replace(/"options":\{default ([0-9a-fx]+) \}/g, '"options":{"default":"$1"}');
  return JSON.parse(repaired) as TcQdisc[];
}

function assertPingOk(text: string): void {
  assert.match(text, /\b(\d+) packets transmitted, \1 received, 0% packet loss/, text);
}

let cliOnHost: Promise<{ help: string } | { missing: string }> | undefined;
/**
 * `bin/netswitch --help` on the host (once, with the guest's NETSWITCH_STATE_DIR): its
 * output, or why the CLI cannot be checked yet.
 */
function hostNetswitchHelp(): Promise<{ help: string } | { missing: string }> {
  cliOnHost ??= new Promise((resolve) => {
    const bin = join(REPO_ROOT, 'bin', 'netswitch');
    const env = { ...process.env, NETSWITCH_STATE_DIR: GUEST_STATE_DIR };
    execFile(bin, ['--help'], { encoding: 'utf8', timeout: 30_000, env }, (err, stdout, stderr) => {
      if (err === null) resolve({ help: stdout });
      else resolve({ missing: `${bin} --help fails on the host too (${err.message.split('\n')[0]}${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''})` });
    });
  });
  return cliOnHost;
}

const modules: Scenario = {
  name: 'modules: 802.3ad bond of dummies, VLAN, HFSC qdisc and classes',
  script: String.raw`
modprobe -a bonding 8021q sch_hfsc dummy
save lsmod.txt lsmod
for i in 0 1 2; do ip link add dummy$i type dummy; done
ip link add bond0 type bond mode 802.3ad miimon 100
ip link set dummy1 master bond0
ip link set dummy2 master bond0
ip link set dummy0 up
ip link set bond0 up
save bonding.txt cat /proc/net/bonding/bond0
save bond0.json ip -d -json link show bond0
save slaves.json ip -d -json link show master bond0

ip link add link dummy0 name dummy0.100 type vlan id 100
ip link set dummy0.100 up
save vlan.json ip -d -json link show dummy0.100

tc qdisc add dev dummy0 root handle 1: hfsc default 10
tc class add dev dummy0 parent 1: classid 1:1 hfsc sc rate 100mbit ul rate 100mbit
tc class add dev dummy0 parent 1:1 classid 1:10 hfsc sc rate 10mbit ul rate 20mbit
save qdisc.json tc -s -j qdisc show dev dummy0
save class.txt tc class show dev dummy0
`,
  async check(_r, c) {
    await c.sub('modules loaded', () => {
      const loaded = c.file('lsmod.txt').split('\n').map((l) => l.split(/\s+/)[0]);
      for (const m of ['bonding', '8021q', 'sch_hfsc', 'dummy']) assert.ok(loaded.includes(m), `${m} not in lsmod`);
    });
    await c.sub('bond0: 802.3ad with dummy1, dummy2', () => {
      const status = parseBonding(c.file('bonding.txt'));
      assert.equal(status.mode, 'IEEE 802.3ad Dynamic link aggregation');
      assert.deepEqual(status.slaves.map((s) => s.name).sort(), ['dummy1', 'dummy2']);
      const [bond] = c.json<IpLink[]>('bond0.json');
      assert.equal(bond.linkinfo?.info_kind, 'bond');
      assert.equal(bond.linkinfo?.info_data?.mode, '802.3ad');
      assert.equal(bond.linkinfo?.info_data?.miimon, 100);
      const slaves = c.json<IpLink[]>('slaves.json');
      assert.deepEqual(slaves.map((s) => s.ifname).sort(), ['dummy1', 'dummy2']);
      for (const s of slaves) assert.equal(s.linkinfo?.info_slave_kind, 'bond', s.ifname);
    });
    await c.sub('dummy0.100: VLAN 100 (802.1Q) on dummy0', () => {
      const [vlan] = c.json<IpLink[]>('vlan.json');
      assert.equal(vlan.link, 'dummy0');
      assert.equal(vlan.linkinfo?.info_kind, 'vlan');
      assert.equal(vlan.linkinfo?.info_data?.id, 100);
      assert.equal(vlan.linkinfo?.info_data?.protocol, '802.1Q');
    });
    await c.sub('HFSC root qdisc 1: with classes 1:1 and 1:10', () => {
      const qdiscs = parseTcQdiscJson(c.file('qdisc.json'));
      const root = qdiscs.find((q) => q.root === true);
      assert.equal(root?.kind, 'hfsc', JSON.stringify(qdiscs));
      assert.equal(root?.handle, '1:');
      assert.equal(root?.options?.default, '10');
      const classes = c.file('class.txt');
      assert.match(classes, /^class hfsc 1:1 parent 1: sc m1 0bit d 0us m2 100Mbit ul m1 0bit d 0us m2 100Mbit/m);
      assert.match(classes, /^class hfsc 1:10 parent 1:1 sc m1 0bit d 0us m2 10Mbit ul m1 0bit d 0us m2 20Mbit/m);
    });
  },
};

const node: Scenario = {
  name: "node: the project's Node 24 runs inside, and so does bin/netswitch",
  env: async (): Promise<Record<string, string>> => ('help' in (await hostNetswitchHelp()) ? { CHECK_CLI: '1' } : {}),
  script: String.raw`
save node-version.txt node -e 'console.log(process.version)'
save node-path.txt command -v node
if [ -n "$CHECK_CLI" ]; then
  save netswitch-help.txt netswitch --help
fi
`,
  async check(_r, c) {
    const cli = await hostNetswitchHelp();
    await c.sub('node --version matches the host', () => {
      const hostVersion = execFileSync(join(GUEST_NODE_DIR, 'node'), ['--version'], { encoding: 'utf8' }).trim();
      assert.equal(c.file('node-version.txt').trim(), hostVersion);
      assert.match(hostVersion, /^v24\./);
      assert.equal(c.file('node-path.txt').trim(), join(GUEST_NODE_DIR, 'node'));
    });
    const skip = 'missing' in cli ? `not checked yet: ${cli.missing}` : false;
    if (skip) c.t.diagnostic(skip);
    await c.sub(
      'bin/netswitch --help: the same text as on the host',
      () => {
        if ('help' in cli) assert.equal(c.file('netswitch-help.txt'), cli.help);
      },
      { skip },
    );
  },
};

const bondingTraffic: Scenario = {
  name: 'bonding traffic: 802.3ad over two veth pairs between namespaces, one pair down',
  script: String.raw`
modprobe -a bonding veth
ip netns add a
ip netns add b
ip link add a0 netns a type veth peer name b0 netns b
ip link add a1 netns a type veth peer name b1 netns b
for ns in a b; do
  ip -n $ns link set lo up
  ip -n $ns link add bond0 type bond mode 802.3ad miimon 100 lacp_rate fast
  ip -n $ns link set "$ns"0 master bond0
  ip -n $ns link set "$ns"1 master bond0
  ip -n $ns link set bond0 up
done
ip -n a addr add 10.0.0.1/24 dev bond0
ip -n b addr add 10.0.0.2/24 dev bond0
# LACP is done when every actor and partner port state is 63: in sync, collecting, distributing.
lacp_done() {
  local states
  states=$(ip netns exec "$1" awk '/port state:/ { print $3 }' /proc/net/bonding/bond0)
  [ -n "$states" ] && ! grep -qv '^63$' <<< "$states"
}
wait_for 30 eval 'lacp_done a && lacp_done b'
save bonding-a-before.txt ip netns exec a cat /proc/net/bonding/bond0
save bonding-b-before.txt ip netns exec b cat /proc/net/bonding/bond0
save ping-before.txt ip netns exec a ping -c 3 -i 0.2 -W 2 10.0.0.2

ip -n a link set a0 down
wait_for 10 eval 'ip netns exec a grep -A1 "Slave Interface: a0" /proc/net/bonding/bond0 | grep -q "MII Status: down"'
save ping-after.txt ip netns exec a ping -c 3 -i 0.2 -W 2 10.0.0.2
save bonding-a-after.txt ip netns exec a cat /proc/net/bonding/bond0
`,
  async check(_r, c) {
    await c.sub('LACP: one aggregator with both ports on each side', () => {
      for (const side of ['a', 'b']) {
        const s = parseBonding(c.file(`bonding-${side}-before.txt`));
        assert.equal(s.mode, 'IEEE 802.3ad Dynamic link aggregation');
        assert.equal(s.lacpRate, 'fast');
        assert.equal(s.activeAggregator.ports, 2, `side ${side}`);
        assert.deepEqual(s.slaves.map((p) => p.name).sort(), [`${side}0`, `${side}1`]);
        for (const p of s.slaves) assert.equal(p.aggregatorId, s.activeAggregator.id, `${p.name} in the active aggregator`);
      }
    });
    await c.sub('ping across the bond', () => assertPingOk(c.file('ping-before.txt')));
    await c.sub('a0 down: the aggregator keeps a1, ping still works', () => {
      const s = parseBonding(c.file('bonding-a-after.txt'));
      assert.equal(s.activeAggregator.ports, 1);
      const a1 = s.slaves.find((p) => p.name === 'a1');
      assert.equal(a1?.mii, 'up');
      assert.equal(a1?.aggregatorId, s.activeAggregator.id);
      assert.equal(s.slaves.find((p) => p.name === 'a0')?.mii, 'down');
      assertPingOk(c.file('ping-after.txt'));
    });
  },
};

const ovsKernel: Scenario = {
  name: 'OVS kernel datapath: a system bridge switches between two namespaces',
  script: String.raw`
modprobe -a openvswitch veth
D=/run/ovs
mkdir -p $D
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
ovsdb-tool create $D/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server $D/conf.db --remote=punix:$D/db.sock --unixctl=$D/ovsdb.ctl --pidfile=$D/ovsdb.pid --detach --log-file=$D/ovsdb.log
vsctl() { ovs-vsctl --db=unix:$D/db.sock --timeout=30 "$@"; }
vsctl --no-wait init
ip netns add a
ip netns add b
ip link add va type veth peer name pa netns a
ip link add vb type veth peer name pb netns b
ip link set va up
ip link set vb up
ip -n a link set pa up
ip -n a addr add 10.1.0.1/24 dev pa
ip -n b link set pb up
ip -n b addr add 10.1.0.2/24 dev pb
# ovs-vswitchd 3.1 started in the first 10 s of the kernel's uptime loses its upcalls.
uptime_at_least 10
ovs-vswitchd unix:$D/db.sock --unixctl=$D/vswitchd.ctl --pidfile=$D/vswitchd.pid --detach --log-file=$D/vswitchd.log
vsctl add-br br0 -- set bridge br0 datapath_type=system
vsctl add-port br0 va -- add-port br0 vb
save datapath-type.txt vsctl get bridge br0 datapath_type
save ping.txt ip netns exec a ping -c 3 -i 0.2 -W 2 10.1.0.2
save dpctl-show.txt ovs-dpctl show
save flows.txt ovs-appctl -t $D/vswitchd.ctl dpctl/dump-flows
`,
  async check(_r, c) {
    await c.sub('br0 is on the kernel datapath, with both ports', () => {
      assert.equal(c.file('datapath-type.txt').trim(), 'system');
      const dp = c.file('dpctl-show.txt');
      assert.match(dp, /^system@ovs-system:/m);
      for (const port of ['br0 \\(internal\\)', 'va', 'vb']) assert.match(dp, new RegExp(`port \\d+: ${port}$`, 'm'));
    });
    await c.sub('ping through the bridge, with kernel flows installed', () => {
      assertPingOk(c.file('ping.txt'));
      assert.match(c.file('flows.txt'), /eth_type\(0x0800\).*actions:\d+/);
    });
  },
};

// Longest first, so that two boots at a time finish together.
const SCENARIOS: Scenario[] = [ovsKernel, bondingTraffic, node, modules];

describe('kernel tier (user-mode Linux)', { concurrency: 2, skip: umlSkipReason() }, () => {
  for (const s of SCENARIOS) {
    test(s.name, async (t) => {
      await runScenario(s, t);
    });
  }
});
