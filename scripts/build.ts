// Builds dist/: the CLI as one JavaScript file (sources and dependencies bundled), so a
// `netswitch` run neither strips types nor resolves a few hundred modules before it starts.
// bin/netswitch runs dist/netswitch.js when it is newer than every source file, the sources
// otherwise, so a stale build never runs. `npm run build`; scripts/setup and scripts/test run it.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Plugin, build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

/**
 * zod bundles the messages of ~50 languages behind \`z.locales\`, which netswitch never uses (its
 * messages are its own, in English): a third of the bundle and ~8 ms of every start. Only the
 * English locale, which zod installs by default, is kept.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (args.importer.includes('/node_modules/zod/') ? { path: join(args.resolveDir, '../locales/en.js'), namespace: 'zod-locales' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, resolveDir: dist, loader: 'js' }));
  },
};

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
  plugins: [zodEnglishOnly],
  banner: { js: "import { createRequire as __nsRequire } from 'node:module'; const require = __nsRequire(import.meta.url);" },
});
// The DHCP client's script is found next to the module that starts the client (src/ip/dhcp.ts).
await copyFile(join(root, 'src/ip/dhclient-script'), join(dist, 'dhclient-script'));
