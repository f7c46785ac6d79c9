// Gateways as the report says them. A network with a gateway has it as the default route of
// its own source-routing table (plan/layout.ts sourceRouteTable); only the default-route
// network also has it in the main table. So a network's gateway is read from its own table
// first, then from the main table, as VDSM reads it; a device's from the main table, then
// from any other table through it.
import type { Route, Snapshot } from '../model/snapshot.ts';
import { sourceRouteTable } from '../plan/layout.ts';

type Family = 4 | 6;

/** Default routes with a gateway, by family, table and device; the first one of each wins. */
export interface DefaultRoutes {
  /** All of them (what the host routes by): for capabilities. */
  all: Map<string, string>;
  /** Those a request makes (not learnt from router advertisements, not the kernel's): for kernel_config. */
  configured: Map<string, string>;
  /** A device's gateway in any table other than main, by family and device. */
  anyTable: Map<string, string>;
}

const key = (family: Family, table: string, dev: string) => `${family}/${table}/${dev}`;

/** Protocols of routes a request makes: boot (ip's default, shown as none) and static. */
export function isConfiguredRoute(r: Route): boolean {
  return r.protocol === undefined || r.protocol === 'boot' || r.protocol === 'static';
}

const cache = new WeakMap<Snapshot, DefaultRoutes>();

/** Indexed once per snapshot: a report asks for every device and network. */
export function defaultRoutes(snapshot: Snapshot): DefaultRoutes {
  let out = cache.get(snapshot);
  if (out) return out;
  out = { all: new Map(), configured: new Map(), anyTable: new Map() };
  for (const r of snapshot.routes) {
    if (r.dst !== 'default' || !r.dev || !r.gateway || (r.type ?? 'unicast') !== 'unicast' || r.table === 'local') continue;
    const k = key(r.family, r.table, r.dev);
    if (!out.all.has(k)) out.all.set(k, r.gateway);
    if (isConfiguredRoute(r) && !out.configured.has(k)) out.configured.set(k, r.gateway);
    const any = `${r.family}/${r.dev}`;
    if (r.table !== 'main' && !out.anyTable.has(any)) out.anyTable.set(any, r.gateway);
  }
  cache.set(snapshot, out);
  return out;
}

/** The main table's default gateway through a device ('' when none). */
export function mainGateway(snapshot: Snapshot, dev: string, family: Family, configuredOnly = false): string {
  const routes = defaultRoutes(snapshot);
  return (configuredOnly ? routes.configured : routes.all).get(key(family, 'main', dev)) ?? '';
}

/** A device's gateway: the main table's default route through it, else one in another table. */
export function deviceGateway(snapshot: Snapshot, dev: string, family: Family): string {
  return mainGateway(snapshot, dev, family) || (defaultRoutes(snapshot).anyTable.get(`${family}/${dev}`) ?? '');
}

/**
 * A network's gateway: the default route of its own source-routing table through its device,
 * else the main table's (a network whose routes netswitch did not make, or a DHCP lease's).
 */
export function networkGateway(snapshot: Snapshot, network: string, dev: string, family: Family, configuredOnly = false): string {
  const routes = defaultRoutes(snapshot);
  const map = configuredOnly ? routes.configured : routes.all;
  return map.get(key(family, sourceRouteTable(network), dev)) ?? map.get(key(family, 'main', dev)) ?? '';
}
