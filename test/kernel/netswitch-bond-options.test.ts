// Kernel tier: bonding options a request stops setting go back to the kernel's defaults (primary
// to none, the ARP targets emptied, ad_actor_system zeroed), the planner sees them and show reports
// them; a bond MAC set once stays and kernel_config says it; a rolled-back bond re-creation keeps
// its active slave (and slaves that were down stay down); a network on a bond netswitch did not
// make takes the bond over as it is.
// One user-mode Linux boot; checked with ip -d -json, sysfs and netswitch's own plan and show.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Scenario, runScenario } from './scenario.ts';
import { umlSkipReason } from './uml.ts';

// Callers name the fields they check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const info = (links: Json[], name: string): Json => {
  const l = links.find((x) => x.ifname === name);
  assert.ok(l, `no link ${name}`);
  return l.linkinfo.info_data;
};

const bondOptions: Scenario = {
  name: 'netswitch bond options: dropped options reset, reported, planned; hwaddr kept; active slave after rollback; a host bond adopted',
  timeoutMs: 240_000,
  memMb: 768,
  script: String.raw`
modprobe -a bonding 8021q dummy
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do ip link add eth$i type dummy; done
cat > /tmp/c1.yaml <<'END'
bondings:
  bond1: {nics: [eth0, eth1], options: "mode=1 miimon=150 primary=eth1"}
  bond3: {nics: [eth4, eth5], options: "mode=1 arp_interval=1000 arp_ip_target=10.1.3.1,10.1.2.1"}
  bond4: {nics: [eth2, eth3], options: "mode=4 miimon=100 ad_actor_system=02:11:22:33:44:55", hwaddr: "ce:0c:46:59:c9:d1"}
END
cat > /tmp/c2.yaml <<'END'
bondings:
  bond1: {nics: [eth0, eth1], options: "mode=1 miimon=150"}
  bond3: {nics: [eth4, eth5], options: "mode=1 arp_interval=1000 arp_ip_target=10.1.3.1"}
  bond4: {nics: [eth2, eth3], options: "mode=4 miimon=100"}
END
cat > /tmp/c3.yaml <<'END'
bondings:
  bond3: {nics: [eth4, eth5], options: "mode=1 miimon=100"}
END
netswitch apply /tmp/c1.yaml
save show-1.json netswitch -o json show
# kernel_config as a request: applied with --replace it plans nothing
node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(0, "utf8")).kernel_config))' < $UML_OUT/show-1.json > /tmp/kc1.json
save replan-kc1.json netswitch -o json plan --replace /tmp/kc1.json
save links-1.json ip -d -json link show type bond
# a primary set by hand on a bond whose request has none: the planner sees it
netswitch apply /tmp/c2.yaml
save links-2.json ip -d -json link show type bond
save replan-2.json netswitch -o json plan /tmp/c2.yaml
save show-2.json netswitch -o json show
netswitch apply /tmp/c3.yaml
save links-3.json ip -d -json link show type bond
save replan-3.json netswitch -o json plan /tmp/c3.yaml
ip link set dev bond3 type bond primary eth5
save replan-3b.json netswitch -o json plan /tmp/c3.yaml

# A bond re-creation (mode change, a slave swapped) that fails at its last step: rolled back,
# the bond carries its traffic on the same slave as before — the first one, then one set by hand.
cat > /tmp/m8.yaml <<'END'
bondings:
  bond1: {nics: [eth0, eth6], options: "mode=802.3ad miimon=100"}
END
active() { cat /sys/class/net/bond1/bonding/active_slave; }
# fail_m8 N: the change applied with a fault at its last step; the active slave before and after.
fail_m8() {
  active > $UML_OUT/active-before-$1
  set +e
  NETSWITCH_FAULT_STEP=$(netswitch -o json plan /tmp/m8.yaml | grep -c '"description"') netswitch apply /tmp/m8.yaml > $UML_OUT/fault-$1.out 2>&1
  echo $? > $UML_OUT/fault-$1.rc
  set -e
  wait_for 5 test -n "$(active)"
  active > $UML_OUT/active-after-$1
}
fail_m8 1
ip link set dev bond1 type bond active_slave eth1
fail_m8 2

# A balance-alb bond whose slaves are down: a mode change that fails at its last step is
# rolled back with the slaves attached and down again (attaching brings a slave up).
cat > /tmp/a1.yaml <<'END'
bondings:
  bond5: {nics: [eth10, eth11], options: "mode=balance-alb miimon=100"}
END
cat > /tmp/a2.yaml <<'END'
bondings:
  bond5: {nics: [eth10, eth11], options: "mode=active-backup miimon=100"}
END
netswitch apply /tmp/a1.yaml
# Its slaves down: no active slave to re-attach first, the undo attaches them in their order.
ip link set eth10 down; ip link set eth11 down
wait_for 5 sh -c 'test -z "$(cat /sys/class/net/bond5/bonding/active_slave)"'
save alb-before.json ip -json link show
set +e
NETSWITCH_FAULT_STEP=$(netswitch -o json plan /tmp/a2.yaml | grep -c '"description"') netswitch apply /tmp/a2.yaml > $UML_OUT/alb.out 2>&1
echo $? > $UML_OUT/alb.rc
set -e
save alb-after.json ip -json link show

# A bond made by hand, with a dirty slave address and a VLAN of its own: a network on it adopts it.
ip link add bond7 type bond mode active-backup miimon 100
ip link set eth8 master bond7; ip link set eth9 master bond7
ip link set bond7 address ce:0c:46:59:c9:d2; ip link set bond7 up
ip addr add 10.9.9.9/24 dev eth8
ip link add link bond7 name bond7.100 type vlan id 100; ip addr add 10.100.0.1/24 dev bond7.100; ip link set bond7.100 up
cat > /tmp/n7.yaml <<'END'
networks:
  n7: {bonding: bond7, bridged: false, ipaddr: 192.0.2.7, prefix: 24}
END
netswitch apply /tmp/n7.yaml
save addr-7.json ip -d -json addr show
save replan-7.json netswitch -o json plan /tmp/n7.yaml
save show-7.json netswitch -o json show
# A bond without slaves cannot be taken over: refused, nothing changed
ip link add bond8 type bond
cat > /tmp/n8.yaml <<'END'
networks:
  n8: {bonding: bond8, bridged: false}
END
set +e
netswitch apply /tmp/n8.yaml > $UML_OUT/n8.out 2>&1
echo $? > $UML_OUT/n8.rc
set -e
`,
  async check(_r, c) {
    await c.sub('show reports primary, arp_ip_target and ad_actor_system in opts and kernel_config', () => {
      const show = c.json('show-1.json');
      assert.equal(show.capabilities.bondings.bond1.opts.primary, 'eth1');
      assert.equal(show.capabilities.bondings.bond3.opts.arp_ip_target, '10.1.3.1,10.1.2.1');
      assert.equal(show.capabilities.bondings.bond4.opts.ad_actor_system, '02:11:22:33:44:55');
      assert.equal(show.kernel_config.bondings.bond1.options, 'mode=active-backup miimon=150 primary=eth1');
      assert.equal(show.kernel_config.bondings.bond3.options, 'mode=active-backup arp_interval=1000 arp_ip_target=10.1.3.1,10.1.2.1');
      assert.deepEqual(c.json('replan-kc1.json').steps, [], 'kernel_config re-applied changes nothing');
    });
    await c.sub('dropped options are back at the defaults: no primary, one ARP target, actor system zero; re-plan empty', () => {
      const links = c.json('links-2.json');
      assert.equal(info(links, 'bond1').primary, undefined);
      const ifindex = (file: string) => (c.json(file) as { ifname: string; ifindex: number }[]).find((l) => l.ifname === 'bond1')?.ifindex;
      assert.equal(ifindex('links-2.json'), ifindex('links-1.json'), 'bond1 kept (its primary cleared in place, not re-created)');
      assert.deepEqual(info(links, 'bond3').arp_ip_target, ['10.1.3.1']);
      assert.equal(info(links, 'bond4').ad_actor_system, '00:00:00:00:00:00');
      assert.deepEqual(c.json('replan-2.json').steps, []);
    });
    await c.sub('a bond MAC set once stays, and kernel_config says so', () => {
      const show = c.json('show-2.json');
      assert.equal(show.capabilities.bondings.bond4.hwaddr, 'ce:0c:46:59:c9:d1');
      assert.equal(show.kernel_config.bondings.bond4.hwaddr, 'ce:0c:46:59:c9:d1');
    });
    await c.sub('ARP monitoring replaced by miimon: the target list is emptied; a primary set by hand is planned away', () => {
      assert.equal(info(c.json('links-3.json'), 'bond3').arp_ip_target, undefined);
      assert.deepEqual(c.json('replan-3.json').steps, []);
      assert.ok(c.json('replan-3b.json').steps.length > 0, 'the host has a primary the config does not: not "unchanged"');
    });
    await c.sub('a rolled-back bond re-creation leaves the same active slave', () => {
      assert.equal(c.file('fault-1.rc').trim(), '3', c.file('fault-1.out'));
      assert.equal(c.file('active-before-1').trim(), 'eth0');
      assert.equal(c.file('active-after-1').trim(), 'eth0');
      assert.equal(c.file('fault-2.rc').trim(), '3', c.file('fault-2.out'));
      assert.equal(c.file('active-before-2').trim(), 'eth1');
      assert.equal(c.file('active-after-2').trim(), 'eth1');
    });
    await c.sub('a rolled-back re-creation of a balance-alb bond with its slaves down: proven, slaves attached and down again', () => {
      assert.equal(c.file('alb.rc').trim(), '3', c.file('alb.out'));
      // Which slave ends with which MAC is the alb driver's (its link monitor moves them): not compared.
      const state = (file: string) => (c.json(file) as Json[]).filter((l) => ['bond5', 'eth10', 'eth11'].includes(l.ifname)).map((l) => `${l.ifname} ${l.master ?? ''} ${l.flags.includes('UP') ? 'up' : 'down'}`);
      assert.deepEqual(state('alb-after.json'), state('alb-before.json'));
      const bond = (file: string) => (c.json(file) as Json[]).find((l) => l.ifname === 'bond5')?.address;
      assert.equal(bond('alb-after.json'), bond('alb-before.json'), "the bond's own MAC");
    });
    await c.sub('a network on a hand-made bond adopts it: slaves, options, MAC kept; slave address flushed; its VLAN left alone', () => {
      const addrs: Json[] = c.json('addr-7.json');
      const inet = (n: string) => (addrs.find((l) => l.ifname === n)?.addr_info ?? []).filter((a: Json) => a.family === 'inet').map((a: Json) => `${a.local}/${a.prefixlen}`);
      assert.deepEqual(inet('bond7'), ['192.0.2.7/24']);
      assert.deepEqual(inet('eth8'), []);
      assert.deepEqual(inet('bond7.100'), ['10.100.0.1/24']);
      assert.equal(addrs.find((l) => l.ifname === 'bond7').address, 'ce:0c:46:59:c9:d2');
      assert.deepEqual(c.json('replan-7.json').steps, []);
      const kc = c.json('show-7.json').kernel_config.bondings.bond7;
      assert.deepEqual(kc, { nics: ['eth8', 'eth9'], options: 'mode=active-backup miimon=100', switch: 'legacy', hwaddr: 'ce:0c:46:59:c9:d2' });
    });
    await c.sub('a bond without slaves is not taken over: exit 2, the field named', () => {
      assert.equal(c.file('n8.rc').trim(), '2');
      assert.match(c.file('n8.out'), /networks\.n8\.bonding/);
      assert.match(c.file('n8.out'), /bondings/);
    });
  },
};

describe('kernel tier: netswitch bond options and adoption (user-mode Linux)', { skip: umlSkipReason() }, () => {
  test(bondOptions.name, async (t) => {
    await runScenario(bondOptions, t);
  });
});
