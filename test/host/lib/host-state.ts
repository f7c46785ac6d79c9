// The host as `ip` shows it (and the sandbox's resolv.conf), reduced to what configuration
// decides: the before/after equality that proves a rollback. Independent of netswitch's own
// reader on purpose.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configuredLinks } from '../../lib/configured.ts';
import type { SandboxHarness } from './harness.ts';

// ip's JSON is loosely typed; the fields used are named here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The host as `ip` shows it, reduced to what configuration decides (for before/after equality). */
export async function hostState(h: SandboxHarness): Promise<string> {
  const links: Json[] = await h.ipJson(['-d', 'addr', 'show']);
  const routes: Json[] = [...(await h.ipJson(['route', 'show', 'table', 'all'])), ...(await h.ipJson(['-6', 'route', 'show', 'table', 'all']))];
  const state = {
    links: configuredLinks(links),
    routes: routes
      // derived by the kernel, or learned from router advertisements: not configuration
      .filter((r) => r.protocol !== 'kernel' && r.protocol !== 'ra' && r.table !== 'local')
      .map((r) => `${r.table ?? 'main'} ${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`)
      .sort(),
    rules: [...(await h.ipJson(['rule', 'show'])), ...(await h.ipJson(['-6', 'rule', 'show']))].map((r: Json) => `${r.priority} ${r.src ?? 'all'} ${r.table}`).sort(),
    resolvConf: await readFile(join(h.sb.dir, 'resolv.conf'), 'utf8').catch(() => ''),
  };
  return JSON.stringify(state, null, 1);
}

