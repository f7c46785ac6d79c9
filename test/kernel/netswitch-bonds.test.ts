// Kernel tier, netswitch's bonds and VLANs proved by traffic: LACP against a hand-made bond in
// a namespace, VLAN isolation, slaves added and removed in place, a network moved from a NIC
// to a bond in one apply, and every bonding mode by number and by name. Each scenario is one
// user-mode Linux boot running the real CLI in the guest's root namespace ("the host"), with
// the far ends of its NICs (veth pairs) in a namespace `peer`, checked with independent tools:
// ip -d -json, /proc/net/bonding and ping.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Scenario, runScenario } from './scenario.ts';
import { umlSkipReason } from './uml.ts';

// Callers name the fields they check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** One link of `ip -json link|addr show` by name (fails if it is missing). */
function link(links: Json[], name: string): Json {
  const l = links.find((x) => x.ifname === name);
  assert.ok(l, `no link ${name} in: ${links.map((x) => x.ifname).join(' ')}`);
  return l;
}

/** The IPv4 addresses (with prefix) of a link of `ip -json addr show`. */
function inet(l: Json): string[] {
  return (l.addr_info ?? []).filter((a: Json) => a.family === 'inet').map((a: Json) => `${a.local}/${a.prefixlen}`);
}

/** Who holds ADDRESS (as address/prefix) among the links of `ip -json addr show`. */
function holders(links: Json[], cidr: string): string[] {
  return links.filter((l) => inet(l).includes(cidr)).map((l) => l.ifname);
}

/**
 * /proc/net/bonding/<bond>: its header fields and, per slave, its fields (first value wins;
 * the fields of the slave's "details partner lacp pdu" block prefixed "partner ").
 */
function parseBonding(text: string): { head: Record<string, string>; slaves: Record<string, Record<string, string>> } {
  const [headText, ...slaveTexts] = text.split(/^Slave Interface: /m);
  const fields = (t: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const m of t.matchAll(/^\s*([^:\n]+):\s*(.*)$/gm)) out[m[1].trim()] ??= m[2].trim();
    return out;
  };
  const slaves: Record<string, Record<string, string>> = {};
  for (const s of slaveTexts) {
    const nl = s.indexOf('\n');
    // 802.3ad: "details actor lacp pdu:" and "details partner lacp pdu:" share their field names.
    const [own, partner = ''] = s.slice(nl + 1).split(/^details partner lacp pdu:$/m);
    slaves[s.slice(0, nl).trim()] = { ...fields(own), ...Object.fromEntries(Object.entries(fields(partner)).map(([k, v]) => [`partner ${k}`, v])) };
  }
  return { head: fields(headText), slaves };
}

/** The "Active Aggregator Info" block of an 802.3ad bond. */
function activeAggregator(text: string): Record<string, string> {
  const block = /^\s*Active Aggregator Info:\n((?:\t+.*\n?)+)/m.exec(text);
  assert.ok(block, `no Active Aggregator Info in:\n${text}`);
  return Object.fromEntries([...block[1].matchAll(/^\s*([^:\n]+):\s*(.*)$/gm)].map((m) => [m[1].trim(), m[2].trim()]));
}

/** ping's summary line says this packet loss (in percent); the message has ping's output. */
function assertLoss(pingOutput: string, percent: number): void {
  const m = /(\d+(?:\.\d+)?)% packet loss/.exec(pingOutput);
  assert.ok(m, `no ping summary in:\n${pingOutput}`);
  assert.equal(Number(m[1]), percent, `packet loss ${m[1]}%, expected ${percent}%:\n${pingOutput}`);
}

