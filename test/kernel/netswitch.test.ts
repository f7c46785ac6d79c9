// Kernel tier, netswitch itself: what needs a kernel with bonding, 802.1Q and the OVS kernel
// datapath, each scenario one user-mode Linux boot running the real CLI, checked with
// independent tools (ip -d -json, /proc/net/bonding, ovs-dpctl) and traffic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configuredLinks } from '../lib/configured.ts';
import { type Scenario, runScenario } from './scenario.ts';
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

describe('kernel tier: netswitch (user-mode Linux)', { concurrency: 2, skip: umlSkipReason() }, () => {
  for (const s of [bondsAndVlans, ovsKernelDatapath]) {
    test(s.name, async (t) => {
      await runScenario(s, t);
    });
  }
});
