// Kernel tier, netswitch itself: what needs a kernel with bonding, 802.1Q, HFSC and the OVS
// kernel datapath, each scenario one user-mode Linux boot running the real CLI, checked with
// independent tools (ip -d -json, /proc/net/bonding, ovs-dpctl, tc, ovs-ofctl) and traffic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configuredLinks } from '../lib/configured.ts';
import { type CheckContext, type Scenario, runScenario } from './scenario.ts';
import { umlSkipReason } from './uml.ts';

// Callers name the fields they check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** ip -d -json addr, reduced to what configuration decides (as the host tier compares it). */
function configured(links: Json[]): string {
  return JSON.stringify(configuredLinks(links), null, 1);
}

const bondsAndVlans: Scenario = {
  name: 'netswitch legacy: bond, VLANs on a bond and on a NIC (VLAN 0), mode change, refused option rolled back',
  timeoutMs: 240_000,
  script: String.raw`
modprobe -a bonding 8021q dummy bridge
for i in 0 1 2 3; do ip link add eth$i type dummy; done
cat > /tmp/setup.yaml <<'END'
networks:
  mgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24, gateway: 192.0.2.1, defaultRoute: true }
  vm100: { bonding: bond0, vlan: 100, ipaddr: 198.51.100.10, prefix: 24 }
  vm200: { bonding: bond0, vlan: 200, bridged: false, mtu: 9000 }
  stor: { nic: eth3, vlan: 0, bridged: false, ipaddr: 203.0.113.10, prefix: 24 }
bondings:
  bond0: { nics: [eth2, eth1], options: "mode=1 miimon=100" }
END
netswitch apply /tmp/setup.yaml
save bonding-1.txt cat /proc/net/bonding/bond0
save links-1.json ip -d -json addr show
save replan.json netswitch -o json plan /tmp/setup.yaml
cat > /tmp/mode.yaml <<'END'
bondings:
  bond0: { nics: [eth1, eth2], options: "mode=802.3ad miimon=100 lacp_rate=fast" }
END
netswitch apply /tmp/mode.yaml
save bonding-2.txt cat /proc/net/bonding/bond0
save links-2.json ip -d -json addr show
# resend_igmp is 0-255 in the kernel: a value it refuses when the bond is re-created, mid-apply.
cat > /tmp/bad.yaml <<'END'
networks:
  mgmt: { remove: true }
bondings:
  bond0: { nics: [eth1, eth2], options: "mode=active-backup miimon=100 resend_igmp=300" }
END
set +e
netswitch apply /tmp/bad.yaml > $UML_OUT/bad.out 2>&1
echo $? > $UML_OUT/bad.rc
set -e
save links-3.json ip -d -json addr show
save show.json netswitch show -o json
`,
  async check(_r, c) {
    await c.sub('bond0 is active-backup with its NICs, VLANs on bond and NIC', () => {
      assert.match(c.file('bonding-1.txt'), /Bonding Mode: fault-tolerance \(active-backup\)/);
      assert.match(c.file('bonding-1.txt'), /Slave Interface: eth1[\s\S]*Slave Interface: eth2/);
      const links: Json[] = c.json('links-1.json');
      const by = (n: string) => links.find((l) => l.ifname === n);
      assert.equal(by('bond0.100').linkinfo.info_data.id, 100);
      assert.equal(by('bond0.100').master, 'vm100');
      assert.deepEqual(by('vm100').addr_info.filter((a: Json) => a.family === 'inet').map((a: Json) => a.local), ['198.51.100.10']);
      assert.equal(by('bond0.200').mtu, 9000);
      assert.equal(by('bond0').mtu, 9000, 'a bond gets the largest MTU of its networks');
      assert.equal(by('eth1').mtu, 9000, 'and pushes it to its slaves');
      assert.equal(by('eth3.0').linkinfo.info_data.id, 0, 'VLAN 0 is a real tag');
      assert.deepEqual(by('eth3.0').addr_info.filter((a: Json) => a.family === 'inet').map((a: Json) => a.local), ['203.0.113.10']);
    });
    await c.sub('re-planning the applied config gives nothing', () => {
      assert.deepEqual(c.json('replan.json').steps, []);
    });
    await c.sub('a mode change re-creates the bond; its VLANs and networks come back', () => {
      assert.match(c.file('bonding-2.txt'), /Bonding Mode: IEEE 802.3ad Dynamic link aggregation/);
      assert.match(c.file('bonding-2.txt'), /LACP rate: fast/);
      const links: Json[] = c.json('links-2.json');
      const by = (n: string) => links.find((l) => l.ifname === n);
      assert.equal(by('bond0.100').master, 'vm100');
      assert.equal(by('eth1').master, 'bond0');
      assert.equal(by('eth2').master, 'bond0');
    });
    await c.sub('an option the kernel refuses mid-apply is rolled back to an identical host', () => {
      assert.equal(c.file('bad.rc').trim(), '3', c.file('bad.out'));
      assert.match(c.file('bad.out'), /rolled back/);
      assert.equal(configured(c.json('links-3.json')), configured(c.json('links-2.json')));
    });
    await c.sub('the report shows the bond and the VLANs', () => {
      const show = c.json('show.json');
      assert.equal(show.capabilities.bondings.bond0.opts.mode, '802.3ad');
      assert.deepEqual(show.capabilities.bondings.bond0.slaves, ['eth1', 'eth2']);
      assert.equal(show.capabilities.vlans['bond0.100'].vlanid, 100);
      assert.equal(show.kernel_config.networks.vm100.bonding, 'bond0');
      assert.equal(show.kernel_config.networks.vm100.vlan, 100);
      assert.equal(show.kernel_config.networks.stor.vlan, 0);
      assert.match(show.kernel_config.bondings.bond0.options, /^mode=802\.3ad/);
    });
  },
};

