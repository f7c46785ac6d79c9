// The host as `ip` shows it (and the sandbox's resolv.conf), reduced to what configuration
// decides: the before/after equality that proves a rollback. Independent of netswitch's own
// reader on purpose.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxHarness } from './harness.ts';

// ip's JSON is loosely typed; the fields used are named here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The host as `ip` shows it, reduced to what configuration decides (for before/after equality). */
export async function hostState(h: SandboxHarness): Promise<string> {
  const links: Json[] = await h.ipJson(['-d', 'addr', 'show']);
  const routes: Json[] = [...(await h.ipJson(['route', 'show', 'table', 'all'])), ...(await h.ipJson(['-6', 'route', 'show', 'table', 'all']))];
  const volatile = /timer|^root_|^bridge_id|^topology_change|active_slave|ad_info/;
  const state = {
    links: links
      .map((l) => ({
        name: l.ifname,
        kind: l.linkinfo?.info_kind ?? '',
        master: l.master ?? null,
        mtu: l.mtu,
        mac: l.address,
        up: l.flags.includes('UP'),
        info: Object.fromEntries(Object.entries(l.linkinfo?.info_data ?? {}).filter(([k]) => !volatile.test(k))),
        addrs: (l.addr_info ?? []).filter((a: Json) => a.scope !== 'link').map((a: Json) => `${a.local}/${a.prefixlen}`).sort(),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    routes: routes
      .filter((r) => r.protocol !== 'kernel' && r.table !== 'local')
      .map((r) => `${r.table ?? 'main'} ${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`)
      .sort(),
    rules: [...(await h.ipJson(['rule', 'show'])), ...(await h.ipJson(['-6', 'rule', 'show']))].map((r: Json) => `${r.priority} ${r.src ?? 'all'} ${r.table}`).sort(),
    resolvConf: await readFile(join(h.sb.dir, 'resolv.conf'), 'utf8').catch(() => ''),
  };
  return JSON.stringify(state, null, 1);
}

