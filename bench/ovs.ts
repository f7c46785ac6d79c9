// The ovs suite: N VLAN networks on one two-NIC OVS bond (bridge br-bond0, internal port
// netK tagged K), applied by netswitch and by three baselines, each in a fresh sandbox:
//   (a) one ovs-vsctl process per network (what netswitch replaces; quadratic),
//   (b) one ovs-vsctl process with every command joined by `--`,
//   (c) one raw OVSDB transaction written by hand with netswitch's own client, then the wait
//       for ovs-vswitchd — as a program (whole process) and inside this process.
// Also: netswitch's fixed start-up, an unchanged re-apply, and the removal of all N networks
// (vs (b)'s `ovs-vsctl del-br`).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Sandbox, execArgv } from '../src/sandbox/sandbox.ts';
import { ovsEnv } from '../src/sandbox/ovs.ts';
import {
  type BenchOptions,
  NETSWITCH,
  ROOT,
  Samples,
  type Target,
  coldCache,
  expectUnchanged,
  fmtMs,
  fmtRatio,
  lines,
  machine,
  measure,
  measureNetswitch,
  mdTable,
  phaseTable,
  netswitch,
  progress,
  ratio,
  runTimed,
  targetsTable,
  waitIdle,
  warmUp,
  withSandbox,
} from './lib.ts';
import { applyVlanNetworks } from './ovsdb-txn.ts';

const BRIDGE = 'br-bond0';
/** (a) runs at every size up to this one; above it only with --full (else extrapolated). */
const PER_PORT_MAX_DEFAULT = 100;

function request(n: number): unknown {
  const networks: Record<string, unknown> = {};
  for (let k = 1; k <= n; k++) networks[`net${k}`] = { bonding: 'bond0', vlan: k, switch: 'ovs' };
  return { bondings: { bond0: { nics: ['eth0', 'eth1'], options: 'mode=active-backup', switch: 'ovs' } }, networks };
}

/** ovs-vsctl arguments creating the bridge (userspace datapath) and the bond. */
const BRIDGE_AND_BOND = [
  ['add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev'],
  ['add-bond', BRIDGE, 'bond0', 'eth0', 'eth1', 'bond_mode=active-backup'],
];
const vlanPort = (k: number) => ['add-port', BRIDGE, `net${k}`, `tag=${k}`, '--', 'set', 'interface', `net${k}`, 'type=internal'];

