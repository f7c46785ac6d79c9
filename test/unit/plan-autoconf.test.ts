// IPv6 autoconfiguration turned off: the kernel keeps the SLAAC addresses it made until they
// expire, so the plan removes them explicitly (after the sysctls), a host that still has them
// is not "in sync", and link-local addresses, DHCPv6 leases and devices netswitch does not
// manage are left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeRequest } from '../../src/model/canonicalize.ts';
import { type Config, emptyConfig } from '../../src/model/config.ts';
import { mergeRequest } from '../../src/model/merge.ts';
import type { Address, Ipv6Conf, Link, Snapshot } from '../../src/model/snapshot.ts';
import { planFor } from '../../src/engine/plan.ts';
import { describeStep, undo } from '../../src/plan/steps.ts';

const config = (request: unknown): Config => mergeRequest(emptyConfig(), canonicalizeRequest(request), true).config;

let ifindex = 1;
const link = (name: string, kind: Link['kind'], extra: Partial<Link> = {}): Link => ({
  name, ifindex: ifindex++, kind, type: kind === 'nic' ? 'veth' : kind, mtu: 1500, mac: '52:54:00:00:00:01', up: true, operstate: 'UP', info: { stp_state: 0 }, slaveInfo: {}, addresses: [], ...extra,
});
const LINK_LOCAL: Address = { family: 6, cidr: 'fe80::5054:ff:fe00:1/64', scope: 'link', dynamic: true };
const SLAAC: Address = { family: 6, cidr: '2001:db8:2:0:5054:ff:fe00:1/64', scope: 'global', dynamic: true };
const LEASE6: Address = { family: 6, cidr: '2001:db8:2::11c/128', scope: 'global', dynamic: true };
const STATIC4: Address = { family: 4, cidr: '192.0.2.10/24', scope: 'global', dynamic: false };

const DYNAMIC = config({ networks: { mgmt: { nic: 'eth0', bridged: false, ipaddr: '192.0.2.10', prefix: 24, ipv6autoconf: true } } });
const STATIC = config({ networks: { mgmt: { nic: 'eth0', bridged: false, ipaddr: '192.0.2.10', prefix: 24 } } });

/** The host with mgmt on eth0 (bridgeless), its sysctls, and eth1 outside every network. */
function host(conf: Ipv6Conf, eth0: Address[]): Snapshot {
  return {
    time: 0,
    links: {
      eth0: link('eth0', 'nic', { addresses: [STATIC4, ...eth0] }),
      eth1: link('eth1', 'nic', { addresses: [LINK_LOCAL, SLAAC] }),
    },
    routes: [],
    rules: [],
    nameservers: [],
    ipv6conf: { eth0: conf },
  };
}
const said = (snapshot: Snapshot, running: Config, desired: Config) => planFor(snapshot, running, desired, new Set(), 'system').map(describeStep);

describe('IPv6 autoconfiguration turned off', () => {
  it('the SLAAC address goes, after the sysctls; link-local, the lease and other devices stay', () => {
    const steps = said(host({ accept_ra: '2', autoconf: '1' }, [LINK_LOCAL, SLAAC, LEASE6]), DYNAMIC, STATIC);
    assert.deepEqual(steps, [
      'set eth0 IPv6 accept_ra 2 -> 0',
      'set eth0 IPv6 autoconf 1 -> 0',
      'remove address 2001:db8:2:0:5054:ff:fe00:1/64 from eth0',
    ]);
  });

  it('sysctls already off but the address still there: not in sync (verification and re-apply see it)', () => {
    assert.deepEqual(said(host({ accept_ra: '0', autoconf: '0' }, [LINK_LOCAL, SLAAC]), STATIC, STATIC), ['remove address 2001:db8:2:0:5054:ff:fe00:1/64 from eth0']);
    assert.deepEqual(said(host({ accept_ra: '0', autoconf: '0' }, [LINK_LOCAL]), STATIC, STATIC), [], 'without it, in sync');
  });

  it('autoconfiguration kept on: its address is the kernel\'s business', () => {
    assert.deepEqual(said(host({ accept_ra: '2', autoconf: '1' }, [LINK_LOCAL, SLAAC]), DYNAMIC, DYNAMIC), []);
  });

  it('the undo adds the address back, then turns autoconfiguration on again', () => {
    const steps = planFor(host({ accept_ra: '2', autoconf: '1' }, [SLAAC]), DYNAMIC, STATIC, new Set(), 'system');
    assert.deepEqual(undo(steps).map(describeStep), [
      'add address 2001:db8:2:0:5054:ff:fe00:1/64 to eth0',
      'set eth0 IPv6 autoconf 0 -> 1',
      'set eth0 IPv6 accept_ra 0 -> 2',
    ]);
  });
});