const sharedNicMtus: Scenario = {
  name: 'netswitch legacy MTUs: a 1500 bridge beside a jumbo VLAN on one NIC or bond (at once, later, rolled back); slaves of a removed bond',
  timeoutMs: 240_000,
  script: String.raw`
modprobe -a bonding 8021q dummy bridge
for i in 0 1 2 3; do ip link add eth$i type dummy; done
# At once: oVirt's management network at 1500 and a jumbo storage VLAN on one NIC.
cat > /tmp/a.yaml <<'END'
networks:
  mgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24 }
  stor: { nic: eth0, vlan: 20, bridged: false, mtu: 9000 }
END
netswitch apply /tmp/a.yaml
save links-a.json ip -d -json link show
# Later: the untagged network first, the jumbo VLAN added to its NIC afterwards; that change
# first failing at its last step (rolled back), then for real.
echo 'networks: { u1: { nic: eth1 } }' > /tmp/b1.yaml
netswitch apply /tmp/b1.yaml
save links-b0.json ip -d -json addr show
echo 'networks: { j1: { nic: eth1, vlan: 30, bridged: false, mtu: 9000 } }' > /tmp/b2.yaml
netswitch -o json plan /tmp/b2.yaml > /tmp/b2.plan
set +e
NETSWITCH_FAULT_STEP=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("/tmp/b2.plan","utf8")).steps.length)') netswitch apply /tmp/b2.yaml
echo $? > $UML_OUT/fault.rc
set -e
save links-b1.json ip -d -json addr show
netswitch apply /tmp/b2.yaml
save links-b2.json ip -d -json link show
# A bond with a 1500 bridge and two larger VLAN networks; the VLANs go, then the bond: its
# slaves end at 1500 (VDSM link_mtu_test), though the driver gives them the MTU they had.
cat > /tmp/c.yaml <<'END'
networks:
  bu: { bonding: bond1 }
  b10: { bonding: bond1, vlan: 10, bridged: false, mtu: 1600 }
  b20: { bonding: bond1, vlan: 20, bridged: false, mtu: 2000 }
bondings:
  bond1: { nics: [eth2, eth3], options: "mode=active-backup miimon=100" }
END
netswitch apply /tmp/c.yaml
save links-c1.json ip -d -json link show
echo 'networks: { b20: { remove: true } }' > /tmp/c2.yaml
netswitch apply /tmp/c2.yaml
echo 'networks: { b10: { remove: true }, bu: { remove: true } }' > /tmp/c3.yaml
netswitch apply /tmp/c3.yaml
echo 'bondings: { bond1: { remove: true } }' > /tmp/c4.yaml
netswitch apply /tmp/c4.yaml
save links-c4.json ip -d -json link show
`,
  async check(_r, c) {
    const mtus = (file: string) => Object.fromEntries((c.json(file) as Json[]).map((l) => [l.ifname, l.mtu]));
    await c.sub('at once: the bridge keeps 1500 over its 9000 NIC', () => {
      const m = mtus('links-a.json');
      assert.deepEqual([m.mgmt, m.eth0, m['eth0.20']], [1500, 9000, 9000]);
    });
    await c.sub('later: a failure at the last step restores the host exactly; then the bridge keeps 1500', () => {
      assert.equal(c.file('fault.rc').trim(), '3');
      assert.equal(configured(c.json('links-b1.json')), configured(c.json('links-b0.json')));
      const m = mtus('links-b2.json');
      assert.deepEqual([m.u1, m.eth1, m['eth1.30']], [1500, 9000, 9000]);
    });
    await c.sub('on a bond: the bridge keeps 1500 over the 2000 bond', () => {
      const m = mtus('links-c1.json');
      assert.deepEqual([m.bu, m.bond1, m.eth2, m['bond1.10'], m['bond1.20']], [1500, 2000, 2000, 1600, 2000]);
    });
    await c.sub("a removed bond's slaves end at 1500", () => {
      const m = mtus('links-c4.json');
      assert.deepEqual([m.bond1, m.eth2, m.eth3], [undefined, 1500, 1500]);
    });
  },
};

