// `npm run bench -- [suite ...] [--sizes 100,1000] [--reps N] [--full] [--ifaces N]`: runs the
// suites (all without a name), each writing its section of docs/benchmarks.md as it finishes.
// Needs root (network namespaces, a private Open vSwitch). On demand only: never part of the tests.
import { join } from 'node:path';
import { run } from '../src/sys/run.ts';
import { type BenchOptions, DOC, USAGE, cleanupLeftovers, parseOptions, progress, removeSandboxesOnSignal, writeSection } from './lib.ts';

type Suite = (options: BenchOptions) => Promise<string>;

const SUITES: Record<string, () => Promise<Suite>> = {
  ovs: async () => (await import('./ovs.ts')).runOvsSuite,
  linux: async () => (await import('./linux.ts')).runLinuxSuite,
  report: async () => (await import('./report.ts')).runReportSuite,
};
const ORDER = Object.keys(SUITES);

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), ORDER);
  } catch (e) {
    const message = (e as Error).message;
    process.stderr.write(`${message}\n${message.includes('usage:') ? '' : `${USAGE}\n`}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('the benchmarks need root: they create network namespaces and start Open vSwitch\n');
    return 1;
  }
  removeSandboxesOnSignal();
  await cleanupLeftovers();
  // bin/netswitch runs the sources when dist/ is older than them: measure the build, always.
  await run([process.execPath, join(import.meta.dirname, '..', 'scripts', 'build.ts')]);
  let failed = 0;
  for (const name of options.suites) {
    const started = performance.now();
    progress(`suite ${name}: sizes ${options.sizes.join(',')}`);
    try {
      const suite = await SUITES[name]();
      await writeSection(name, await suite(options), ORDER);
      progress(`suite ${name} done in ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${DOC}`);
    } catch (e) {
      failed++;
      progress(`suite ${name} failed: ${(e as Error).stack ?? e}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
