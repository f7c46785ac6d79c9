// The linux suite: N bridged networks on the host kernel, each a bridge netK over its own veth
// NIC ethK with a /30 address, applied by netswitch and by two hand-written baselines — one
// `ip` process per command, and one `ip -batch` of the same commands — each in a fresh
// sandbox with N NICs. Also: an unchanged re-apply, the removal of the N networks, and a
// rollback (a fault injected at the plan's last step, so everything before it is undone),
// both against the fastest hand-written undo: every bridge put in one group by one batch,
// then `ip link del group` (the kernel deletes a group in one go).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../src/sandbox/sandbox.ts';
import {
  type BenchOptions,
  Samples,
  type Target,
  addNics,
  attempt,
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

const DEFAULT_REPS = 2;
/** One `ip` per command runs at sizes up to this one; above it only with --full (else extrapolated: it is no target's baseline). */
const PER_COMMAND_MAX_DEFAULT = 100;
const UNDO_GROUP = 42;

/** A distinct /30 per network: 10.(K/250).(K%250).1/30. */
const address = (k: number) => `10.${Math.floor(k / 250)}.${k % 250}.1/30`;

function request(n: number): unknown {
  const networks: Record<string, unknown> = {};
  for (let k = 0; k < n; k++) {
    const [ipaddr, prefix] = address(k).split('/');
    networks[`net${k}`] = { nic: `eth${k}`, ipaddr, prefix: Number(prefix) };
  }
  return { networks };
}

/** The commands netswitch's plan has, in its order: bridges, ports, up (lower first), addresses. */
function buildCommands(n: number): string[][] {
  const ks = Array.from({ length: n }, (_, k) => k);
  return [
    ...ks.map((k) => ['link', 'add', 'name', `net${k}`, 'mtu', '1500', 'type', 'bridge']),
    ...ks.map((k) => ['link', 'set', 'dev', `eth${k}`, 'master', `net${k}`]),
    ...ks.map((k) => ['link', 'set', 'dev', `eth${k}`, 'up']),
    ...ks.map((k) => ['link', 'set', 'dev', `net${k}`, 'up']),
    ...ks.map((k) => ['addr', 'add', address(k), 'dev', `net${k}`]),
  ];
}

export async function runLinuxSuite(options: BenchOptions): Promise<string> {
  const reps = options.repsGiven ? options.reps : DEFAULT_REPS;
  const samples = new Samples();
  const work = await mkdtemp(join(tmpdir(), 'netswitch-bench-linux-'));
  const withNics = <T>(n: number, fn: (sb: Sandbox) => Promise<T>) =>
    withSandbox('bl', { nics: 0, ovs: false }, async (sb) => {
      samples.add('sandbox.nics', n, (await timedMs(() => addNics(sb, 0, n))));
      return fn(sb);
    });
  try {
    const empty = join(work, 'empty.json');
    await writeFile(empty, '{}\n');
    const small = join(work, 'linux-warm-up.json');
    await writeFile(small, JSON.stringify(request(2)));
    await withNics(2, (sb) => warmUp(sb, small, empty));
    for (const n of options.sizes) {
      const file = join(work, `linux-${n}.json`);
      await writeFile(file, JSON.stringify(request(n)));
      const commands = buildCommands(n);
      let lastStep = 0;
      for (let rep = 1; rep <= reps; rep++) {
        const tag = `linux N=${n} rep ${rep}/${reps}`;
        progress(`${tag}: netswitch apply, re-apply, removal`);
        await withNics(n, async (sb) => {
          const apply = await measureNetswitch(samples, 'ns.apply', n, netswitch(sb, ['apply', file]));
          if (apply?.output) lastStep = apply.output.steps.length;
          samples.add('ns.apply.helpers', n, await waitIdle(sb));
          await measureNetswitch(samples, 'ns.reapply', n, expectUnchanged(netswitch(sb, ['apply', file])));
          await measure(samples, 'ns.reapply.cold.whole', n, async () => (await expectUnchanged(netswitch(sb, ['apply', file], { env: coldCache(work) }))).ms);
          await measureNetswitch(samples, 'ns.remove', n, netswitch(sb, ['apply', '--replace', empty]));
          await waitIdle(sb);
        });
        if (lastStep > 0) {
          progress(`${tag}: netswitch rollback from step ${lastStep}`);
          await withNics(n, async (sb) => {
            const env = { NETSWITCH_FAULT_STEP: String(lastStep) };
            const rb = await attempt(samples, ['ns.rollback.whole', 'ns.rollback.undo'], n, () => netswitch(sb, ['apply', file], { env, expect: 3, marker: /rolling back/ }));
            if (rb) samples.add('ns.rollback.whole', n, rb.ms);
            if (rb?.markerMs !== undefined) samples.add('ns.rollback.undo', n, rb.ms - rb.markerMs);
            await waitIdle(sb);
          });
        }
        if (n <= PER_COMMAND_MAX_DEFAULT || (options.full && rep === 1)) {
          progress(`${tag}: one ip per command (${commands.length} processes), then the fastest undo`);
          await withNics(n, async (sb) => {
            await measure(samples, 'pc.apply', n, async () => {
              const start = performance.now();
              for (const c of commands) await runTimed(['ip', '-n', sb.hostNs, ...c]);
              return performance.now() - start;
            });
            await measure(samples, 'undo', n, () => fastestUndo(sb, n));
          });
        }
        progress(`${tag}: one ip -batch, then the fastest undo`);
        await withNics(n, async (sb) => {
          const batch = lines(commands.map((c) => c.join(' ')));
          await measure(samples, 'batch.apply', n, async () => (await runTimed(['ip', '-n', sb.hostNs, '-batch', '-'], { input: batch })).ms);
          await measure(samples, 'undo', n, () => fastestUndo(sb, n));
        });
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return report(options, reps, samples, await machine());
}

/** Every bridge into one group (one batch), then one `ip link del group`: two processes. */
async function fastestUndo(sb: Sandbox, n: number): Promise<number> {
  const grouping = Array.from({ length: n }, (_, k) => `link set dev net${k} group ${UNDO_GROUP}`);
  const a = await runTimed(['ip', '-n', sb.hostNs, '-batch', '-'], { input: lines(grouping) });
  const b = await runTimed(['ip', '-n', sb.hostNs, 'link', 'del', 'group', String(UNDO_GROUP)]);
  return a.ms + b.ms;
}

async function timedMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function report(options: BenchOptions, reps: number, samples: Samples, host: string): string {
  const sizes = options.sizes;
  const m = (name: string, n: number) => samples.median(name, n);
  const cell = (name: string) => sizes.map((n) => samples.cell(name, n));
  // One ip per command costs the same per command at any size: scale the largest size run.
  const measuredPc = sizes.filter((n) => samples.has('pc.apply', n)).sort((a, b) => b - a)[0];
  const perCommand = (n: number): number | undefined =>
    samples.has('pc.apply', n) ? m('pc.apply', n) : measuredPc === undefined ? undefined : (m('pc.apply', measuredPc)! * n) / measuredPc;
  const pcCell = sizes.map((n) =>
    samples.has('pc.apply', n) || measuredPc === undefined ? samples.cell('pc.apply', n) : `~${fmtMs(perCommand(n))} (extrapolated from N=${measuredPc})`,
  );
  const times = mdTable(['measurement', ...sizes.map((n) => `N=${n}`)], [
    ['netswitch apply, whole process', ...cell('ns.apply.whole')],
    ['netswitch apply, in-process (sum of its `timings`)', ...cell('ns.apply.inproc')],
    ['… then until its detached helpers (arping) are gone', ...cell('ns.apply.helpers')],
    ['netswitch unchanged re-apply, whole process', ...cell('ns.reapply.whole')],
    ['netswitch unchanged re-apply, in-process', ...cell('ns.reapply.inproc')],
    ['netswitch unchanged re-apply, whole process, compile cache cold (a first run after a build)', ...cell('ns.reapply.cold.whole')],
    ['netswitch removal (`apply --replace {}`), whole process', ...cell('ns.remove.whole')],
    ['netswitch removal, in-process', ...cell('ns.remove.inproc')],
    ['netswitch rollback from the last step, whole process (apply + undo + proof)', ...cell('ns.rollback.whole')],
    ['… of which from "rolling back" to exit (undo + read back + compare)', ...cell('ns.rollback.undo')],
    ['baseline: one `ip` process per command', ...pcCell],
    ['baseline: one `ip -batch` of the same commands', ...cell('batch.apply')],
    ['fastest undo: `link set dev netK group 42` batch + `ip link del group 42`', ...cell('undo')],
    ['(setup, not compared) N veth NICs in one `ip -batch`', ...cell('sandbox.nics')],
  ]);
  const phases = phaseTable(samples, sizes, [['ns.apply', 'apply'], ['ns.reapply', 're-apply'], ['ns.remove', 'removal']]);
  const ratioRow = (what: string, f: (n: number) => number | undefined) => [what, ...sizes.map((n) => fmtRatio(f(n)))];
  const ratios = mdTable(['ratio (medians)', ...sizes.map((n) => `N=${n}`)], [
    ratioRow('whole process: netswitch / ip -batch', (n) => ratio(m('ns.apply.whole', n), m('batch.apply', n))),
    ratioRow('in-process: netswitch / ip -batch', (n) => ratio(m('ns.apply.inproc', n), m('batch.apply', n))),
    ratioRow('one ip per command / netswitch (whole process)', (n) => ratio(perCommand(n), m('ns.apply.whole', n))),
    ratioRow('one ip per command / ip -batch', (n) => ratio(perCommand(n), m('batch.apply', n))),
    ratioRow('removal, whole process: netswitch / fastest undo', (n) => ratio(m('ns.remove.whole', n), m('undo', n))),
    ratioRow('removal, in-process: netswitch / fastest undo', (n) => ratio(m('ns.remove.inproc', n), m('undo', n))),
    ratioRow('rollback (from "rolling back" to exit) / fastest undo', (n) => ratio(m('ns.rollback.undo', n), m('undo', n))),
    ratioRow('rollback whole process (apply + undo) / fastest undo', (n) => ratio(m('ns.rollback.whole', n), m('undo', n))),
  ]);
  const big = Math.max(...sizes);
  const targets: Target[] = [];
  const push = (what: string, goal: string, value: number | undefined, show: (v: number) => string, ok: (v: number) => boolean) =>
    targets.push({ what, goal, measured: value === undefined ? '—' : show(value), met: value === undefined ? undefined : ok(value) });
  push(`whole process N=${big}: netswitch / ip -batch`, '≤ 1.5x', ratio(m('ns.apply.whole', big), m('batch.apply', big)), fmtRatio, (v) => v <= 1.5);
  for (const n of sizes) push(`in-process N=${n}: netswitch / ip -batch`, '≤ 1.2x', ratio(m('ns.apply.inproc', n), m('batch.apply', n)), fmtRatio, (v) => v <= 1.2);
  push(`unchanged re-apply N=${big}, whole process`, '< 1 s', m('ns.reapply.whole', big), fmtMs, (v) => v < 1000);
  push(`unchanged re-apply N=${big}, in-process`, '< 1 s', m('ns.reapply.inproc', big), fmtMs, (v) => v < 1000);
  push(`removal N=${big}, whole process: netswitch / fastest undo`, '≤ 1.2x', ratio(m('ns.remove.whole', big), m('undo', big)), fmtRatio, (v) => v <= 1.2);
  push(`rollback N=${big} (undo part) / fastest undo`, '≤ 1.2x', ratio(m('ns.rollback.undo', big), m('undo', big)), fmtRatio, (v) => v <= 1.2);
  const perCommandNote =
    sizes.some((n) => n > PER_COMMAND_MAX_DEFAULT) && !options.full
      ? `One \`ip\` per command runs only up to N=${PER_COMMAND_MAX_DEFAULT} (it is no target's baseline; it costs the same per command at any size): larger sizes are scaled from it. \`--full\` runs it once at every size.`
      : '';
  return `## linux: N bridged networks on the host kernel

${host}. Sizes ${sizes.join(', ')}; ${reps} run${reps > 1 ? 's' : ''} each${options.full ? ' (--full)' : ''}.

Network K is \`{nic: ethK, ipaddr: 10.(K/250).(K%250).1, prefix: 30}\`: bridge netK (created by netswitch) with the veth NIC ethK in it
and the address on the bridge. A sandbox host has at most 64 NICs, so each sandbox here starts with none and gets its N veth pairs
from one \`ip -batch\` (a few hundred ms at N=1000, not counted). The baselines run exactly the commands of netswitch's plan, in its
order (bridge, port, NIC up, bridge up, address: 5 per network) with \`ip -n <host netns>\`. Whole process = wall clock of
\`ip netns exec <host> env <sandbox env> bin/netswitch -o json apply FILE\`, with the compile cache bin/netswitch keeps warm (a first
apply and removal at N=2 fill it before anything is measured); in-process = the sum of its reported \`timings\` (the phases below). Among them \`read\`: the host read an apply starts at start-up, while netswitch loads (cli/early.ts), counted at its wall time, which overlaps start-up and waits for the loading main thread: an unchanged re-apply's in-process sum can exceed its whole process.
The rollback is an apply with \`NETSWITCH_FAULT_STEP\` = the plan's last step, so every step before it is undone; its undo part is
timed from netswitch's "rolling back" log line to its exit. Removing a bridge costs the kernel ~17 ms whatever the method
(\`ip link del group\` batches the work and still pays it per bridge), so the fastest undo is the floor for removal and rollback.
${perCommandNote}

${times}

${ratios}

${phases}

Targets:

${targetsTable(targets)}
`;
}