const ovsKernelDatapath: Scenario = {
  name: 'netswitch ovs on the kernel datapath: a VLAN network reaches a namespace through the bridge',
  timeoutMs: 240_000,
  script: String.raw`
modprobe -a openvswitch veth 8021q
D=/run/ovs
mkdir -p $D
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
ovsdb-tool create $D/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server $D/conf.db --remote=punix:$D/db.sock --unixctl=$D/ovsdb.ctl --pidfile=$D/ovsdb.pid --detach --log-file=$D/ovsdb.log
ovs-vsctl --db=unix:$D/db.sock --no-wait init
# The far end: a namespace with a VLAN 42 interface on the other end of eth0's cable.
ip netns add peer
ip link add eth0 type veth peer name p0 netns peer
ip -n peer link set p0 up
ip -n peer link add link p0 name p0.42 type vlan id 42
ip -n peer link set p0.42 up
ip -n peer addr add 198.51.100.1/24 dev p0.42
uptime_at_least 10
ovs-vswitchd unix:$D/db.sock --unixctl=$D/vswitchd.ctl --pidfile=$D/vswitchd.pid --detach --log-file=$D/vswitchd.log
export NETSWITCH_OVSDB=unix:$D/db.sock
cat > /tmp/ovs.yaml <<'END'
networks:
  tenant: { nic: eth0, vlan: 42, switch: ovs, ipaddr: 198.51.100.10, prefix: 24 }
END
netswitch apply --ovs-datapath system /tmp/ovs.yaml
save datapath.txt ovs-vsctl --db=unix:$D/db.sock get bridge br-eth0 datapath_type
save tag.txt ovs-vsctl --db=unix:$D/db.sock get port tenant tag
save dpctl.txt ovs-dpctl show
save ping.txt ip netns exec peer ping -c 3 -i 0.2 -W 2 198.51.100.10
save show.json netswitch show -o json
`,
  async check(_r, c) {
    await c.sub('br-eth0 is a kernel-datapath bridge with the tagged internal port', () => {
      assert.equal(c.file('datapath.txt').trim(), 'system');
      assert.equal(c.file('tag.txt').trim(), '42');
      assert.match(c.file('dpctl.txt'), /port \d+: tenant \(internal\)/);
      assert.match(c.file('dpctl.txt'), /port \d+: eth0$/m);
    });
    await c.sub('tagged traffic reaches the network through the kernel datapath', () => {
      assert.match(c.file('ping.txt'), / 0% packet loss/);
    });
    await c.sub('the report: a VLAN network of the ovs switch', () => {
      const show = c.json('show.json');
      assert.equal(show.capabilities.networks.tenant.switch, 'ovs');
      assert.equal(show.capabilities.networks.tenant.vlanid, 42);
      assert.equal(show.capabilities.vlans['eth0.42'].switch, 'ovs');
      assert.equal(show.kernel_config.networks.tenant.nic, 'eth0');
    });
  },
};

