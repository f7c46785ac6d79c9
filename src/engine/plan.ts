// From a request to the steps that would carry it out: parse, merge into the running config,
// read the host, validate, plan. Changes nothing.
import { type ChangeRequest, type Config, emptyConfig } from '../model/config.ts';
import { canonicalizeLenient } from '../model/canonicalize.ts';
import { invalid } from '../model/errors.ts';
import { mergeRequest } from '../model/merge.ts';
import type { Snapshot } from '../model/snapshot.ts';
import type { OvsdbClient } from '../ovsdb/index.ts';
import { layoutFromSnapshot, layoutOf, sourceRouteTable } from '../plan/layout.ts';
import { planLinuxPhases } from '../plan/linux.ts';
import { type OvsStep, ovsLayoutOf, planOvs } from '../plan/ovs.ts';
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
  /** datapath_type of the OVS bridges netswitch creates (default $NETSWITCH_OVS_DATAPATH or system). */
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
}

/** Parse, merge, read the host, validate and plan. Changes nothing. */
export function planChange(input: unknown, options: EngineOptions): Promise<PlannedChange> {
  return withOvs((ovs) => planWith(input, options, ovs));
}

/** planChange with the caller's OVSDB connection (left open). */
export async function planWith(input: unknown, options: EngineOptions, ovs: OvsdbClient | undefined): Promise<PlannedChange> {
  const state = new StateDir(options.stateDir);
  const { request, issues } = canonicalizeLenient(input);
  const [running, owned] = await Promise.all([state.running(), state.owned()]);
  const { config: desired, issues: mergeIssues } = mergeRequest(running, request, options.replace ?? false);
  const snapshot = await readHost(ovs, { stateDir: options.stateDir, ipv6confDevs: networkDevices(desired, running) });
  issues.push(
    ...mergeIssues,
    ...validateConfig(desired, {
      snapshot,
      running,
      owned,
      switchTypes: new Set(ovs ? ['legacy', 'ovs'] : ['legacy']),
      unavailableHint: `start Open vSwitch (no OVSDB server answers at ${ovsdbTarget()}; NETSWITCH_OVSDB sets where to look)`,
      named: { networks: new Set(Object.keys(request.networks)), bondings: new Set(Object.keys(request.bondings)) },
    }),
  );
  if (issues.length) throw invalid(issues);
  const datapath = options.ovsDatapath ?? defaultDatapath();
  return { request, running, desired, snapshot, owned, datapath, steps: planFor(snapshot, running, desired, owned, datapath) };
}

/** The devices networks sit on, now and after the change (whose IPv6 sysctls are managed). */
export function networkDevices(desired: Config, running: Config): string[] {
  const devs = new Set<string>();
  for (const layout of [layoutOf(desired, running), layoutOf(running, emptyConfig())]) {
    for (const l of Object.values(layout.links)) if (l.ipv6conf) devs.add(l.name);
  }
  return [...devs];
}

/**
 * The steps that take the host from what it has to what `desired` needs: the Linux teardown,
 * the OVS changes (one transaction), then the Linux build-up.
 */
export function planFor(snapshot: Snapshot, running: Config, desired: Config, owned: ReadonlySet<string>, datapath: string): Step[] {
  const want = layoutOf(desired, running);
  // Without IPv6 in the kernel there are no IPv6 sysctls to set.
  if (snapshot.ipv6 === false) for (const l of Object.values(want.links)) delete l.ipv6conf;
  const scope = new Set([...Object.keys(want.links), ...Object.keys(layoutOf(running, emptyConfig()).links), ...owned]);
  const takeDefault = new Set(want.routes.filter((r) => r.dst === 'default' && r.table === 'main').map((r) => r.family));
  // Tables of static networks only: a DHCP network's table is filled by its client.
  const isStatic = (n: Config['networks'][string]) => n.bootproto !== 'dhcp';
  const tables = new Set(
    [...Object.entries(desired.networks), ...Object.entries(running.networks)].filter(([, n]) => isStatic(n)).map(([name]) => sourceRouteTable(name)),
  );
  const dhcpDevs = new Set([...(want.dhcp ?? []), ...(snapshot.dhcp ?? [])].map((c) => c.dev));
  const ovsSteps = planOvs(snapshot.ovs?.layout ?? { bridges: {} }, ovsLayoutOf(desired, datapath));
  const { teardown, build } = planLinuxPhases(layoutFromSnapshot(snapshot, scope, takeDefault, tables, dhcpDevs), want, recreatedPorts(ovsSteps));
  return [...teardown, ...ovsSteps, ...build];
}

/**
 * Internal ports the OVS transaction deletes (a port or bridge re-created, or gone): their kernel
 * devices go with them, so the Linux side treats them as new (address, up) after it.
 */
function recreatedPorts(steps: readonly OvsStep[]): Set<string> {
  const ports = steps.flatMap((s) => (s.op === 'ovs.port.del' ? [s.port] : s.op === 'ovs.br.del' ? Object.values(s.bridge.ports) : []));
  return new Set(ports.flatMap((p) => p.interfaces.filter((i) => i.type === 'internal').map((i) => i.name)));
}
