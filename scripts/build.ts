// Builds dist/: the CLI as one JavaScript file (sources and dependencies bundled), so a
// `netswitch` run neither strips types nor resolves a few hundred modules before it starts.
// bin/netswitch runs dist/netswitch.js when it is newer than every source file, the sources
// otherwise, so a stale build never runs. `npm run build`; scripts/setup and scripts/test run it.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist);
await build({
  entryPoints: { netswitch: join(root, 'src/cli/main.ts'), announce: join(root, 'src/ip/announce-main.ts') },
  outdir: dist,
  bundle: true,
  platform: 'node',
  format: 'esm',
  splitting: true,
  chunkNames: '[name]-[hash]', // flat: modules find their files next to import.meta.dirname
  target: 'node24',
  logLevel: 'warning',
  // commander and yaml are CommonJS inside: their require() of Node built-ins needs one.
  banner: { js: "import { createRequire as __nsRequire } from 'node:module'; const require = __nsRequire(import.meta.url);" },
});
// The DHCP client's script is found next to the module that starts the client (src/ip/dhcp.ts).
await copyFile(join(root, 'src/ip/dhclient-script'), join(dist, 'dhclient-script'));