/** The bash lines every scenario starts with: modules, and helpers over /proc/net/bonding. */
const COMMON = String.raw`
modprobe -a bonding 8021q dummy bridge veth
# slave_mii BONDFILE SLAVE STATE: the slave's "MII Status" in BONDFILE is STATE.
slave_mii() { grep -A1 "^Slave Interface: $2\$" "$1" | grep -q "MII Status: $3"; }
# links_up [-n NS] DEV...: every DEV's operstate is UP. Carrier alone is not enough before a
# ping: the kernel's linkwatch sets the operstate and only then attaches the device's qdisc
# (until then what it sends is dropped), while bonding's miimon already counts the carrier.
links_up() { local ns= d; if [ "$1" = -n ]; then ns="-n $2"; shift 2; fi; for d in "$@"; do ip $ns link show "$d" | grep -q 'state UP' || return 1; done; }
`;

const lacp: Scenario = {
  name: 'netswitch bonds: 802.3ad aggregates with a hand-made LACP bond over two veth pairs and survives a link down',
  timeoutMs: 120_000,
  script:
    COMMON +
    String.raw`
ip netns add peer
ip link add eth0 type veth peer name p0 netns peer
ip link add eth1 type veth peer name p1 netns peer
ip -n peer link add bond0 type bond mode 802.3ad miimon 100 lacp_rate fast
ip -n peer link set p0 master bond0
ip -n peer link set p1 master bond0
ip -n peer link set bond0 up
ip -n peer addr add 192.0.2.1/24 dev bond0
cat > /tmp/lacp.yaml <<'END'
networks:
  lan: { bonding: bond0, ipaddr: 192.0.2.10, prefix: 24 }
bondings:
  bond0: { nics: [eth0, eth1], options: "mode=802.3ad miimon=100 lacp_rate=fast" }
END
netswitch apply /tmp/lacp.yaml
# Aggregated on both sides: the active aggregator has both ports, and both ports of both
# sides are in LACP port state 63 (active, fast, aggregatable, in sync, collecting,
# distributing) as actor and as partner. Two ports in the aggregator is not enough: their
# state may still be 7 (not distributing), and the first ping is lost.
aggregated() { grep -A2 '^Active Aggregator Info' "$1" | grep -q 'Number of ports: 2' && [ "$(grep -c 'port state: 63$' "$1")" -eq 4 ]; }
both_aggregated() { aggregated /proc/net/bonding/bond0 && ip netns exec peer cat /proc/net/bonding/bond0 > /tmp/peer-bond0 && aggregated /tmp/peer-bond0; }
wait_for 30 both_aggregated
save bonding-host.txt cat /proc/net/bonding/bond0
save bonding-peer.txt ip netns exec peer cat /proc/net/bonding/bond0
save links.json ip -d -json addr show
save ping-from-peer.txt ip netns exec peer ping -c 3 -i 0.2 -W 2 192.0.2.10
save ping-from-host.txt ping -c 3 -i 0.2 -W 2 192.0.2.1
# One cable down: the host's eth0 (its veth peer p0 loses carrier with it).
ip link set eth0 down
peer_p0_down() { ip netns exec peer cat /proc/net/bonding/bond0 > /tmp/peer-bond0 && slave_mii /tmp/peer-bond0 p0 down; }
wait_for 10 slave_mii /proc/net/bonding/bond0 eth0 down
wait_for 10 peer_p0_down
save bonding-host-down.txt cat /proc/net/bonding/bond0
save bonding-peer-down.txt ip netns exec peer cat /proc/net/bonding/bond0
save ping-down-from-peer.txt ip netns exec peer ping -c 3 -i 0.2 -W 2 192.0.2.10
save ping-down-from-host.txt ping -c 3 -i 0.2 -W 2 192.0.2.1
`,
  async check(_r, c) {
    await c.sub('netswitch built bond0 in 802.3ad with fast LACP, a port of bridge lan, the address on lan', () => {
      const links: Json[] = c.json('links.json');
      const bond = link(links, 'bond0');
      assert.equal(bond.linkinfo.info_kind, 'bond');
      assert.equal(bond.linkinfo.info_data.mode, '802.3ad');
      assert.equal(bond.linkinfo.info_data.ad_lacp_rate, 'fast');
      assert.equal(bond.linkinfo.info_data.miimon, 100);
      assert.equal(bond.master, 'lan');
      assert.equal(link(links, 'eth0').master, 'bond0');
      assert.equal(link(links, 'eth1').master, 'bond0');
      assert.equal(link(links, 'lan').linkinfo.info_kind, 'bridge');
      assert.deepEqual(holders(links, '192.0.2.10/24'), ['lan']);
    });
    for (const [side, file, slaves] of [
      ['host', 'bonding-host.txt', ['eth0', 'eth1']],
      ['peer', 'bonding-peer.txt', ['p0', 'p1']],
    ] as const) {
      await c.sub(`LACP aggregated on the ${side}: both slaves in the active aggregator, partner known`, () => {
        const text = c.file(file);
        const { head, slaves: bySlave } = parseBonding(text);
        assert.equal(head['Bonding Mode'], 'IEEE 802.3ad Dynamic link aggregation');
        assert.equal(head['LACP rate'], 'fast');
        const agg = activeAggregator(text);
        assert.equal(agg['Number of ports'], '2');
        assert.notEqual(agg['Partner Mac Address'], '00:00:00:00:00:00', 'the partner answered LACP');
        assert.deepEqual(Object.keys(bySlave).sort(), [...slaves]);
        for (const s of slaves) {
          assert.equal(bySlave[s]['MII Status'], 'up', `${s} MII`);
          assert.equal(bySlave[s]['Aggregator ID'], agg['Aggregator ID'], `${s} is in the active aggregator`);
          // LACP port state bits: aggregation 4, synchronization 8, collecting 16, distributing 32.
          for (const who of ['', 'partner '] as const) {
            const state = Number(bySlave[s][`${who}port state`]);
            assert.equal(state & 0x3c, 0x3c, `${s} ${who || 'actor '}port state ${state}: aggregated, in sync, collecting and distributing`);
          }
        }
      });
    }
    await c.sub('the partners see each other: each side\'s partner MAC is the other side\'s system MAC', () => {
      const host = activeAggregator(c.file('bonding-host.txt'));
      const peer = activeAggregator(c.file('bonding-peer.txt'));
      const sysMac = (t: string) => /^System MAC address:\s*(\S+)/m.exec(t)?.[1];
      assert.equal(host['Partner Mac Address'], sysMac(c.file('bonding-peer.txt')));
      assert.equal(peer['Partner Mac Address'], sysMac(c.file('bonding-host.txt')));
    });
    await c.sub('traffic crosses the aggregate both ways', () => {
      assertLoss(c.file('ping-from-peer.txt'), 0);
      assertLoss(c.file('ping-from-host.txt'), 0);
    });
    await c.sub('with eth0 down the aggregate carries on over eth1', () => {
      const host = parseBonding(c.file('bonding-host-down.txt'));
      const peer = parseBonding(c.file('bonding-peer-down.txt'));
      assert.equal(host.slaves.eth0['MII Status'], 'down');
      assert.equal(host.slaves.eth1['MII Status'], 'up');
      assert.equal(peer.slaves.p0['MII Status'], 'down');
      assert.equal(peer.slaves.p1['MII Status'], 'up');
      assert.equal(activeAggregator(c.file('bonding-host-down.txt'))['Number of ports'], '1');
      assertLoss(c.file('ping-down-from-peer.txt'), 0);
      assertLoss(c.file('ping-down-from-host.txt'), 0);
    });
  },
};