const hostQos: Scenario = {
  name: 'netswitch hostQos: HFSC classes per network from a request, changed, rolled back, removed',
  timeoutMs: 240_000,
  script: String.raw`
modprobe -a 8021q dummy bridge sch_hfsc sch_fq_codel cls_basic em_meta
for i in 0 1; do ip link add eth$i type dummy; done
cat > /tmp/qos.yaml <<'END'
networks:
  mgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24, hostQos: { out: { ls: { m2: 50 } } } }
  vm100: { nic: eth0, vlan: 100, hostQos: { out: { ls: { m2: 20 }, ul: { m2: 20000000 } } } }
END
netswitch apply /tmp/qos.yaml
save classes-1.txt tc class show dev eth0
save filters-1.txt tc filter show dev eth0
save replan.json netswitch -o json plan /tmp/qos.yaml
save show.json netswitch show -o json
cat > /tmp/qos2.yaml <<'END'
networks:
  vm100: { nic: eth0, vlan: 100, hostQos: { out: { ls: { m2: 20 }, ul: { m2: 30000000 } } } }
END
# The change with a refusal injected at its last step: rolled back to the same classes.
set +e
NETSWITCH_FAULT_STEP=$(netswitch -o json plan /tmp/qos2.yaml | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).steps.length)') netswitch apply /tmp/qos2.yaml > $UML_OUT/fault.out 2>&1
echo $? > $UML_OUT/fault.rc
set -e
save classes-2.txt tc class show dev eth0
netswitch apply /tmp/qos2.yaml
save classes-3.txt tc class show dev eth0
cat > /tmp/noqos.yaml <<'END'
networks:
  mgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24 }
  vm100: { nic: eth0, vlan: 100 }
END
netswitch apply /tmp/noqos.yaml
save qdisc-4.txt tc qdisc show dev eth0
`,
  async check(_r, c) {
    await c.sub('the qdisc, a class per network (VLAN 100: 1389:64) and a VLAN filter', () => {
      const classes = c.file('classes-1.txt');
      assert.match(classes, /class hfsc 1389:1388 parent 1389: leaf 1388: ls m1 0bit d 0us m2 400bit/);
      assert.match(classes, /class hfsc 1389:64 parent 1389: leaf 64: ls m1 0bit d 0us m2 160bit ul m1 0bit d 0us m2 20Mbit/);
      assert.match(c.file('filters-1.txt'), /flowid 1389:64/);
    });
    await c.sub('re-planning is empty; the report says the curves back', () => {
      assert.deepEqual(c.json('replan.json').steps, []);
      const show = c.json('show.json');
      assert.deepEqual(show.kernel_config.networks.vm100.hostQos, { out: { ls: { m2: 20 }, ul: { m2: 20000000 } } });
      assert.deepEqual(show.kernel_config.networks.mgmt.hostQos, { out: { ls: { m2: 50 } } });
    });
    await c.sub('a failure after the change is rolled back to the same classes', () => {
      assert.equal(c.file('fault.rc').trim(), '3', c.file('fault.out'));
      // fq_codel lists its active flows as classes: traffic, not configuration
      const hfsc = (text: string) => text.split('\n').filter((l) => l.startsWith('class hfsc')).join('\n');
      assert.equal(hfsc(c.file('classes-2.txt')), hfsc(c.file('classes-1.txt')));
    });
    await c.sub('the change itself goes through, and removal takes the qdisc away', () => {
      assert.match(c.file('classes-3.txt'), /class hfsc 1389:64 .* ul m1 0bit d 0us m2 30Mbit/);
      assert.doesNotMatch(c.file('qdisc-4.txt'), /hfsc/);
    });
  },
};

