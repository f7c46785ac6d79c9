// stp: "rstp" — rapid spanning tree on Open vSwitch bridges: accepted beside true/false (as
// oVirt's engine sends those), refused on Linux bridges and beside stp: true on one OVS bridge,
// mapped to rstp_enable (never with stp_enable), planned as a bridge change, and reported back
// in the request's shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeLenient } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import type { OvsLayout } from '../../src/model/ovs.ts';
import { report as reportSchema } from '../../src/model/report.ts';
import type { Link, Snapshot } from '../../src/model/snapshot.ts';
import { ovsLayoutOf, planOvs } from '../../src/plan/ovs.ts';
import { commandsOf, describeStep, invert } from '../../src/plan/steps.ts';
import { ovsKernelConfig } from '../../src/report/ovs.ts';
import { buildReport, ipInfo } from '../../src/report/report.ts';
import { validateConfig } from '../../src/validate/validate.ts';

const config = (request: unknown): Config => {
  const { request: canonical, issues } = canonicalizeLenient(request);
  assert.deepEqual(issues, []);
  return mergeRequest(emptyConfig(), canonical, true).config;
};

const nic = (name: string): Link => ({ name, ifindex: 1, kind: 'nic', type: '', mtu: 1500, mac: '52:54:00:00:00:01', up: true, operstate: 'UP', info: {}, slaveInfo: {}, addresses: [] });
const HOST: Snapshot = { time: 0, links: { eth0: nic('eth0'), eth1: nic('eth1') }, routes: [], rules: [], nameservers: [] };
const validate = (cfg: Config) => validateConfig(cfg, { snapshot: HOST, running: emptyConfig(), owned: new Set(), switchTypes: new Set(['legacy', 'ovs']) });

describe('stp: rstp in the request', () => {
  it('is kept as "rstp"; true/false and their strings stay booleans', () => {
    const cfg = config({ networks: { a: { nic: 'eth0', switch: 'ovs', stp: 'rstp' }, b: { nic: 'eth1', stp: 'true' }, c: { stp: false }, d: {} } });
    assert.deepEqual(['a', 'b', 'c', 'd'].map((n) => cfg.networks[n].stp), ['rstp', true, false, false]);
  });

  it('anything else is refused at networks.X.stp with a hint that names rstp', () => {
    const { issues } = canonicalizeLenient({ networks: { a: { nic: 'eth0', stp: 'mstp' } } });
    assert.deepEqual(issues.map((i) => i.path), ['networks.a.stp']);
    assert.match(issues[0].hint, /rstp/);
  });

  it('on a Linux bridge (legacy) it is refused, saying to use switch: ovs or stp: true', () => {
    const issues = validate(config({ networks: { a: { nic: 'eth0', stp: 'rstp' } } }));
    assert.deepEqual(issues.map((i) => i.path), ['networks.a.stp']);
    assert.match(issues[0].message, /Open vSwitch/);
    assert.match(issues[0].hint, /switch: ovs, or stp: true/);
  });

  it('on OVS it is accepted; beside stp: true on the same NIC (one bridge) it is refused', () => {
    assert.deepEqual(validate(config({ networks: { a: { nic: 'eth0', switch: 'ovs', stp: 'rstp' }, b: { nic: 'eth0', vlan: 5, switch: 'ovs' }, c: { nic: 'eth1', switch: 'ovs', stp: true } } })), []);
    const issues = validate(config({ networks: { a: { nic: 'eth0', switch: 'ovs', stp: 'rstp' }, b: { nic: 'eth0', vlan: 5, switch: 'ovs', stp: true } } }));
    assert.deepEqual(issues.map((i) => i.path), ['networks.b.stp']);
    assert.match(issues[0].message, /network a with stp: rstp/);
  });
});

describe('stp: rstp on the OVS bridge', () => {
  const rstp = ovsLayoutOf(config({ networks: { a: { nic: 'eth0', switch: 'ovs', stp: 'rstp' }, b: { nic: 'eth0', vlan: 5, switch: 'ovs' } } }), 'system');
  const stp = ovsLayoutOf(config({ networks: { a: { nic: 'eth0', switch: 'ovs', stp: true }, b: { nic: 'eth0', vlan: 5, switch: 'ovs' } } }), 'system');

  it('sets rstp_enable, never together with stp_enable', () => {
    assert.deepEqual([rstp.bridges['br-eth0'].stp, rstp.bridges['br-eth0'].rstp], [false, true]);
    assert.deepEqual([stp.bridges['br-eth0'].stp, stp.bridges['br-eth0'].rstp], [true, false]);
    const [create] = commandsOf(planOvs({ bridges: {} }, rstp)[0]);
    assert.match(create, /stp_enable=false rstp_enable=true/);
  });

  it('a change between STP and RSTP is one bridge change, undone by its inverse; re-planning is empty', () => {
    const steps = planOvs(stp, rstp);
    assert.deepEqual(steps, [{ op: 'ovs.br.set', name: 'br-eth0', from: { stp: true, rstp: false, mcastSnooping: false }, to: { stp: false, rstp: true, mcastSnooping: false } }]);
    assert.equal(describeStep(steps[0]), 'set OVS bridge br-eth0 stp false, rstp true, multicast snooping false');
    assert.deepEqual(commandsOf(steps[0]), ['ovs-vsctl set bridge br-eth0 stp_enable=false rstp_enable=true mcast_snooping_enable=false']);
    assert.deepEqual(invert(steps[0]), planOvs(rstp, stp)[0]);
    assert.deepEqual(planOvs(rstp, rstp), []);
  });

  it('a bridge read from an older journal (no rstp) compares as rstp off', () => {
    const old = structuredClone(stp) as OvsLayout;
    delete (old.bridges['br-eth0'] as { rstp?: boolean }).rstp;
    assert.deepEqual(planOvs(old, stp), []);
  });
});

describe('stp: rstp in the report', () => {
  const cfg = config({ networks: { a: { nic: 'eth0', switch: 'ovs', stp: 'rstp' }, c: { nic: 'eth1', switch: 'ovs', stp: true } } });
  const snapshot: Snapshot = { ...HOST, ovs: { layout: ovsLayoutOf(cfg, 'system'), bridges: {}, ports: {}, interfaces: {} } };

  it('kernel_config and capabilities say stp as the request did, and the report keeps to its schema', () => {
    const nets = ovsKernelConfig(snapshot, cfg, (dev) => ipInfo(snapshot, dev), []).networks;
    assert.deepEqual([nets.a.stp, nets.c.stp], ['rstp', true]);
    const caps = buildReport(snapshot, cfg).capabilities;
    assert.deepEqual([caps.networks.a.stp, caps.bridges.a.stp, caps.networks.c.stp], ['rstp', 'rstp', true]);
    assert.ok(reportSchema.safeParse(buildReport(snapshot, cfg)).success);
  });
});