const vlanIsolation: Scenario = {
  name: 'netswitch bonds: VLANs 10 and 20 on one NIC each reach their own peer, and a VLAN 10 frame never reaches VLAN 20',
  timeoutMs: 120_000,
  script:
    COMMON +
    String.raw`
ip netns add peer
ip link add eth0 type veth peer name p0 netns peer
ip -n peer link set p0 up
ip -n peer link add link p0 name p0.10 type vlan id 10
ip -n peer link add link p0 name p0.20 type vlan id 20
ip -n peer link set p0.10 up
ip -n peer link set p0.20 up
ip -n peer addr add 192.0.2.1/24 dev p0.10
ip -n peer addr add 198.51.100.1/24 dev p0.20
cat > /tmp/vlans.yaml <<'END'
networks:
  v10: { nic: eth0, vlan: 10, ipaddr: 192.0.2.10, prefix: 24 }
  v20: { nic: eth0, vlan: 20, ipaddr: 198.51.100.10, prefix: 24 }
END
netswitch apply /tmp/vlans.yaml
wait_for 10 links_up eth0 eth0.10 eth0.20 v10 v20
save links.json ip -d -json addr show
save ping10.txt ip netns exec peer ping -c 3 -i 0.2 -W 2 192.0.2.10
save ping20.txt ip netns exec peer ping -c 3 -i 0.2 -W 2 198.51.100.10
# The rogue: VLAN 20 is gone from the far end (so nothing there answers in VLAN 20, and
# nothing leaves it tagged 20); p0.10 takes an address in VLAN 20's subnet and a permanent
# neighbour entry for 198.51.100.10 with v20's MAC: an echo request that is right in every
# field but its VLAN tag.
ip -n peer link del p0.20
ip -n peer addr add 198.51.100.2/24 dev p0.10
ip -n peer neigh replace 198.51.100.10 lladdr "$(cat /sys/class/net/v20/address)" dev p0.10 nud permanent
save v20-mac.txt cat /sys/class/net/v20/address
save neigh.json ip -n peer -json neigh show 198.51.100.10
save route.txt ip -n peer route get 198.51.100.10
save stats-before.json ip -s -json link show
save peer-before.json ip -n peer -s -json link show p0.10
set +e
ip netns exec peer ping -c 3 -i 0.2 -W 1 198.51.100.10 > $UML_OUT/rogue.txt 2>&1
echo $? > $UML_OUT/rogue.rc
set -e
save stats-after.json ip -s -json link show
save peer-after.json ip -n peer -s -json link show p0.10
`,
  async check(_r, c) {
    await c.sub('netswitch built eth0.10 in v10 and eth0.20 in v20 with their addresses', () => {
      const links: Json[] = c.json('links.json');
      for (const [vlan, net, cidr] of [
        [10, 'v10', '192.0.2.10/24'],
        [20, 'v20', '198.51.100.10/24'],
      ] as const) {
        const dev = link(links, `eth0.${vlan}`);
        assert.equal(dev.linkinfo.info_kind, 'vlan');
        assert.equal(dev.linkinfo.info_data.id, vlan);
        assert.equal(dev.linkinfo.info_data.protocol, '802.1Q');
        assert.equal(dev.link, 'eth0');
        assert.equal(dev.master, net);
        assert.deepEqual(holders(links, cidr), [net]);
      }
      assert.equal(link(links, 'eth0').master, undefined, 'eth0 itself is in no bridge');
    });
    await c.sub('each VLAN reaches its own peer address', () => {
      assertLoss(c.file('ping10.txt'), 0);
      assertLoss(c.file('ping20.txt'), 0);
    });
    await c.sub('the rogue request is right but for its VLAN: v20\'s MAC, sent on p0.10', () => {
      const [neigh] = c.json('neigh.json');
      assert.equal(neigh.lladdr, c.file('v20-mac.txt').trim());
      assert.equal(neigh.dev, 'p0.10');
      assert.ok(neigh.state.includes('PERMANENT'), JSON.stringify(neigh));
      assert.match(c.file('route.txt'), /dev p0\.10 /);
      const sent = c.json('peer-after.json')[0].stats64.tx.packets - c.json('peer-before.json')[0].stats64.tx.packets;
      assert.ok(sent >= 3, `p0.10 sent ${sent} packets`);
    });
    await c.sub('a VLAN 10 frame for VLAN 20 gets no answer and never enters VLAN 20', () => {
      assert.notEqual(c.file('rogue.rc').trim(), '0', c.file('rogue.txt'));
      assertLoss(c.file('rogue.txt'), 100);
      const rx = (file: string, name: string) => link(c.json(file), name).stats64.rx.packets as number;
      const delta = (name: string) => rx('stats-after.json', name) - rx('stats-before.json', name);
      assert.ok(delta('eth0.10') >= 3, `the requests arrived in VLAN 10 (eth0.10 rx +${delta('eth0.10')})`);
      assert.equal(delta('eth0.20'), 0, 'nothing arrived on eth0.20');
      assert.equal(delta('v20'), 0, 'nothing arrived on bridge v20');
    });
  },
};

