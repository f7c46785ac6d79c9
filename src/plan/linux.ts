// diff(actual layout, desired layout) -> ordered steps for the Linux stack. The order of a
// change lives here and only here: tear down what goes (routes, addresses, ports, devices,
// uppers first), lower MTUs top-down, raise them bottom-up, create bonds, VLANs and bridges
// bottom-up, attach ports, change options, bring devices up, then addresses and routes.
import { BOND_IFDOWN_OPTIONS, BOND_NOSLAVES_OPTIONS, bondOptionChanges } from '../model/bond-options.ts';
import { sameBridgeOption } from '../model/bridge-options.ts';
import type { DhcpClient } from '../model/snapshot.ts';
import { DEFAULT_MTU } from '../model/config.ts';
import { IPV6_MIN_MTU, LEVEL, type Layout, type LinkSpec, type RouteSpec, type RuleSpec } from './layout.ts';
import type { Step } from './steps.ts';
import { compareNames } from '../model/order.ts';
import { inSubnet } from '../model/ip.ts';

export function planLinux(actual: Layout, desired: Layout): Step[] {
  const { teardown, build } = planLinuxPhases(actual, desired);
  return [...teardown, ...build];
}

/** Bridge options the kernel range-checks only while STP is on. */
const STP_TIMERS = ['forward_delay', 'max_age', 'hello_time'];

/** Devices Linux never creates or deletes: NICs, and OVS internal ports (the OVS switch's). */
const NOT_OURS_TO_CREATE = new Set(['nic', 'ovs']);

/**
 * The plan in two parts: what goes (teardown) and what comes (build). The engine runs the OVS
 * switch's transaction between them, so a device can move from one switch to the other.
 */
