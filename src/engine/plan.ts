// From a request to the steps that would carry it out: parse, merge into the running config,
// read the host, validate, plan. Changes nothing.
import { type ChangeRequest, type Config, emptyConfig, isRemoval, southbound } from '../model/config.ts';
import { type QosLayout, hostQosProblems, planQosPhases, qosLayoutOf } from '../qos/hfsc.ts';
import { ovsHostQosProblems } from '../qos/ovs.ts';
import { canonicalizeLenient } from '../model/canonicalize.ts';
import { type Issue, invalid } from '../model/errors.ts';
import { adoptHostBonds, mergeRequest } from '../model/merge.ts';
import type { Snapshot } from '../model/snapshot.ts';
import type { OvsdbClient } from '../ovsdb/index.ts';
import { type Layout, layoutFromSnapshot, layoutOf, networkIface, nicsOf, sourceRouteTable } from '../plan/layout.ts';
import { planLinuxPhases } from '../plan/linux.ts';
import { type OvsLayout, ovsLayoutOf, planOvs } from '../plan/ovs.ts';
import type { Step } from '../plan/steps.ts';
import { defaultDatapath, ovsdbTarget } from '../switch/ovs/state.ts';
import type { Log } from '../sys/log.ts';
import { validateConfig } from '../validate/validate.ts';
import { readHost, withOvs } from './host.ts';
import type { Probe } from './probes.ts';
import { StateDir } from './state.ts';

export interface EngineOptions {
  stateDir: string;
  log?: Log;
  /** The request is the whole desired config: what it does not name is removed. */
  replace?: boolean;
  /**
   * datapath_type of the OVS bridges: given (--ovs-datapath), every bridge netswitch manages has
   * it (one with another is re-created); absent, bridges a change creates get
   * $NETSWITCH_OVS_DATAPATH or system, and existing ones keep theirs.
   */
  ovsDatapath?: string;
  /** Leave the change pending: `commit` keeps it, `rollback` or the timeout undoes it. */
  noCommit?: boolean;
  /** Seconds a pending change waits for `commit` (default: the request's connectivityTimeout). */
  timeout?: number;
  /** Connectivity probes: one that worked before the change and fails after rolls it back. */
  probes?: Probe[];
  /** Called when a change is left pending, to arrange its rollback at the deadline. */
  onPending?: (journalId: string, deadline: number) => void;
}

export interface PlannedChange {
  request: ChangeRequest;
  running: Config;
  desired: Config;
  snapshot: Snapshot;
  owned: Set<string>;
  steps: Step[];
  datapath: string;
  /** The devices whose IPv6 sysctls the change manages (read again to verify it). */
  ipv6confDevs: string[];
  /** What the steps aim at (verification plans against it again: nothing may be left). */
  target: Target;
}

/** Parse, merge, read the host, validate and plan. Changes nothing. */
export function planChange(input: unknown, options: EngineOptions): Promise<PlannedChange> {
  return withOvs((ovs) => planWith(input, options, ovs));
}

/** planChange with the caller's OVSDB connection (left open). */
export async function planWith(input: unknown, options: EngineOptions, ovs: OvsdbClient | undefined): Promise<PlannedChange> {
  // The host read starts first: its processes run while the request is parsed and merged,
  // which tells the devices whose IPv6 sysctls it reads.
  const devs = Promise.withResolvers<Iterable<string>>();
  const reading = readHost(ovs, { stateDir: options.stateDir, ipv6confDevs: devs.promise });
  reading.catch(() => {}); // awaited below
  const merged = mergeInput(input, options);
  devs.resolve(merged.then((m) => m.ipv6confDevs, () => []));
  const { request, issues, running, owned, desired, ipv6confDevs } = await merged;
  const snapshot = await reading;
  // The host's bonds the networks use and no config names are taken over as they are (VDSM's
  // external bonds): planned, verified and written to the running config like requested ones.
  const adoption = adoptHostBonds(desired, snapshot, running);
  Object.assign(desired.bondings, adoption.adopted);
  issues.push(
    ...datapathProblems(options.ovsDatapath),
    ...adoption.issues,
    ...validateConfig(desired, {
      snapshot,
      running,
      owned,
      switchTypes: new Set(ovs ? ['legacy', 'ovs'] : ['legacy']),
      unavailableHint: `start Open vSwitch (no OVSDB server answers at ${ovsdbTarget()}; NETSWITCH_OVSDB sets where to look)`,
      named: { networks: new Set(Object.keys(request.networks)), bondings: new Set(Object.keys(request.bondings)) },
      refused: new Set(issues.map((i) => i.path)),
    }),
  );
  issues.push(...hostQosProblems(desired), ...ovsHostQosProblems(desired), ...foreignShaping(desired, snapshot));
  if (issues.length) throw invalid(issues);
  warnUnusedNameservers(request, options.log);
  const datapath = options.ovsDatapath ?? defaultDatapath();
  const target = targetOf(running, desired, owned, datapath, snapshot.ipv6 !== false);
  // Only --ovs-datapath moves bridges to another datapath (re-creating them); the default
  // ($NETSWITCH_OVS_DATAPATH, or system) is for the bridges a change creates.
  if (options.ovsDatapath === undefined) keepDatapaths(target.ovs, snapshot);
  return { request, running, desired, snapshot, owned, datapath, ipv6confDevs, target, steps: planAgainst(snapshot, target) };
}