export async function runOvsSuite(options: BenchOptions): Promise<string> {
  const samples = new Samples();
  const fits = new Map<number, { alpha: number; beta: number; setupMs: number }>();
  const work = await mkdtemp(join(tmpdir(), 'netswitch-bench-ovs-'));
  try {
    const empty = join(work, 'empty.json');
    await writeFile(empty, '{}\n');
    const small = join(work, 'ovs-warm-up.json');
    await writeFile(small, JSON.stringify(request(2)));
    await withSandbox('bo', { nics: 2, ovs: true }, (sb) => warmUp(sb, small, empty));
    for (const n of options.sizes) {
      const file = join(work, `ovs-${n}.json`);
      await writeFile(file, JSON.stringify(request(n)));
      const perPort = n <= PER_PORT_MAX_DEFAULT || options.full;
      for (let rep = 1; rep <= options.reps; rep++) {
        const tag = `ovs N=${n} rep ${rep}/${options.reps}`;
        progress(`${tag}: netswitch`);
        await withSandbox('bo', { nics: 2, ovs: true }, async (sb) => {
          await measureNetswitch(samples, 'ns.apply', n, netswitch(sb, ['apply', file]));
          await waitIdle(sb);
          await measureNetswitch(samples, 'ns.reapply', n, expectUnchanged(netswitch(sb, ['apply', file])));
          // The same as a first run after a build would be, with Node's compile cache empty.
          await measure(samples, 'ns.reapply.cold.whole', n, async () => (await expectUnchanged(netswitch(sb, ['apply', file], { env: coldCache(work) }))).ms);
          if (n === options.sizes[0]) await startup(sb, samples, work);
          await measureNetswitch(samples, 'ns.remove', n, netswitch(sb, ['apply', '--replace', empty]));
          await waitIdle(sb);
        });
        progress(`${tag}: (b) one ovs-vsctl`);
        await withSandbox('bo', { nics: 2, ovs: true }, async (sb) => {
          const all = [...BRIDGE_AND_BOND, ...Array.from({ length: n }, (_, i) => vlanPort(i + 1))];
          const argv = ['ovs-vsctl', ...all.flatMap((cmd, i) => (i ? ['--', ...cmd] : cmd))];
          await measure(samples, 'b.apply.whole', n, async () => (await runTimed(execArgv(sb, argv))).ms);
          await measure(samples, 'b.remove.whole', n, async () => (await runTimed(execArgv(sb, ['ovs-vsctl', 'del-br', BRIDGE]))).ms);
        });
        progress(`${tag}: (c) one OVSDB transaction, as a program`);
        await withSandbox('bo', { nics: 2, ovs: true }, async (sb) => {
          const script = execArgv(sb, [process.execPath, '--disable-warning=ExperimentalWarning', join(ROOT, 'bench', 'ovsdb-txn.ts'), `unix:${sb.ovsdbSocket}`, String(n), 'netdev']);
          await measure(samples, 'c.whole', n, async () => (await runTimed(script)).ms);
        });
        progress(`${tag}: (c) one OVSDB transaction, in this process`);
        await withSandbox('bo', { nics: 2, ovs: true }, async (sb) => {
          await measure(samples, 'c.inproc', n, () => applyVlanNetworks(`unix:${sb.ovsdbSocket}`, n, 'netdev'));
          // Not a target's baseline: how fast removal can be when the kernel deletes the
          // internal ports' devices in one batch instead of ovs-vswitchd one by one.
          await measure(samples, 'fast.remove', n, async () => {
            const group = Array.from({ length: n }, (_, i) => `link set dev net${i + 1} group 77`);
            const a = await runTimed(['ip', '-n', sb.hostNs, '-batch', '-'], { input: lines(group) });
            const b = await runTimed(['ip', '-n', sb.hostNs, 'link', 'del', 'group', '77']);
            const c = await runTimed(execArgv(sb, ['ovs-vsctl', 'del-br', BRIDGE]));
            return a.ms + b.ms + c.ms;
          });
        });
        if (perPort && (rep === 1 || n <= PER_PORT_MAX_DEFAULT)) {
          progress(`${tag}: (a) one ovs-vsctl per network`);
          await withSandbox('bo', { nics: 2, ovs: true }, async (sb) => {
            await measure(samples, 'a.whole', n, async () => {
              const { totalMs, fit } = await perPortBaseline(sb, n);
              fits.set(n, fit);
              return totalMs;
            });
          });
        }
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return report(options, samples, fits, await machine());
}

/** The CLI's fixed cost: node alone, `--help` (commander), `schema` (zod), with the compile cache warm and cold. */
async function startup(sb: Sandbox, samples: Samples, work: string): Promise<void> {
  const time = (name: string, argv: string[]) => measure(samples, name, 0, async () => (await runTimed(execArgv(sb, argv), { discardStdout: true })).ms);
  await time('start.node', [process.execPath, '-e', '0']);
  await runTimed(execArgv(sb, [NETSWITCH, 'schema']), { discardStdout: true }); // the cache has --help's and schema's code
  await time('start.help', [NETSWITCH, '--help']);
  await time('start.schema', [NETSWITCH, 'schema']);
  const cold = Object.entries(coldCache(work)).map(([k, v]) => `${k}=${v}`);
  await time('start.schema.cold', ['env', ...cold, NETSWITCH, 'schema']);
}

/**
 * (a): add-br and add-bond, then one ovs-vsctl per network, each waiting for ovs-vswitchd as
 * ovs-vsctl does by default. Run directly (not through `ip netns exec`: ovs-vsctl needs only
 * the database socket), which only makes the baseline faster. The per-call times are fitted
 * as alpha + beta*k (k: ports already there) to extrapolate to sizes not run.
 */
async function perPortBaseline(sb: Sandbox, n: number): Promise<{ totalMs: number; fit: { alpha: number; beta: number; setupMs: number } }> {
  const env = ovsEnv(sb.ovsDir);
  const vsctl = (args: string[]) => runTimed(['ovs-vsctl', `--db=unix:${sb.ovsdbSocket}`, ...args], { env });
  const start = performance.now();
  for (const cmd of BRIDGE_AND_BOND) await vsctl(cmd);
  const setupMs = performance.now() - start;
  const perCall: number[] = [];
  for (let k = 1; k <= n; k++) perCall.push((await vsctl(vlanPort(k))).ms);
  return { totalMs: performance.now() - start, fit: { ...linearFit(perCall), setupMs } };
}

/** Least squares y = alpha + beta*x over x = 0..len-1. */
function linearFit(y: readonly number[]): { alpha: number; beta: number } {
  const n = y.length;
  const mx = (n - 1) / 2;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let x = 0; x < n; x++) {
    sxy += (x - mx) * (y[x] - my);
    sxx += (x - mx) ** 2;
  }
  const beta = sxx ? sxy / sxx : 0;
  return { alpha: my - beta * mx, beta };
}

function extrapolate(fit: { alpha: number; beta: number; setupMs: number }, n: number): number {
  return fit.setupMs + n * fit.alpha + (fit.beta * n * (n - 1)) / 2;
}

function report(options: BenchOptions, samples: Samples, fits: Map<number, { alpha: number; beta: number; setupMs: number }>, host: string): string {
  const sizes = options.sizes;
  const largestFit = [...fits.keys()].sort((a, b) => b - a)[0];
  const perPort = (n: number): { ms: number | undefined; extrapolated: boolean } => {
    if (samples.has('a.whole', n)) return { ms: samples.median('a.whole', n), extrapolated: false };
    return largestFit === undefined ? { ms: undefined, extrapolated: false } : { ms: extrapolate(fits.get(largestFit)!, n), extrapolated: true };
  };
  const cell = (name: string) => sizes.map((n) => samples.cell(name, n));
  const aCell = sizes.map((n) => {
    const a = perPort(n);
    if (!a.extrapolated) return samples.cell('a.whole', n);
    return a.ms === undefined ? '—' : `~${fmtMs(a.ms)} (extrapolated from N=${largestFit})`;
  });
  const head = ['measurement', ...sizes.map((n) => `N=${n}`)];
  const times = mdTable(head, [
    ['netswitch apply, whole process', ...cell('ns.apply.whole')],
    ['netswitch apply, in-process (sum of its `timings`)', ...cell('ns.apply.inproc')],
    ['netswitch unchanged re-apply, whole process', ...cell('ns.reapply.whole')],
    ['netswitch unchanged re-apply, in-process', ...cell('ns.reapply.inproc')],
    ['netswitch unchanged re-apply, whole process, compile cache cold (a first run after a build)', ...cell('ns.reapply.cold.whole')],
    ['netswitch removal (`apply --replace {}`), whole process', ...cell('ns.remove.whole')],
    ['netswitch removal, in-process', ...cell('ns.remove.inproc')],
    ['(a) one ovs-vsctl per network', ...aCell],
    ['(b) one ovs-vsctl, commands joined by `--`', ...cell('b.apply.whole')],
    ['(b) removal: `ovs-vsctl del-br br-bond0`', ...cell('b.remove.whole')],
    ['(c) one OVSDB transaction + wait, whole process (bench/ovsdb-txn.ts)', ...cell('c.whole')],
    ['(c) one OVSDB transaction + wait, in-process', ...cell('c.inproc')],
    ['(informative) removal with the N internal ports deleted by `ip link del group` first, then `del-br`', ...cell('fast.remove')],
  ]);
  const phases = phaseTable(samples, sizes, [['ns.apply', 'apply'], ['ns.reapply', 're-apply'], ['ns.remove', 'removal']]);
  const startup = mdTable(
    ['start-up (whole process, in the sandbox namespace)', 'time'],
    [
      ['`node -e 0`', samples.cell('start.node', 0)],
      ['`netswitch --help` (the CLI and commander, no engine)', samples.cell('start.help', 0)],
      ['`netswitch schema > /dev/null` (+ zod)', samples.cell('start.schema', 0)],
      ['`netswitch schema`, compile cache cold', samples.cell('start.schema.cold', 0)],
    ],
  );
  const m = (name: string, n: number) => samples.median(name, n);
  const ratioRow = (what: string, f: (n: number) => number | undefined) => [what, ...sizes.map((n) => fmtRatio(f(n)))];
  const ratios = mdTable(['ratio (medians)', ...sizes.map((n) => `N=${n}`)], [
    ratioRow('whole process: netswitch / (b) one ovs-vsctl', (n) => ratio(m('ns.apply.whole', n), m('b.apply.whole', n))),
    ratioRow('whole process: (a) per-network ovs-vsctl / netswitch', (n) => ratio(perPort(n).ms, m('ns.apply.whole', n))),
    ratioRow('whole process: netswitch / (c) transaction script', (n) => ratio(m('ns.apply.whole', n), m('c.whole', n))),
    ratioRow('in-process: netswitch / (c) transaction', (n) => ratio(m('ns.apply.inproc', n), m('c.inproc', n))),
    ratioRow('removal, whole process: netswitch / (b) del-br', (n) => ratio(m('ns.remove.whole', n), m('b.remove.whole', n))),
    ratioRow('removal: (b) del-br / group delete + del-br (informative)', (n) => ratio(m('b.remove.whole', n), m('fast.remove', n))),
  ]);
  const big = Math.max(...sizes);
  const targets: Target[] = [];
  const push = (what: string, goal: string, value: number | undefined, show: (v: number) => string, ok: (v: number) => boolean) =>
    targets.push({ what, goal, measured: value === undefined ? '—' : show(value), met: value === undefined ? undefined : ok(value) });
  const aBig = perPort(big);
  push(`whole process N=${big}: netswitch / (b)`, '≤ 1.0x', ratio(m('ns.apply.whole', big), m('b.apply.whole', big)), fmtRatio, (v) => v <= 1);
  push(`whole process N=${big}: (a) / netswitch${aBig.extrapolated ? ' ((a) extrapolated)' : ''}`, '≥ 30x', ratio(aBig.ms, m('ns.apply.whole', big)), fmtRatio, (v) => v >= 30);
  for (const n of sizes) push(`in-process N=${n}: netswitch / (c)`, '≤ 1.2x', ratio(m('ns.apply.inproc', n), m('c.inproc', n)), fmtRatio, (v) => v <= 1.2);
  push(`unchanged re-apply N=${big}, whole process`, '< 1 s', m('ns.reapply.whole', big), fmtMs, (v) => v < 1000);
  push(`unchanged re-apply N=${big}, in-process`, '< 1 s', m('ns.reapply.inproc', big), fmtMs, (v) => v < 1000);
  for (const n of sizes) push(`removal N=${n}: netswitch / (b) del-br`, '≤ 1.0x', ratio(m('ns.remove.whole', n), m('b.remove.whole', n)), fmtRatio, (v) => v <= 1);
  const fitNote =
    largestFit === undefined
      ? ''
      : `(a)'s per-call time at N=${largestFit} fits ${fits.get(largestFit)!.alpha.toFixed(1)} ms + ${fits.get(largestFit)!.beta.toFixed(3)} ms per port already on the bridge (each ovs-vsctl waits for ovs-vswitchd to reconfigure every port), which is what the extrapolation sums up; run with \`--full\` to measure it (about a minute at N=1000).`;
  return `## ovs: N VLAN networks on one two-NIC OVS bond

${host}. Sizes ${sizes.join(', ')}; ${options.reps} run${options.reps > 1 ? 's' : ''} each${options.full ? ' (--full)' : ''}.

Each network is \`{bonding: bond0, vlan: K, switch: ovs}\`, the bond \`{nics: [eth0, eth1], options: "mode=active-backup", switch: ovs}\`:
one OVS bridge br-bond0 (userspace datapath, as the sandbox sets), the bond port, and an internal port netK tagged K per network.
Whole process = wall clock of \`ip netns exec <host> env <sandbox env> bin/netswitch -o json apply FILE\` (the baselines likewise, except (a),
whose ovs-vsctl calls run directly with \`--db\`), with the compile cache bin/netswitch keeps warm (an apply and removal at N=2 fill it first); in-process = the sum of netswitch's reported \`timings\` (the phases
below). Among them \`read\`: the host read an apply starts at start-up, while netswitch loads (cli/early.ts), counted at its wall time, which overlaps start-up and waits for the loading main thread: an unchanged re-apply's in-process sum can exceed its whole process. netswitch also does what the baselines do not: it brings the N internal ports up (one \`ip -batch\`), checks every
interface for errors, reads the host back to verify, and writes its state; ovs-vsctl and (c) only write the rows and wait for ovs-vswitchd.

${times}

${ratios}

${startup}

${phases}

Targets:

${targetsTable(targets)}

${fitNote}
`;
}