export function planLinuxPhases(
  actual: Layout,
  desired: Layout,
  recreatedOvsPorts: ReadonlySet<string> = new Set(),
  /** The interfaces of the OVS ports after the change (NICs in OVS bridges). */
  ovsMembers: ReadonlySet<string> = new Set(),
): { teardown: Step[]; build: Step[]; recreated: Set<string> } {
  const steps: Step[] = [];
  const cur = actual.links;
  const want = desired.links;

  // Devices that go: not desired, or desired but incompatible with what exists (re-created).
  const gone = new Set<string>();
  for (const [name, a] of Object.entries(cur)) {
    const d = want[name];
    if (a.kind === 'nic') continue;
    if (!d || mustRecreate(a, d) || recreatedOvsPorts.has(name)) gone.add(name);
  }
  // A VLAN dies with its lower device: plan its deletion explicitly so undo re-creates it.
  for (let grew = true; grew; ) {
    grew = false;
    for (const a of Object.values(cur)) {
      if (a.vlan && gone.has(a.vlan.link) && !gone.has(a.name)) {
        gone.add(a.name);
        grew = true;
      }
    }
  }
  const survives = (name: string) => cur[name] !== undefined && !gone.has(name);

  // 1. Teardown. Removing an address makes the kernel drop the routes through it, so a route
  // on a device that loses an address is removed first and added again at the end.
  // A DHCP client that goes (or changes) stops first: its script removes what it had set.
  const sameClient = (a: DhcpClient, b: DhcpClient) => a.dev === b.dev && a.family === b.family && a.defaultRoute === b.defaultRoute && a.table === b.table;
  const keptClients = (actual.dhcp ?? []).filter((a) => !gone.has(a.dev) && (desired.dhcp ?? []).some((d) => sameClient(a, d)));
  for (const c of actual.dhcp ?? []) if (!keptClients.includes(c)) steps.push({ op: 'dhcp.stop', client: c });
  const addrDels: Step[] = [];
  for (const a of Object.values(cur)) {
    const keep = gone.has(a.name) ? [] : (want[a.name]?.addresses ?? []);
    for (const cidr of a.addresses) if (!keep.includes(cidr)) addrDels.push({ op: 'addr.del', dev: a.name, cidr });
  }
  const losesAddress = new Set(addrDels.map((s) => (s.op === 'addr.del' ? s.dev : '')));
  const keptRoutes = actual.routes.filter((r) => !gone.has(r.dev) && !losesAddress.has(r.dev) && desired.routes.some((w) => sameRoute(w, r)));
  // An administrator's routes are left alone unless the kernel would drop them: those go
  // explicitly, and come back once the addresses are in place if their device still reaches
  // their gateway then.
  const droppedForeign = (actual.foreignRoutes ?? []).filter((r) => gone.has(r.dev) || losesAddress.has(r.dev));
  const restoredForeign = droppedForeign.filter((r) => {
    const d = want[r.dev];
    if (!d || gone.has(r.dev) || d.master !== undefined) return false;
    const addrs = d.addresses.filter((c) => c.includes(':') === (r.family === 6));
    return addrs.length > 0 && (r.gateway === undefined || addrs.some((c) => inSubnet(r.gateway as string, c)));
  });
  for (const r of actual.rules) if (!desired.rules.some((w) => sameRule(w, r))) steps.push({ op: 'rule.del', rule: r });
  for (const r of [...actual.routes.filter((r) => !keptRoutes.includes(r)), ...droppedForeign]) steps.push({ op: 'route.del', route: r });
  steps.push(...addrDels);
  // A device that goes takes its IPv6 sysctls with it; setting them back to the kernel's
  // defaults first (a no-op in effect) lets the undo set them again on the re-created device.
  for (const name of gone) {
    const conf = cur[name].ipv6conf;
    if (!conf || cur[name].kind === 'nic') continue;
    for (const key of ['accept_ra', 'autoconf'] as const) {
      if (conf[key] !== '1') steps.push({ op: 'sysctl.set', dev: name, key, from: conf[key], to: '1' });
    }
  }
  // An OVS internal port that goes is removed by the OVS switch; bring it down here, once its
  // routes and addresses are gone, so that the undo brings it back up before restoring them.
  for (const name of gone) {
    if (cur[name].kind === 'ovs' && cur[name].up) steps.push({ op: 'link.set', name, attr: 'up', from: true, to: false });
  }
  // The bonding driver takes a slave down when it lets it go, and refuses to enslave one that
  // is up: bring a leaving slave down first, explicitly, so the undo (attach, then up) works.
  const leavesBond = new Set<string>();
  // Slaves leave in the reverse of the order they are attached in (sorted), a bond's active
  // slave last, so that the undo (each inverse in reverse order) attaches them as they were:
  // the active one first (the first slave a bond gets becomes its active one, so a bond
  // re-created by a rollback carries its traffic on the same NIC), then the others in order
  // (in balance-tlb/alb the order decides which slave gets which MAC).
  const isActiveSlave = (l: LinkSpec) => l.master !== undefined && cur[l.master]?.activeSlave === l.name;
  for (const a of Object.values(cur).sort((x, y) => Number(isActiveSlave(x)) - Number(isActiveSlave(y)) || compareNames(y.name, x.name))) {
    if (a.master === undefined) continue;
    const d = want[a.name];
    if (gone.has(a.name) || gone.has(a.master) || d?.master !== a.master) {
      if (cur[a.master]?.kind === 'bond') {
        leavesBond.add(a.name);
        if (a.up) steps.push({ op: 'link.set', name: a.name, attr: 'up', from: true, to: false });
      }
      steps.push({ op: 'link.set', name: a.name, attr: 'master', from: a.master, to: null, ...(cur[a.master]?.kind === 'bond' && a.up === false ? { down: true as const } : {}) });
      // The bonding driver gives a slave it lets go the MTU it had when enslaved, which may be
      // none the host shows now: a slave that keeps its MTU gets it set again, explicitly (one
      // whose MTU changes gets it in the MTU phase below, one a bond takes again its bond's).
      if (leavesBond.has(a.name) && !gone.has(a.name) && d && d.mtu === a.mtu && !(d.master && want[d.master]?.kind === 'bond')) steps.push({ op: 'link.set', name: a.name, attr: 'mtu', from: a.mtu, to: d.mtu });
    }
  }
  const deletions = [...gone].map((n) => cur[n]).sort((x, y) => LEVEL[y.kind] - LEVEL[x.kind] || compareNames(x.name, y.name));
  // VLANs before their lower bond; bridges (level 3) before VLANs (2) before bonds (1).
  for (const a of deletions) if (!NOT_OURS_TO_CREATE.has(a.kind)) steps.push({ op: 'link.del', link: a });
  const teardown = steps.splice(0);

  // 2. MTU of surviving devices: decreases top-down, then increases bottom-up. A NIC that is an
  // OVS port after the change gets its MTU before the OVS transaction (at the teardown's end):
  // its undo then comes after OVS has let the NIC go, which would otherwise put its
  // mtu_request back on the NIC.
  const mtuSteps = (name: string) => (ovsMembers.has(name) ? teardown : steps);
  const mtuChanges = Object.values(want)
    .filter((d) => d.kind !== 'ovs' && survives(d.name) && cur[d.name].mtu !== d.mtu)
    .map((d) => ({ d, from: cur[d.name].mtu }));
  for (const { d, from } of mtuChanges.filter((c) => c.d.mtu < c.from).sort((x, y) => LEVEL[y.d.kind] - LEVEL[x.d.kind])) {
    // Below IPv6's minimum MTU the kernel drops the device's IPv6, sysctls included, and brings
    // it back with the defaults when the MTU rises again: set the defaults first, so that the
    // undo (MTU back up, then the sysctls) leaves the device as it was.
    const conf = cur[d.name].ipv6conf;
    if (conf && d.mtu < IPV6_MIN_MTU && from >= IPV6_MIN_MTU) {
      for (const key of ['accept_ra', 'autoconf'] as const) if (conf[key] !== '1') mtuSteps(d.name).push({ op: 'sysctl.set', dev: d.name, key, from: conf[key], to: '1' });
    }
    mtuSteps(d.name).push({ op: 'link.set', name: d.name, attr: 'mtu', from, to: d.mtu });
  }
  for (const { d, from } of mtuChanges.filter((c) => c.d.mtu > c.from).sort((x, y) => LEVEL[x.d.kind] - LEVEL[y.d.kind])) {
    mtuSteps(d.name).push({ op: 'link.set', name: d.name, attr: 'mtu', from, to: d.mtu });
  }

  // Admin state as it will be once the teardown is done; tracked for the up/down steps.
  const isUp = new Map<string, boolean>();
  for (const a of Object.values(cur)) if (!gone.has(a.name)) isUp.set(a.name, a.up === true && !leavesBond.has(a.name));

  const masterAfterTeardown = (name: string) => {
    const a = cur[name];
    if (!a || gone.has(name) || a.master === undefined) return undefined;
    return gone.has(a.master) || want[name]?.master !== a.master ? undefined : a.master;
  };
  const attach = (d: LinkSpec) => {
    if (d.master === undefined || masterAfterTeardown(d.name) === d.master) return;
    // The bonding driver refuses to enslave a device that is up.
    if (want[d.master]?.kind === 'bond' && isUp.get(d.name)) {
      steps.push({ op: 'link.set', name: d.name, attr: 'up', from: true, to: false });
      isUp.set(d.name, false);
    }
    steps.push({ op: 'link.set', name: d.name, attr: 'master', from: null, to: d.master });
  };
  const create = (kind: LinkSpec['kind']) => {
    for (const d of sorted(want, kind)) {
      if (survives(d.name)) continue;
      const { master: _m, addresses: _a, up: _u, ...creation } = d;
      steps.push({ op: 'link.add', link: { ...creation, addresses: [] } });
      isUp.set(d.name, false);
    }
  };
  const changeOptions = (kind: 'bond' | 'bridge') => {
    for (const d of sorted(want, kind)) {
      if (!survives(d.name)) continue;
      const a = cur[d.name];
      const { to, from } = kind === 'bond' ? bondOptionChanges(a.bondOptions ?? {}, d.bondOptions ?? {}) : bridgeOptionChanges(a.bridgeOpts ?? {}, d.bridgeOpts ?? {});
      // Some bonding options change only while the bond is down: down now, up in the up phase.
      if (kind === 'bond' && isUp.get(d.name) && Object.keys(to).some((k) => BOND_IFDOWN_OPTIONS.has(k))) {
        steps.push({ op: 'link.set', name: d.name, attr: 'up', from: true, to: false });
        isUp.set(d.name, false);
      }
      if (kind === 'bridge' && 'stp_state' in to && STP_TIMERS.some((k) => k in to)) {
        // The kernel checks the STP timers against the STP state it has at that moment: STP
        // goes off before timers STP would refuse are set, and comes on after they are.
        const { stp_state: stpTo, ...rest } = to;
        const { stp_state: stpFrom, ...restFrom } = from;
        const stp: Step = { op: 'bridge.set', name: d.name, from: { stp_state: stpFrom }, to: { stp_state: stpTo } };
        const others: Step = { op: 'bridge.set', name: d.name, from: restFrom, to: rest };
        steps.push(...(stpTo === '0' ? [stp, others] : [others, stp]));
      } else if (kind === 'bond' && 'primary' in to && (to.primary === '' || !from.primary)) {
        // A primary cleared is a step of its own (written to sysfs, not said to ip), and so is
        // one set where there was none: its undo clears it.
        const { primary: primaryTo, ...rest } = to;
        const { primary: primaryFrom, ...restFrom } = from;
        if (Object.keys(rest).length) steps.push({ op: 'bond.set', name: d.name, from: restFrom, to: rest });
        steps.push({ op: 'bond.set', name: d.name, from: { primary: primaryFrom }, to: { primary: primaryTo } });
      } else if (Object.keys(to).length) steps.push({ op: kind === 'bond' ? 'bond.set' : 'bridge.set', name: d.name, from, to });
      if (kind === 'bond' && d.mac && a.mac !== d.mac) steps.push({ op: 'link.set', name: d.name, attr: 'mac', from: a.mac ?? null, to: d.mac });
    }
  };

  // 3. Bonds and their slaves.
  create('bond');
  changeOptions('bond');
  for (const d of sorted(want, 'nic')) if (d.master && want[d.master]?.kind === 'bond') attach(d);
  // 4. VLANs, then bridges and their ports.
  create('vlan');
  create('bridge');
  changeOptions('bridge');
  for (const d of Object.values(want)) if (d.master && want[d.master]?.kind === 'bridge') attach(d);
  pinBridgeMtus(cur, want, survives, new Set(mtuChanges.map((c) => c.d.name)), steps);
  // 5. IPv6 autoconfiguration before a device comes up: a VM network never takes a router
  // advertisement or a SLAAC address, and one that wants them solicits routers when it comes up
  // (the kernel sends its router solicitations at link-up, not when accept_ra changes later).
  for (const d of Object.values(want)) {
    const have = survives(d.name) ? cur[d.name].ipv6conf : undefined;
    for (const key of ['accept_ra', 'autoconf'] as const) {
      const to = d.ipv6conf?.[key];
      // A new device has the kernel's defaults (accept_ra 1, autoconf 1) until set.
      const from = have?.[key] ?? '1';
      if (to !== undefined && to !== from) steps.push({ op: 'sysctl.set', dev: d.name, key, from, to });
    }
  }
  // The addresses autoconfiguration made on a device that no longer autoconfigures: the kernel
  // keeps them until they expire, so they go explicitly, after the sysctls (no router
  // advertisement makes them again). The undo adds them back (without their lifetimes).
  for (const d of Object.values(want)) {
    const off = d.ipv6conf?.autoconf === '0' || d.ipv6conf?.accept_ra === '0';
    if (!off || !survives(d.name)) continue;
    for (const cidr of cur[d.name].autoconfAddresses ?? []) if (!d.addresses.includes(cidr)) steps.push({ op: 'addr.del', dev: d.name, cidr });
  }
  // 6. Up, lower devices first.
  for (const d of Object.values(want).sort((x, y) => LEVEL[x.kind] - LEVEL[y.kind] || compareNames(x.name, y.name))) {
    if (d.up === undefined || isUp.get(d.name) === d.up) continue;
    steps.push({ op: 'link.set', name: d.name, attr: 'up', from: isUp.get(d.name) ?? false, to: d.up });
  }
  // 7. Addresses and routes.
  for (const d of Object.values(want)) {
    const have = survives(d.name) ? cur[d.name].addresses : [];
    for (const cidr of d.addresses) if (!have.includes(cidr)) steps.push({ op: 'addr.add', dev: d.name, cidr });
  }
  // On-link routes first: a gateway must be reachable when its route is added.
  const added = [...desired.routes.filter((r) => !keptRoutes.some((a) => sameRoute(a, r))), ...restoredForeign];
  for (const r of added.sort((a, b) => Number(a.gateway !== undefined) - Number(b.gateway !== undefined))) steps.push({ op: 'route.add', route: r });
  for (const r of desired.rules) if (!actual.rules.some((a) => sameRule(a, r))) steps.push({ op: 'rule.add', rule: r });
  // 8. DHCP clients, once their interfaces are up; each waits for its lease.
  for (const c of desired.dhcp ?? []) if (!keptClients.some((k) => sameClient(k, c))) steps.push({ op: 'dhcp.start', client: c });
  // 9. Nameservers, last: by then the network that reaches them is up.
  if (desired.nameservers && desired.nameservers.join(' ') !== (actual.nameservers ?? []).join(' ')) {
    steps.push({ op: 'dns.set', from: actual.nameservers ?? [], to: desired.nameservers });
  }
  return { teardown, build: steps, recreated: new Set([...gone].filter((n) => want[n] !== undefined)) };
}

