// Bond options against the host: an option a request stops setting goes back to the kernel's
// default and the planner compares every option of the mode (so "unchanged" means the host
// matches); show reports primary and arp_ip_target; a bond MAC once set stays; a rollback of a
// bond re-creation re-attaches the active slave first; a network on a host bond no config names
// adopts it (or is refused with the field named).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bondOptionChanges, bondOptionsFromInfo, parseBondOptions } from '../../src/model/bond-options.ts';
import { canonicalizeLenient, canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { adoptHostBonds, mergeRequest } from '../../src/model/merge.ts';
import type { Link, Snapshot } from '../../src/model/snapshot.ts';
import { planFor } from '../../src/engine/plan.ts';
import { layoutOf, specFromLink } from '../../src/plan/layout.ts';
import { planLinux } from '../../src/plan/linux.ts';
import { describeStep, ipCommands, undo } from '../../src/plan/steps.ts';
import { buildReport } from '../../src/report/report.ts';
import { validateConfig } from '../../src/validate/validate.ts';

const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;
const bonds = (options: Record<string, string>): Config => config({ bondings: Object.fromEntries(Object.entries(options).map(([name, o]) => [name, { nics: name === 'bond1' ? ['eth0', 'eth1'] : ['eth2', 'eth3'], options: o }])) });
/** The plan from what `before` built (as the host has it) to what `after` needs. */
const change = (before: Config, after: Config) => planLinux(layoutOf(before, emptyConfig()), layoutOf(after, before));

let ifindex = 1;
const link = (name: string, kind: Link['kind'], extra: Partial<Link> = {}): Link => ({
  name, ifindex: ifindex++, kind, type: kind === 'nic' ? '' : kind, mtu: 1500, mac: '52:54:00:00:00:01', up: true, operstate: 'UP', info: {}, slaveInfo: {}, addresses: [], ...extra,
});
/** info_data as ip -d -json prints it for an active-backup bond (kernel 6.1). */
const AB_INFO = {
  mode: 'active-backup', active_slave: 'eth1', miimon: 150, updelay: 0, downdelay: 0, peer_notify_delay: 0, use_carrier: 1, arp_interval: 0, arp_missed_max: 2, arp_validate: null, arp_all_targets: 'any',
  primary: 'eth1', primary_reselect: 'always', fail_over_mac: 'none', xmit_hash_policy: 'layer2', resend_igmp: 1, num_peer_notif: 1, all_slaves_active: 0, min_links: 0, lp_interval: 1,
  packets_per_slave: 1, ad_lacp_active: 'on', ad_lacp_rate: 'slow', ad_select: 'stable', tlb_dynamic_lb: 1,
};
function host(bondInfo: Record<string, unknown>, extra: Record<string, Link> = {}): Snapshot {
  return {
    time: 0,
    links: {
      bond1: link('bond1', 'bond', { info: bondInfo, mac: 'ce:0c:46:59:c9:d1' }),
      eth0: link('eth0', 'nic', { master: 'bond1' }),
      eth1: link('eth1', 'nic', { master: 'bond1' }),
      ...extra,
    },
    routes: [],
    rules: [],
    nameservers: [],
  };
}

describe('bond options a request stops setting', () => {
  it('the ARP target list is emptied (ip arp_ip_target ""), and the undo puts it back', () => {
    const steps = change(bonds({ bond3: 'mode=1 arp_interval=1000 arp_ip_target=10.1.3.1,10.1.2.1' }), bonds({ bond3: 'mode=1 miimon=100' }));
    assert.deepEqual(steps.flatMap(ipCommands), ["ip link set dev bond3 type bond miimon 100 arp_interval 0 arp_ip_target ''"]);
    assert.deepEqual(undo(steps).flatMap(ipCommands), ['ip link set dev bond3 type bond miimon 0 arp_interval 1000 arp_ip_target 10.1.3.1,10.1.2.1']);
  });
  it('a primary dropped is cleared in place through sysfs (ip has no word for "no primary"), the undo names it again; one added or changed is set in place', () => {
    const steps = change(bonds({ bond1: 'mode=1 miimon=150 primary=eth1' }), bonds({ bond1: 'mode=1 miimon=150' }));
    assert.deepEqual(steps.flatMap(ipCommands), ['echo > /sys/class/net/bond1/bonding/primary']);
    assert.deepEqual(undo(steps).flatMap(ipCommands), ['ip link set dev bond1 type bond primary eth1']);
    const added = change(bonds({ bond1: 'mode=1 miimon=150' }), bonds({ bond1: 'mode=1 miimon=200 primary=eth1' }));
    assert.deepEqual(added.flatMap(ipCommands), ['ip link set dev bond1 type bond miimon 200', 'ip link set dev bond1 type bond primary eth1']);
    assert.deepEqual(undo(added).flatMap(ipCommands), ['echo > /sys/class/net/bond1/bonding/primary', 'ip link set dev bond1 type bond miimon 150']);
    assert.deepEqual(change(bonds({ bond1: 'mode=1 primary=eth1' }), bonds({ bond1: 'mode=1 primary=eth0' })).flatMap(ipCommands), ['ip link set dev bond1 type bond primary eth0']);
  });
  it('ad_actor_system goes back to zero', () => {
    const steps = change(bonds({ bond4: 'mode=4 ad_actor_system=02:11:22:33:44:55' }), bonds({ bond4: 'mode=4' }));
    assert.deepEqual(steps.flatMap(ipCommands), ['ip link set dev bond4 type bond ad_actor_system 00:00:00:00:00:00']);
  });
  it('the planner sees options set on the host by hand: a primary the config does not have is not "unchanged"', () => {
    const want = config({ bondings: { bond1: { nics: ['eth0', 'eth1'], options: 'mode=1 miimon=150' } } });
    const steps = planFor(host(AB_INFO), want, want, new Set(['bond1']), 'system');
    assert.deepEqual(steps.flatMap(ipCommands), ['echo > /sys/class/net/bond1/bonding/primary']);
    const same = planFor(host({ ...AB_INFO, primary: undefined }), want, want, new Set(['bond1']), 'system');
    assert.deepEqual(same.map(describeStep), []);
  });
  it('reads the host as ip prints it: null or absent is the default; options of other modes left out', () => {
    const opts = bondOptionsFromInfo({ ...AB_INFO, primary: undefined });
    assert.equal(opts.primary, '');
    assert.equal(opts.arp_ip_target, '');
    assert.equal(opts.arp_validate, 'none');
    assert.equal(opts.peer_notif_delay, '0');
    assert.equal(opts.lacp_rate, undefined, 'an 802.3ad option');
    assert.deepEqual(bondOptionChanges({ mode: 'active-backup' }, { mode: 'active-backup', peer_notify_delay: '0', num_grat_arp: '1' }), { from: {}, to: {} });
  });
  it('peer_notif_delay reaches ip as peer_notify_delay; num_unsol_na as num_grat_arp', () => {
    const steps = change(bonds({ bond1: 'mode=1' }), bonds({ bond1: 'mode=1 peer_notif_delay=0 num_unsol_na=3' }));
    assert.deepEqual(steps.flatMap(ipCommands), ['ip link set dev bond1 type bond num_grat_arp 3']);
  });
  it('refuses num_grat_arp and num_unsol_na that disagree, and active_slave (state, not a setting)', () => {
    assert.deepEqual(parseBondOptions('num_grat_arp=2 num_unsol_na=3').problems.map((p) => p.option), ['num_unsol_na']);
    const [p] = parseBondOptions('mode=1 active_slave=eth0').problems;
    assert.match(p.hint, /primary=/);
  });
});

describe('show: bond options and MAC', () => {
  it('opts and kernel_config have primary and arp_ip_target (comma-separated)', () => {
    const running = config({ bondings: { bond1: { nics: ['eth0', 'eth1'], options: 'mode=1 miimon=150 primary=eth1' } } });
    const r = buildReport(host(AB_INFO), running);
    assert.deepEqual(r.capabilities.bondings.bond1.opts, { mode: 'active-backup', miimon: '150', primary: 'eth1' });
    assert.equal(r.kernel_config.bondings.bond1.options, 'mode=active-backup miimon=150 primary=eth1');
    const arp = buildReport(host({ ...AB_INFO, primary: undefined, miimon: 0, arp_interval: 1000, arp_ip_target: ['10.1.3.1', '10.1.2.1'] }), running);
    assert.equal(arp.capabilities.bondings.bond1.opts.arp_ip_target, '10.1.3.1,10.1.2.1');
  });
  it('a bond MAC once set stays in the running config when a request drops hwaddr, so kernel_config says it', () => {
    const running = config({ bondings: { bond1: { nics: ['eth0', 'eth1'], options: 'mode=1', hwaddr: 'CE:0C:46:59:C9:D1' } } });
    const { config: next } = mergeRequest(running, canonicalizeRequest({ bondings: { bond1: { nics: ['eth0', 'eth1'], options: 'mode=1 miimon=100' } } }), false);
    assert.equal(next.bondings.bond1.hwaddr, 'ce:0c:46:59:c9:d1');
    assert.equal(buildReport(host(AB_INFO), next).kernel_config.bondings.bond1.hwaddr, 'ce:0c:46:59:c9:d1');
  });
});

describe('undo of a bond re-creation', () => {
  it('detaches the active slave last, so the undo attaches it first (it becomes the active one again)', () => {
    const current = { links: { bond1: { ...specFromLink(link('bond1', 'bond', { info: { ...AB_INFO, primary: undefined } })) }, eth0: specFromLink(link('eth0', 'nic', { master: 'bond1' })), eth1: specFromLink(link('eth1', 'nic', { master: 'bond1' })) }, routes: [], rules: [] };
    const steps = planLinux(current, layoutOf(config({ bondings: { bond1: { nics: ['eth0', 'eth2'], options: 'mode=4' } } }), emptyConfig()));
    const back = undo(steps).map(describeStep).filter((s) => s.startsWith('attach'));
    assert.deepEqual(back.slice(-2), ['attach eth1 to bond1', 'attach eth0 to bond1'], 'eth1 (active) first');
  });
});

describe('a network on a bond the host has and no config names', () => {
  const net = (extra: Record<string, unknown> = {}) => config({ networks: { n7: { bonding: 'bond1', bridged: false, ...extra } } });
  it('adopts it: its slaves, options away from the defaults and MAC', () => {
    const { adopted, issues } = adoptHostBonds(net(), host(AB_INFO), emptyConfig());
    assert.deepEqual(issues, []);
    assert.deepEqual(adopted.bond1, { nics: ['eth0', 'eth1'], options: { mode: 'active-backup', miimon: '150', primary: 'eth1' }, switch: 'legacy', hwaddr: 'ce:0c:46:59:c9:d1' });
  });
  it('the config with the adopted bond validates (the engine adds it before validating, then plans and commits that config)', () => {
    const cfg = net();
    Object.assign(cfg.bondings, adoptHostBonds(cfg, host(AB_INFO), emptyConfig()).adopted);
    assert.deepEqual(validateConfig(cfg, { snapshot: host(AB_INFO), running: emptyConfig(), owned: new Set(), switchTypes: new Set(['legacy']) }), []);
  });
  it('refuses what it cannot take over as it is, naming the field and pointing at bondings', () => {
    const cases: [Snapshot, Config, string][] = [
      [{ ...host(AB_INFO), links: { bond1: link('bond1', 'bond', { info: AB_INFO }) } }, net(), 'networks.n7.bonding'],
      [host(AB_INFO), net({ switch: 'ovs' }), 'networks.n7.bonding'],
      [{ ...host(AB_INFO), links: { ...host(AB_INFO).links, bond1: link('bond1', 'bond', { info: AB_INFO, mtu: 9000 }) } }, net(), 'networks.n7.mtu'],
      [{ ...host(AB_INFO), links: { ...host(AB_INFO).links, bond1: link('bond1', 'bond', { info: AB_INFO, master: 'br0' }) } }, net(), 'networks.n7.bonding'],
    ];
    for (const [snapshot, cfg, path] of cases) {
      const { adopted, issues } = adoptHostBonds(cfg, snapshot, emptyConfig());
      assert.deepEqual(adopted, {});
      assert.deepEqual(issues.map((i) => i.path), [path]);
      assert.match(issues[0].hint, /bondings/);
    }
  });
  it('leaves alone a bond the config names, and netswitch\'s own bond being removed', () => {
    const running = config({ bondings: { bond1: { nics: ['eth0', 'eth1'] } } });
    assert.deepEqual(adoptHostBonds(net(), host(AB_INFO), running).adopted, {});
  });
});

describe('bond options the kernel would refuse or change are refused before anything runs', () => {
  const issuesOf = (options: string, extra: Record<string, unknown> = {}) =>
    canonicalizeLenient({ bondings: { bond1: { nics: ['eth0', 'eth1'], options, ...extra } } }).issues.map((i) => `${i.path}: ${i.message}`);

  it('arp_ip_target: unicast IPv4 addresses, each once, at most 16 (ip stops at a bad one without naming its line)', () => {
    for (const bad of ['300.1.1.1', '10.0.0', '10.0.0.1,', '010.0.0.1', 'a.b.c.d', '0.0.0.0', '255.255.255.255', '192.0.2.1,192.0.2.1']) {
      assert.equal(parseBondOptions(`mode=1 arp_interval=100 arp_ip_target=${bad}`).problems.length, 1, bad);
    }
    const many = Array.from({ length: 17 }, (_, i) => `192.0.2.${i + 1}`).join(',');
    assert.match(parseBondOptions(`mode=1 arp_interval=100 arp_ip_target=${many}`).problems[0].message, /at most 16/);
    assert.deepEqual(parseBondOptions('mode=1 arp_interval=100 arp_ip_target=192.0.2.1,198.51.100.7').problems, []);
  });

  it('updelay, downdelay and peer_notif_delay: a multiple of miimon, and only with it (legacy)', () => {
    assert.match(issuesOf('mode=1 miimon=100 updelay=150').join(), /bondings\.bond1\.options: updelay=150 is not a multiple of miimon=100: the kernel would round it down to 100/);
    assert.match(issuesOf('mode=1 miimon=100 downdelay=50').join(), /downdelay=50 is not a multiple/);
    assert.match(issuesOf('mode=1 updelay=200').join(), /updelay=200 needs MII monitoring/);
    assert.match(issuesOf('mode=1 miimon=100 arp_interval=100 arp_ip_target=192.0.2.1').join(), /exclude each other/);
    assert.deepEqual(issuesOf('mode=1 miimon=100 updelay=200 downdelay=0 peer_notif_delay=300'), []);
    // An OVS bond counts its delays in milliseconds, with carrier detection too.
    assert.deepEqual(issuesOf('mode=1 updelay=150', { switch: 'ovs' }), []);
  });

  it('primary: one of the bond\'s NICs', () => {
    assert.match(issuesOf('mode=1 primary=eth3').join(), /bondings\.bond1\.options: primary=eth3 is not one of the bond's NICs \(eth0, eth1\)/);
    assert.deepEqual(issuesOf('mode=1 primary=eth1'), []);
  });
});