const slavesInPlace: Scenario = {
  name: 'netswitch bonds: slaves added and removed without re-creating the bond, hwaddr applied',
  timeoutMs: 120_000,
  script:
    COMMON +
    String.raw`
for i in 0 1 2; do ip link add eth$i type dummy; done
save eth0-mac.txt cat /sys/class/net/eth0/address
cat > /tmp/b1.yaml <<'END'
networks:
  data: { bonding: bond0, ipaddr: 203.0.113.10, prefix: 24 }
bondings:
  bond0: { nics: [eth0, eth1], options: "mode=active-backup miimon=100" }
END
cat > /tmp/b2.yaml <<'END'
bondings:
  bond0: { nics: [eth2, eth0, eth1], options: "mode=active-backup miimon=100", hwaddr: "52:54:00:aa:bb:cc" }
END
cat > /tmp/b3.yaml <<'END'
bondings:
  bond0: { nics: [eth1, eth2], options: "mode=active-backup miimon=100", hwaddr: "52:54:00:AA:BB:CC" }
END
netswitch apply /tmp/b1.yaml
save ifindex-1.txt cat /sys/class/net/bond0/ifindex
save bonding-1.txt cat /proc/net/bonding/bond0
netswitch -o json apply /tmp/b2.yaml > $UML_OUT/apply-2.json
save ifindex-2.txt cat /sys/class/net/bond0/ifindex
save bonding-2.txt cat /proc/net/bonding/bond0
save links-2.json ip -d -json addr show
netswitch -o json apply /tmp/b3.yaml > $UML_OUT/apply-3.json
save ifindex-3.txt cat /sys/class/net/bond0/ifindex
save bonding-3.txt cat /proc/net/bonding/bond0
save links-3.json ip -d -json addr show
save replan.json netswitch -o json plan /tmp/b3.yaml
`,
  async check(_r, c) {
    const slaves = (file: string) => Object.keys(parseBonding(c.file(file)).slaves).sort();
    await c.sub('bond0 starts with eth0 and eth1', () => {
      assert.deepEqual(slaves('bonding-1.txt'), ['eth0', 'eth1']);
      assert.equal(parseBonding(c.file('bonding-1.txt')).head['Bonding Mode'], 'fault-tolerance (active-backup)');
    });
    await c.sub('adding eth2, then removing eth0, keeps the same bond (same ifindex, no delete/create step)', () => {
      const idx = ['ifindex-1.txt', 'ifindex-2.txt', 'ifindex-3.txt'].map((f) => Number(c.file(f).trim()));
      assert.ok(idx[0] > 0);
      assert.deepEqual(idx, [idx[0], idx[0], idx[0]]);
      for (const f of ['apply-2.json', 'apply-3.json']) {
        const steps: string[] = c.json(f).steps;
        assert.equal(c.json(f).status, 'applied');
        assert.deepEqual(steps.filter((s) => /^(create|delete) bond bond0\b/.test(s)), [], `${f}: ${steps.join('; ')}`);
      }
    });
    await c.sub('the slaves are as asked each time', () => {
      assert.deepEqual(slaves('bonding-2.txt'), ['eth0', 'eth1', 'eth2']);
      assert.deepEqual(slaves('bonding-3.txt'), ['eth1', 'eth2']);
      const links: Json[] = c.json('links-3.json');
      assert.equal(link(links, 'eth1').master, 'bond0');
      assert.equal(link(links, 'eth2').master, 'bond0');
    });
    await c.sub('the removed NIC is free: no master, its own MAC back', () => {
      const eth0 = link(c.json('links-3.json'), 'eth0');
      assert.equal(eth0.master, undefined);
      assert.equal(eth0.address, c.file('eth0-mac.txt').trim());
    });
    await c.sub('hwaddr 52:54:00:aa:bb:cc is the bond\'s address', () => {
      assert.equal(link(c.json('links-2.json'), 'bond0').address, '52:54:00:aa:bb:cc');
      assert.equal(link(c.json('links-3.json'), 'bond0').address, '52:54:00:aa:bb:cc');
    });
    await c.sub('the network on the bond stayed: bond0 in bridge data with 203.0.113.10', () => {
      for (const f of ['links-2.json', 'links-3.json']) {
        const links: Json[] = c.json(f);
        assert.equal(link(links, 'bond0').master, 'data', f);
        assert.deepEqual(holders(links, '203.0.113.10/24'), ['data'], f);
      }
    });
    await c.sub('re-planning the last request gives nothing', () => {
      assert.deepEqual(c.json('replan.json').steps, []);
    });
  },
};