/**
 * The bridge options `want` names that the bridge does not have yet. One the kernel does not
 * show (it lacks it) has no `from`: the undo leaves it out, as ip refuses an empty value.
 */
function bridgeOptionChanges(have: Record<string, string>, want: Record<string, string>): { from: Record<string, string>; to: Record<string, string> } {
  const to: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const [k, v] of Object.entries(want)) {
    if (have[k] === undefined || !sameBridgeOption(k, have[k], v)) {
      to[k] = v;
      if (have[k] !== undefined) from[k] = have[k];
    }
  }
  return { from, to };
}

function sameRule(a: RuleSpec, b: RuleSpec): boolean {
  return a.family === b.family && a.priority === b.priority && a.src === b.src && a.table === b.table;
}

function mustRecreate(a: LinkSpec, d: LinkSpec): boolean {
  if (a.kind !== d.kind) return true;
  if (a.kind === 'ovs') return false;
  if (a.kind === 'vlan') return a.vlan?.link !== d.vlan?.link || a.vlan?.id !== d.vlan?.id;
  // Options the driver changes only on a bond without slaves: re-create it.
  if (a.kind === 'bond' && d.bondOptions) {
    const { to } = bondOptionChanges(a.bondOptions ?? {}, d.bondOptions);
    return a.bondOptions?.mode !== d.bondOptions.mode || Object.keys(to).some((k) => BOND_NOSLAVES_OPTIONS.has(k));
  }
  return false;
}

