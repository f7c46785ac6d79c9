// Device names: every bridge, bond, VLAN device, OVS bridge and OVS port netswitch would make
// for a config needs a name of its own — not one another thing it makes also takes, and not
// one a device or OVS row that is not netswitch's already has. The kernel and OVSDB would
// refuse the second one mid-apply (or OVS would quietly confuse two ports).
import { type Config, southbound } from '../model/config.ts';
import type { Issue } from '../model/errors.ts';
import type { Snapshot } from '../model/snapshot.ts';
// The naming function itself, so validation and the OVS planner can never disagree on a name.
import { ovsBridgeName } from '../model/ovs.ts';

/** One device (or OVS row) netswitch would make for a config. */
export interface Made {
  /** The device's name. */
  name: string;
  /** Identity: several networks of one NIC make one OVS bridge, which is one thing made. */
  key: string;
  /** The field whose value decides the name. */
  path: string;
  /** The entry it is made for. */
  entry: { kind: 'networks' | 'bondings'; name: string };
  /** "the bridge of network vmnet", for messages. */
  what: string;
  /** Named after the entry itself (renaming the entry is the fix), not derived from it. */
  own: boolean;
  /** Makes a kernel device (an OVS bond is a port, with no device of its own). */
  kernel: boolean;
  /** Makes an OVSDB row. */
  ovs: boolean;
  /** A bond: a foreign bond of the same name is taken over (validate.ts checks foreign devices). */
  bond?: boolean;
  /** A Linux bridge: a foreign bridge of the same name is taken over as it is (VDSM does). */
  bridge?: boolean;
}

/** Everything netswitch would make for CONFIG: networks first (a clash blames a network before a bond). */
export function devicesMade(config: Config): Made[] {
  const made: Made[] = [];
  for (const [name, net] of Object.entries(config.networks)) {
    const path = `networks.${name}`;
    const entry = { kind: 'networks' as const, name };
    const sb = southbound(net);
    if (net.switch === 'ovs') {
      made.push({ name, key: `net:${name}`, path, entry, what: `the OVS port of network ${name}`, own: true, kernel: true, ovs: true });
      const br = sb === undefined ? ovsBridgeName('brn', name) : ovsBridgeName('br', sb);
      const brPath = sb === undefined ? path : `${path}.${net.nic !== undefined ? 'nic' : 'bonding'}`;
      made.push({ name: br, key: `ovsbr:${br}`, path: brPath, entry, what: `the OVS bridge of ${sb ?? `network ${name}`}`, own: false, kernel: true, ovs: true });
      continue;
    }
    if (net.bridged) made.push({ name, key: `net:${name}`, path, entry, what: `the bridge of network ${name}`, own: true, kernel: true, ovs: false, bridge: true });
    if (sb !== undefined && net.vlan !== undefined) {
      const dev = `${sb}.${net.vlan}`;
      made.push({ name: dev, key: `vlan:${dev}`, path: `${path}.vlan`, entry, what: `the VLAN device of network ${name}`, own: false, kernel: true, ovs: false });
    }
  }
  for (const [name, bond] of Object.entries(config.bondings)) {
    const path = `bondings.${name}`;
    const entry = { kind: 'bondings' as const, name };
    if (bond.switch === 'ovs') {
      made.push({ name, key: `bond:${name}`, path, entry, what: `OVS bond ${name}`, own: true, kernel: false, ovs: true, bond: true });
      // ovsLayoutOf gives every OVS bond a bridge, with or without networks.
      const br = ovsBridgeName('br', name);
      made.push({ name: br, key: `ovsbr:${br}`, path, entry, what: `the OVS bridge of ${name}`, own: false, kernel: true, ovs: true });
    } else made.push({ name, key: `bond:${name}`, path, entry, what: `bond ${name}`, own: true, kernel: true, ovs: false, bond: true });
  }
  return made;
}

export interface NameContext {
  snapshot: Snapshot;
  running: Config;
  owned: ReadonlySet<string>;
  /** Entries the request named (blamed first); all when undefined. */
  named?: { networks: ReadonlySet<string>; bondings: ReadonlySet<string> };
}

export function nameClashes(config: Config, ctx: NameContext): Issue[] {
  const issues: Issue[] = [];
  const byName = new Map<string, Made[]>();
  for (const m of devicesMade(config)) {
    const list = byName.get(m.name) ?? [];
    if (!list.some((x) => x.key === m.key)) list.push(m);
    byName.set(m.name, list);
  }
  const ours = new Set([...ctx.owned, ...devicesMade(ctx.running).map((m) => m.name)]);
  const ovs = ctx.snapshot.ovs;
  const ownedByOvs = (name: string) => ovs?.bridges[name]?.owned === true || ovs?.ports[name]?.owned === true || ovs?.interfaces[name]?.owned === true;
  const isNamed = (m: Made) => ctx.named?.[m.entry.kind].has(m.entry.name) ?? true;

  for (const [name, makers] of byName) {
    const blamed = makers.find((m) => m.own && isNamed(m)) ?? makers.find((m) => m.own) ?? makers.find(isNamed) ?? makers[0];
    if (makers.length > 1) {
      const others = makers.filter((m) => m !== blamed).map((m) => m.what);
      issues.push({
        path: blamed.path,
        message: `${blamed.what} would be named ${name}, and so would ${others.join(' and ')}`,
        hint: renameHint(blamed, makers),
      });
      continue;
    }
    if (ours.has(name) || ownedByOvs(name)) continue;
    const link = ctx.snapshot.links[name];
    const how = blamed.own ? '' : ` (netswitch names ${blamed.what} so)`;
    // A bridge someone else made, named as a Linux bridged network: taken over (its other ports
    // stay; its addresses and options become the network's), as VDSM takes over such a bridge.
    if (link && blamed.bridge && link.kind === 'bridge') continue;
    if (link && blamed.kernel && !blamed.bond) {
      issues.push({
        path: blamed.path,
        message: `a device named ${name} exists and was not made by netswitch (a ${link.type || link.kind})${how}`,
        hint: blamed.own ? `choose another ${kindOf(blamed)} name, or remove that device first` : `remove that device first, or change ${blamed.path.split('.').pop()}`,
      });
      continue;
    }
    const row = !blamed.ovs || !ovs ? undefined : ovs.bridges[name] ? 'bridge' : ovs.ports[name] ? 'port' : ovs.interfaces[name] ? 'interface' : undefined;
    if (row && !link) {
      issues.push({
        path: blamed.path,
        message: `Open vSwitch has a ${row} named ${name} that netswitch did not make${how}`,
        hint: blamed.own ? `choose another name, or remove that ${row} first (ovs-vsctl del-${row === 'bridge' ? 'br' : 'port'} ${name})` : `remove that ${row} first, or change ${blamed.path.split('.').pop()}`,
      });
    }
  }
  return issues;
}

function renameHint(blamed: Made, makers: readonly Made[]): string {
  const derived = makers.find((m) => !m.own);
  if (blamed.own) {
    const why = derived ? `: netswitch names ${derived.what} ${derived.name}` : ': a bridge, bond, VLAN device or OVS port each need a device name of their own';
    return `rename ${kindOf(blamed)} ${blamed.entry.name}${why}`;
  }
  return 'use another NIC, bond or VLAN, so that each device netswitch makes has a name of its own';
}

const kindOf = (m: Made) => (m.entry.kind === 'bondings' ? 'bond' : 'network');