const nicToBond: Scenario = {
  name: 'netswitch bonds: a network moves from a NIC to a new bond of that NIC in one apply, traffic follows',
  timeoutMs: 120_000,
  script:
    COMMON +
    String.raw`
ip netns add peer
ip link add eth0 type veth peer name p0 netns peer
ip link add eth3 type veth peer name p3 netns peer
# The far end: a round-robin bond (netswitch's default mode) over both cables; miimon keeps
# it off p3 while the host's eth3 is down.
ip -n peer link add bond1 type bond mode balance-rr miimon 100
ip -n peer link set p0 master bond1
ip -n peer link set p3 master bond1
ip -n peer link set bond1 up
ip -n peer addr add 192.0.2.1/24 dev bond1
cat > /tmp/nic.yaml <<'END'
networks:
  mgmt: { nic: eth0, ipaddr: 192.0.2.10, prefix: 24 }
END
cat > /tmp/move.yaml <<'END'
bondings:
  bond1: { nics: [eth0, eth3] }
networks:
  mgmt: { bonding: bond1, ipaddr: 192.0.2.10, prefix: 24 }
END
netswitch apply /tmp/nic.yaml
wait_for 10 links_up eth0 mgmt
save links-1.json ip -d -json addr show
save ping-1.txt ip netns exec peer ping -c 3 -i 0.2 -W 2 192.0.2.10
netswitch -o json apply /tmp/move.yaml > $UML_OUT/apply.json
save links-2.json ip -d -json addr show
save bonding.txt cat /proc/net/bonding/bond1
peer_p3_up() { ip netns exec peer cat /proc/net/bonding/bond1 > /tmp/peer-bond1 && slave_mii /tmp/peer-bond1 p3 up; }
wait_for 10 peer_p3_up
wait_for 10 links_up eth0 eth3 bond1 mgmt
wait_for 10 links_up -n peer p0 p3 bond1
save ping-2.txt ip netns exec peer ping -c 4 -i 0.2 -W 2 192.0.2.10
save replan.json netswitch -o json plan /tmp/move.yaml
save show.json netswitch show -o json
`,
  async check(_r, c) {
    await c.sub('before: eth0 is a port of bridge mgmt, which has the address', () => {
      const links: Json[] = c.json('links-1.json');
      assert.equal(link(links, 'eth0').master, 'mgmt');
      assert.deepEqual(holders(links, '192.0.2.10/24'), ['mgmt']);
      assertLoss(c.file('ping-1.txt'), 0);
    });
    await c.sub('after one apply: eth0 and eth3 in bond1, bond1 a port of mgmt, the address on mgmt', () => {
      assert.equal(c.json('apply.json').status, 'applied');
      const links: Json[] = c.json('links-2.json');
      assert.equal(link(links, 'bond1').linkinfo.info_kind, 'bond');
      assert.equal(link(links, 'bond1').linkinfo.info_data.mode, 'balance-rr');
      assert.equal(link(links, 'eth0').master, 'bond1');
      assert.equal(link(links, 'eth3').master, 'bond1');
      assert.equal(link(links, 'bond1').master, 'mgmt');
      assert.equal(link(links, 'mgmt').linkinfo.info_kind, 'bridge');
      assert.deepEqual(holders(links, '192.0.2.10/24'), ['mgmt']);
      assert.deepEqual(links.filter((l) => l.master === 'mgmt').map((l) => l.ifname), ['bond1'], 'bond1 is the only port');
      assert.deepEqual(Object.keys(parseBonding(c.file('bonding.txt')).slaves).sort(), ['eth0', 'eth3']);
    });
    await c.sub('the far end reaches the address over the bond', () => {
      assertLoss(c.file('ping-2.txt'), 0);
    });
    await c.sub('re-planning the same request gives nothing', () => {
      assert.deepEqual(c.json('replan.json').steps, []);
    });
    await c.sub('the report: mgmt on bond1, bond1 of eth0 and eth3', () => {
      const show = c.json('show.json');
      assert.equal(show.kernel_config.networks.mgmt.bonding, 'bond1');
      assert.equal(show.kernel_config.networks.mgmt.nic, undefined);
      assert.deepEqual(show.capabilities.bondings.bond1.slaves, ['eth0', 'eth3']);
    });
  },
};