/** The OVS datapath types there are ('' is the default, system). */
const DATAPATHS = ['system', 'netdev'];

function datapathProblems(asked: string | undefined): Issue[] {
  const [path, value] = asked !== undefined ? ['--ovs-datapath', asked] : ['NETSWITCH_OVS_DATAPATH', defaultDatapath()];
  if (DATAPATHS.includes(value)) return [];
  return [{ path, message: `unknown OVS datapath type "${value}"`, hint: `use ${DATAPATHS.join(' (the kernel datapath) or ')} (userspace)` }];
}

/** Bridges the host has keep their datapath type (what the target asks only for new ones). */
function keepDatapaths(target: OvsLayout, snapshot: Snapshot): void {
  const existing = snapshot.ovs?.layout.bridges ?? {};
  for (const [name, bridge] of Object.entries(target.bridges)) {
    const datapath = existing[name]?.datapath;
    if (datapath !== undefined) bridge.datapath = datapath;
  }
}

/** The resolver reads the first MAXNS (3) nameservers of resolv.conf (glibc, musl): more are written, and said to be unused. */
const RESOLVER_MAXNS = 3;

function warnUnusedNameservers(request: ChangeRequest, log: Log | undefined): void {
  for (const [name, net] of Object.entries(request.networks)) {
    if (isRemoval(net)) continue;
    const servers = net.nameservers;
    if (servers && servers.length > RESOLVER_MAXNS) {
      log?.warn(`networks.${name}.nameservers: ${servers.length} servers, and the resolver uses the first ${RESOLVER_MAXNS} of resolv.conf (${servers.slice(RESOLVER_MAXNS).join(', ')} would never be asked)`);
    }
    // VDSM allows it (a default-route network whose router is not known yet), and it takes the
    // host's IPv4 default route away: said, not refused.
    if (net.defaultRoute && net.bootproto !== 'dhcp' && net.gateway === undefined) {
      log?.warn(`networks.${name}: defaultRoute without a gateway: the host will have no IPv4 default route (any it has now is removed); add gateway to keep one`);
    }
  }
}

/** The request parsed and merged into the running config, with the problems found so far. */
async function mergeInput(input: unknown, options: EngineOptions) {
  const state = new StateDir(options.stateDir);
  const { request, issues } = canonicalizeLenient(input);
  const [running, owned] = await Promise.all([state.running(), state.owned()]);
  const { config: desired, issues: mergeIssues } = mergeRequest(running, request, options.replace ?? false);
  return { request, issues: [...issues, ...mergeIssues], running, owned, desired, ipv6confDevs: networkDevices(desired, running) };
}

/**
 * Shaping needs the root qdisc (legacy) or the port's QoS row (ovs): a device or port that has
 * someone else's cannot take it. The qdisc OVS made for netswitch's QoS row on a NIC that is
 * leaving OVS is not someone else's: it goes with the port.
 */
function foreignShaping(desired: Config, snapshot: Snapshot): Issue[] {
  const issues: Issue[] = [];
  const ovsShaped = new Set(Object.values(snapshot.ovs?.layout.bridges ?? {}).flatMap((b) => Object.values(b.ports).filter((p) => p.qos).flatMap((p) => p.interfaces.map((i) => i.name))));
  for (const [name, net] of Object.entries(desired.networks)) {
    const dev = southbound(net);
    if (dev === undefined || !net.hostQos) continue;
    if (net.switch === 'ovs') {
      if (snapshot.ovs?.ports[dev]?.foreignQos) issues.push({ path: `networks.${name}.hostQos`, message: `OVS port ${dev} already has a QoS row that netswitch did not make`, hint: `remove it (ovs-vsctl clear port ${dev} qos) or drop hostQos` });
      continue;
    }
    const other = snapshot.foreignQdiscs?.[dev];
    if (other && !ovsShaped.has(dev)) issues.push({ path: `networks.${name}.hostQos`, message: `${dev} already has a root qdisc that netswitch did not make (${other})`, hint: `remove it (tc qdisc del dev ${dev} root) or drop hostQos` });
  }
  return issues;
}

/**
 * The devices networks sit on, now and after the change, and the NICs it frees: those whose
 * IPv6 sysctls the layouts manage (layoutOf gives them ipv6conf), read from the config alone
 * (building both layouts for it took ~10 ms of a plan of 1000 networks).
 */