// The shaped network's limit (ul) in the OVS scenario, bit/s.
const OVS_UL = 10_000_000;

const ovsHostQos: Scenario = {
  name: 'netswitch hostQos on ovs (kernel datapath): linux-hfsc QoS rows and flows, the classes OVS made, iperf3 within the limit; restart, rollback, removal',
  timeoutMs: 240_000,
  script: String.raw`
modprobe -a openvswitch veth 8021q sch_hfsc
D=/run/ovs
mkdir -p $D
export OVS_RUNDIR=$D OVS_DBDIR=$D OVS_LOGDIR=$D OVS_SYSCONFDIR=$D
ovsdb-tool create $D/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server $D/conf.db --remote=punix:$D/db.sock --unixctl=$D/ovsdb.ctl --pidfile=$D/ovsdb.pid --detach --log-file=$D/ovsdb.log
ovs-vsctl --no-wait init
# The far end: untagged and VLAN 100 addresses on the other end of eth0's cable, iperf3 there.
ip netns add peer
ip link add eth0 type veth peer name p0 netns peer
ip -n peer link set p0 up
ip -n peer link add link p0 name p0.100 type vlan id 100
ip -n peer link set p0.100 up
ip -n peer addr add 10.0.0.2/24 dev p0
ip -n peer addr add 10.1.0.2/24 dev p0.100
ip link add eth1 type veth peer name p1 netns peer
ip link add eth2 type veth peer name p2 netns peer
ip netns exec peer iperf3 -s -D -p 5201
uptime_at_least 10
vswitchd() { ovs-vswitchd unix:$D/db.sock --unixctl=$D/vswitchd.ctl --pidfile=$D/vswitchd.pid --detach --log-file=$D/vswitchd.log; }
vswitchd
export NETSWITCH_OVSDB=unix:$D/db.sock NETSWITCH_OVS_DATAPATH=system
cat > /tmp/qos.yaml <<'END'
networks:
  shaped: { nic: eth0, vlan: 100, switch: ovs, ipaddr: 10.1.0.1, prefix: 24, hostQos: { out: { ls: { m2: 20 }, ul: { m2: ${OVS_UL} } } } }
  free: { nic: eth0, switch: ovs, ipaddr: 10.0.0.1, prefix: 24 }
  bonded: { bonding: bond0, vlan: 200, switch: ovs, bridged: false, hostQos: { out: { rt: { m2: 2000000 }, ul: { m2: 5000000 } } } }
bondings:
  bond0: { nics: [eth1, eth2], switch: ovs, options: "mode=active-backup" }
END
netswitch apply /tmp/qos.yaml
save qdisc-1.txt tc qdisc show dev eth0
save classes-1.txt tc class show dev eth0
save classes-eth1.txt tc class show dev eth1
save classes-eth2.txt tc class show dev eth2
save flows-1.txt ovs-ofctl dump-flows --names --no-stats br-eth0
save replan.json netswitch -o json plan /tmp/qos.yaml
save show.json netswitch show -o json
wait_for 10 ping -c1 -W1 10.1.0.2
wait_for 10 ping -c1 -W1 10.0.0.2
save iperf-shaped.json iperf3 -c 10.1.0.2 -p 5201 -t 3 -J
save iperf-free.json iperf3 -c 10.0.0.2 -p 5201 -t 3 -J
save classes-traffic.txt tc -s class show dev eth0
# ovs-vswitchd restarts (the kernel datapath and OVSDB stay): its flows are gone until restore.
ovs-appctl -t $D/vswitchd.ctl exit
vswitchd
ovs-vsctl --timeout=30 wait-until bridge br-eth0
save flows-restarted.txt ovs-ofctl dump-flows --names --no-stats br-eth0
save plan-restarted.json netswitch -o json plan /tmp/qos.yaml
netswitch restore
save flows-restored.txt ovs-ofctl dump-flows --names --no-stats br-eth0
# A change that fails at its last step: the classes are as before.
cat > /tmp/qos2.yaml <<'END'
networks:
  shaped: { nic: eth0, vlan: 100, switch: ovs, ipaddr: 10.1.0.11, prefix: 24, hostQos: { out: { ls: { m2: 20 }, ul: { m2: 20000000 } } } }
END
set +e
NETSWITCH_FAULT_STEP=$(netswitch -o json plan /tmp/qos2.yaml | grep -c '"description"') netswitch apply /tmp/qos2.yaml > $UML_OUT/fault.out 2>&1
echo $? > $UML_OUT/fault.rc
set -e
save classes-2.txt tc class show dev eth0
save flows-2.txt ovs-ofctl dump-flows --names --no-stats br-eth0
# hostQos dropped (OVS takes its qdisc away), shaped again, then the bridge removed with it.
cat > /tmp/noqos.yaml <<'END'
networks:
  shaped: { nic: eth0, vlan: 100, switch: ovs, ipaddr: 10.1.0.1, prefix: 24 }
END
netswitch apply /tmp/noqos.yaml
save qdisc-3.txt tc qdisc show dev eth0
netswitch apply /tmp/qos.yaml
save qdisc-4.txt tc qdisc show dev eth0
echo 'networks: {}' > /tmp/none.yaml
netswitch apply --replace /tmp/none.yaml
save qdisc-5.txt tc qdisc show
save qos-rows.txt ovs-vsctl --bare --columns=_uuid list qos
`,
  async check(_r, c) {
    await c.sub('OVS made its hfsc on the NIC from the rows: root class at the QoS max-rate, 1:65 for queue 100 at ul, the default class', () => {
      assert.match(c.file('qdisc-1.txt'), /^qdisc hfsc 1: root .*default 1/m);
      const classes = c.file('classes-1.txt');
      assert.match(classes, /class hfsc 1:fffe parent 1: sc m1 0bit d 0us m2 34359Mbit ul m1 0bit d 0us m2 34359Mbit/);
      assert.match(classes, /class hfsc 1:65 parent 1:fffe sc m1 0bit d 0us m2 160bit ul m1 0bit d 0us m2 10Mbit/);
      assert.match(classes, /class hfsc 1:1 parent 1:fffe sc m1 0bit d 0us m2 160bit ul m1 0bit d 0us m2 34359Mbit/);
      assert.match(c.file('flows-1.txt'), /cookie=0x6e73770000000064, priority=100,in_port=shaped actions=set_queue:100,NORMAL/);
    });
    await c.sub('an OVS bond: the same classes on each member (queue 200: 1:c9, rt 2 Mbit/s, ul 5 Mbit/s)', () => {
      for (const nic of ['eth1', 'eth2']) {
        const classes = c.file(`classes-${nic}.txt`);
        assert.match(classes, /class hfsc 1:c9 parent 1:fffe sc m1 0bit d 0us m2 2Mbit ul m1 0bit d 0us m2 5Mbit/, nic);
        assert.match(classes, /class hfsc 1:1 parent 1:fffe sc m1 0bit d 0us m2 2Mbit ul m1 0bit d 0us m2 34359Mbit/, nic);
      }
    });
    await c.sub('re-planning is empty; the report says the hostQos back', () => {
      assert.deepEqual(c.json('replan.json').steps, []);
      const nets = c.json('show.json').kernel_config.networks;
      assert.deepEqual(nets.shaped.hostQos, { out: { ls: { m2: 20 }, ul: { m2: OVS_UL } } });
      assert.deepEqual(nets.bonded.hostQos, { out: { rt: { m2: 2_000_000 }, ul: { m2: 5_000_000 } } });
      assert.equal(nets.free.hostQos, undefined);
    });
    await checkRate(c, 'iperf-shaped.json', OVS_UL, 'from the shaped network (queue 100, max-rate 10 Mbit/s)');
    await c.sub('iperf3 from the unshaped network is not held to that limit', () => {
      const rate = c.json('iperf-free.json').end.sum_received.bits_per_second as number;
      c.t.diagnostic(`unshaped: ${(rate / 1e6).toFixed(1)} Mbit/s`);
      assert.ok(rate > 3 * OVS_UL, `${(rate / 1e6).toFixed(1)} Mbit/s`);
    });
    await c.sub('the shaped traffic went through class 1:65, the rest through the default class 1:1', () => {
      const sent = (classid: string) => Number(new RegExp(`^class hfsc ${classid} .*\\n Sent (\\d+) bytes`, 'm').exec(c.file('classes-traffic.txt'))?.[1] ?? 0);
      assert.ok(sent('1:65') > 2_000_000, `1:65 sent ${sent('1:65')} bytes:\n${c.file('classes-traffic.txt')}`);
      assert.ok(sent('1:1') > 10 * sent('1:65'), `1:1 sent ${sent('1:1')} bytes:\n${c.file('classes-traffic.txt')}`);
    });
    await c.sub('after a restart of ovs-vswitchd the flow is gone, the plan adds it (nothing else), restore brings it back', () => {
      assert.doesNotMatch(c.file('flows-restarted.txt'), /cookie=0x6e7377/);
      const steps: { commands: string[] }[] = c.json('plan-restarted.json').steps;
      assert.deepEqual(steps.map((s) => s.commands[0]), [
        "ovs-ofctl add-flow br-bond0 'cookie=0x6e737700000000c8,priority=100,in_port=bonded,actions=set_queue:200,NORMAL'",
        "ovs-ofctl add-flow br-eth0 'cookie=0x6e73770000000064,priority=100,in_port=shaped,actions=set_queue:100,NORMAL'",
      ]);
      assert.equal(c.file('flows-restored.txt'), c.file('flows-1.txt'));
    });
    await c.sub('a change failing at its last step leaves the classes and flows as they were', () => {
      assert.equal(c.file('fault.rc').trim(), '3', c.file('fault.out'));
      assert.equal(c.file('classes-2.txt'), c.file('classes-1.txt'));
      assert.equal(c.file('flows-2.txt'), c.file('flows-1.txt'));
    });
    await c.sub('hostQos dropped: OVS takes the qdisc away; the NICs leaving OVS (bond members too): netswitch does, and no QoS row is left', () => {
      assert.doesNotMatch(c.file('qdisc-3.txt'), /hfsc/);
      assert.match(c.file('qdisc-4.txt'), /^qdisc hfsc 1: root/m);
      assert.doesNotMatch(c.file('qdisc-5.txt'), /hfsc/);
      assert.equal(c.file('qos-rows.txt').trim(), '');
    });
  },
};

/** The receiver's rate of an iperf3 -J run lies within loose bounds of the limit (shaping holds it there). */
async function checkRate(c: CheckContext, file: string, limit: number, what: string): Promise<void> {
  await c.sub(`iperf3 ${what}: received rate within 0.3-1.5 x the limit`, () => {
    const rate = c.json(file).end.sum_received.bits_per_second as number;
    c.t.diagnostic(`${what}: ${(rate / 1e6).toFixed(1)} Mbit/s received (limit ${limit / 1e6})`);
    assert.ok(rate > 0.3 * limit && rate < 1.5 * limit, `${(rate / 1e6).toFixed(1)} Mbit/s, limit ${limit / 1e6} Mbit/s`);
  });
}

describe('kernel tier: netswitch (user-mode Linux)', { concurrency: 2, skip: umlSkipReason() }, () => {
  for (const s of [bondsAndVlans, sharedNicMtus, ovsKernelDatapath, hostQos, ovsHostQos]) {
    test(s.name, async (t) => {
      await runScenario(s, t);
    });
  }
});