/** Bonding modes 0-6: the name netswitch and ip use, and /proc/net/bonding's "Bonding Mode". */
const MODES = [
  ['balance-rr', 'load balancing (round-robin)'],
  ['active-backup', 'fault-tolerance (active-backup)'],
  ['balance-xor', 'load balancing (xor)'],
  ['broadcast', 'fault-tolerance (broadcast)'],
  ['802.3ad', 'IEEE 802.3ad Dynamic link aggregation'],
  ['balance-tlb', 'transmit load balancing'],
  ['balance-alb', 'adaptive load balancing'],
] as const;

const allModes: Scenario = {
  name: 'netswitch bonds: every bonding mode 0-6, by number (bond0) and by name (bond1), in turn',
  timeoutMs: 180_000,
  script:
    COMMON +
    String.raw`
for i in 0 1 2 3; do ip link add eth$i type dummy; done
i=0
for name in ${MODES.map(([name]) => name).join(' ')}; do
  printf 'bondings:\n  bond0: { nics: [eth0, eth1], options: "mode=%s miimon=100" }\n  bond1: { nics: [eth2, eth3], options: "mode=%s miimon=100" }\n' $i $name > /tmp/mode.yaml
  netswitch -o json apply /tmp/mode.yaml > $UML_OUT/apply-$i.json
  save bonding0-$i.txt cat /proc/net/bonding/bond0
  save bonding1-$i.txt cat /proc/net/bonding/bond1
  save links-$i.json ip -d -json link show type bond
  i=$((i + 1))
done
`,
  async check(_r, c) {
    for (const [i, [name, procMode]] of MODES.entries()) {
      await c.sub(`mode=${i} and mode=${name}: ${procMode}`, () => {
        assert.equal(c.json(`apply-${i}.json`).status, 'applied');
        for (const bond of ['bond0', 'bond1']) {
          const { head, slaves } = parseBonding(c.file(`bonding${bond.at(-1)}-${i}.txt`));
          assert.equal(head['Bonding Mode'], procMode, bond);
          assert.equal(head['MII Polling Interval (ms)'], '100', bond);
          assert.deepEqual(Object.keys(slaves).sort(), bond === 'bond0' ? ['eth0', 'eth1'] : ['eth2', 'eth3'], bond);
          assert.equal(link(c.json(`links-${i}.json`), bond).linkinfo.info_data.mode, name, bond);
        }
      });
    }
  },
};

describe('kernel tier: netswitch bonds and VLANs (user-mode Linux)', { concurrency: 2, skip: umlSkipReason() }, () => {
  for (const s of [allModes, lacp, slavesInPlace, nicToBond, vlanIsolation]) {
    test(s.name, async (t) => {
      await runScenario(s, t);
    });
  }
});