export function networkDevices(desired: Config, running: Config): string[] {
  const devs = new Set<string>();
  for (const config of [desired, running]) {
    for (const [name, net] of Object.entries(config.networks)) {
      const iface = networkIface(name, net);
      if (iface !== undefined) devs.add(iface);
    }
  }
  const kept = nicsOf(desired);
  for (const nic of nicsOf(running)) if (!kept.has(nic)) devs.add(nic);
  return [...devs];
}

/**
 * What a change aims at, computed once from the configs: the layouts the Linux, OVS and shaping
 * planners diff the host against. Planning and verification (the same diff, after the change)
 * share it; it depends on the host only through `ipv6` (no IPv6 in the kernel, no sysctls).
 */
export interface Target {
  want: Layout;
  /** Devices netswitch manages: wanted, running, or owned from before. */
  scope: Set<string>;
  takeDefault: Set<4 | 6>;
  tables: Set<string>;
  ovs: OvsLayout;
  qos: QosLayout;
  /** The devices of the networks, now and after the change (the shaping netswitch looks at). */
  southbounds: Set<string>;
}

export function targetOf(running: Config, desired: Config, owned: ReadonlySet<string>, datapath: string, ipv6 = true): Target {
  const want = layoutOf(desired, running);
  // Without IPv6 in the kernel there are no IPv6 sysctls to set.
  if (!ipv6) for (const l of Object.values(want.links)) delete l.ipv6conf;
  const scope = new Set([...Object.keys(want.links), ...Object.keys(layoutOf(running, emptyConfig()).links), ...owned]);
  const takeDefault = new Set(want.routes.filter((r) => r.dst === 'default' && r.table === 'main').map((r) => r.family));
  // Tables of static networks only: a DHCP network's table is filled by its client.
  const isStatic = (n: Config['networks'][string]) => n.bootproto !== 'dhcp';
  const tables = new Set(
    [...Object.entries(desired.networks), ...Object.entries(running.networks)].filter(([, n]) => isStatic(n)).map(([name]) => sourceRouteTable(name)),
  );
  const networks = [...Object.values(desired.networks), ...Object.values(running.networks)];
  const southbounds = new Set(networks.map(southbound).filter((d): d is string => d !== undefined));
  return { want, scope, takeDefault, tables, ovs: ovsLayoutOf(desired, datapath), qos: qosLayoutOf(desired), southbounds };
}

/** The steps that take the host from what it has to what `desired` needs (see planAgainst). */
export function planFor(snapshot: Snapshot, running: Config, desired: Config, owned: ReadonlySet<string>, datapath: string): Step[] {
  return planAgainst(snapshot, targetOf(running, desired, owned, datapath, snapshot.ipv6 !== false));
}

/**
 * The steps that take the host from what it has to the target: the Linux teardown, the OVS
 * changes (one transaction, with the flows it affects just before and after), then the Linux
 * build-up. None when the host has it all (what verification checks).
 */
export function planAgainst(snapshot: Snapshot, target: Target): Step[] {
  const dhcpDevs = new Set([...(target.want.dhcp ?? []), ...(snapshot.dhcp ?? [])].map((c) => c.dev));
  const ovsSteps = planOvs(snapshot.ovs?.layout ?? { bridges: {} }, target.ovs);
  const current = layoutFromSnapshot(snapshot, target.scope, target.takeDefault, target.tables, dhcpDevs);
  const ovsMembers = new Set(Object.values(target.ovs.bridges).flatMap((b) => Object.values(b.ports).flatMap((p) => p.interfaces.map((i) => i.name))));
  const { teardown, build, recreated } = planLinuxPhases(current, target.want, recreatedPorts(ovsSteps), ovsMembers);
  // Shaping: torn down before the devices it sits on change, built once they are up again.
  const qos = planQosPhases(ourShaping(snapshot, target.southbounds), target.qos, recreated);
  return [...qos.teardown, ...teardown, ...ovsSteps, ...build, ...qos.build];
}

/** The shaping the host has on devices netswitch's networks use (anything else is left alone). */
function ourShaping(snapshot: Snapshot, devs: ReadonlySet<string>): QosLayout {
  return { devs: Object.fromEntries(Object.entries(snapshot.qos?.devs ?? {}).filter(([dev]) => devs.has(dev))) };
}

/**
 * Internal ports the OVS transaction deletes (a port or bridge re-created, or gone): their kernel
 * devices go with them, so the Linux side treats them as new (address, up) after it.
 */
function recreatedPorts(steps: readonly Step[]): Set<string> {
  const ports = steps.flatMap((s) => (s.op === 'ovs.port.del' ? [s.port] : s.op === 'ovs.br.del' ? Object.values(s.bridge.ports) : []));
  return new Set(ports.flatMap((p) => p.interfaces.filter((i) => i.type === 'internal').map((i) => i.name)));
}