function sameRoute(a: RouteSpec, b: RouteSpec): boolean {
  return a.family === b.family && a.dst === b.dst && (a.gateway ?? '') === (b.gateway ?? '') && a.dev === b.dev && a.table === b.table;
}

function sorted(links: Record<string, LinkSpec>, kind: LinkSpec['kind']): LinkSpec[] {
  return Object.values(links)
    .filter((l) => l.kind === kind)
    .sort((a, b) => compareNames(a.name, b.name));
}

/**
 * The kernel gives a bridge whose MTU no one set the smallest MTU of its ports (1500 without
 * any), again whenever a port comes, goes or changes its MTU; an MTU set explicitly stays. A
 * bridge meant to differ from that (a 1500 network on a NIC that a 9000 VLAN network shares)
 * gets its MTU set once its ports are in place, when it is new or its ports change (otherwise
 * the MTU phase sets it, if the host differs). The step's `from` is the MTU before the change:
 * the undo sets that one back after the ports' undo moved it.
 */
function pinBridgeMtus(cur: Layout['links'], want: Layout['links'], survives: (name: string) => boolean, mtuChanged: ReadonlySet<string>, steps: Step[]): void {
  const portsOf = (links: Layout['links']) => {
    const out = new Map<string, LinkSpec[]>();
    for (const l of Object.values(links)) {
      if (l.master === undefined) continue;
      const ports = out.get(l.master);
      if (ports) ports.push(l);
      else out.set(l.master, [l]);
    }
    return out;
  };
  const wantPorts = portsOf(want);
  const curPorts = portsOf(cur);
  for (const d of sorted(want, 'bridge')) {
    const ports = wantPorts.get(d.name) ?? [];
    const kept = survives(d.name) ? (curPorts.get(d.name) ?? []).filter((p) => survives(p.name)) : [];
    const foreign = kept.filter((p) => want[p.name] === undefined);
    const mtus = [...ports, ...foreign].map((p) => p.mtu);
    if ((mtus.length ? Math.min(...mtus) : DEFAULT_MTU) === d.mtu) continue;
    const portsChange =
      !survives(d.name) || ports.some((p) => mtuChanged.has(p.name) || cur[p.name]?.master !== d.name || !survives(p.name)) || kept.some((p) => want[p.name] !== undefined && want[p.name].master !== d.name);
    if (portsChange) steps.push({ op: 'link.set', name: d.name, attr: 'mtu', from: survives(d.name) ? cur[d.name].mtu : d.mtu, to: d.mtu });
  }
}
