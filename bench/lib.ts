// What the benchmark suites share: options, timing and statistics, programs run and timed
// inside a sandbox host, the sandbox lifecycle (unique names, removed even on failure, and
// removed fast: a namespace's links go in one `link del group`, as `sandbox down` does), and docs/benchmarks.md,
// where each suite replaces its own section. Benchmarks report; they never assert a timing.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type Sandbox, type UpOptions, down, execArgv, isRunning, list, load, up } from '../src/sandbox/sandbox.ts';
import { run } from '../src/sys/run.ts';

export const ROOT = join(import.meta.dirname, '..');
export const NETSWITCH = join(ROOT, 'bin', 'netswitch');
export const DOC = join(ROOT, 'docs', 'benchmarks.md');

// ---------------------------------------------------------------- options

export interface BenchOptions {
  suites: string[];
  sizes: number[];
  reps: number;
  /** Whether --reps was given: otherwise each suite picks its own default. */
  repsGiven: boolean;
  /** Also run the one-process-per-change baselines above N=100 instead of extrapolating them. */
  full: boolean;
  /** Interfaces on the host of the report suite. */
  ifaces: number;
}

export const USAGE = `usage: npm run bench -- [ovs|linux|report ...] [--sizes 100,1000] [--reps N] [--full] [--ifaces 2000]
  no suite: all of them. Results go to docs/benchmarks.md, one section per suite (replaced on re-run).
  --sizes   numbers of networks (ovs, linux); default 100,1000
  --reps    runs of each measurement (median, min, max); default: ovs 3, linux 2, report 5
  --full    also run the one-process-per-change baselines above N=100 (once; ~1 min more per suite)
            instead of extrapolating them from N=100
  --ifaces  interfaces on the report suite's host; default 2000`;

export function parseOptions(argv: readonly string[], known: readonly string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      sizes: { type: 'string', default: '100,1000' },
      reps: { type: 'string' },
      full: { type: 'boolean', default: false },
      ifaces: { type: 'string', default: '2000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const unknown = positionals.filter((s) => !known.includes(s));
  if (unknown.length) throw new Error(`unknown suite ${unknown.join(', ')}; the suites are ${known.join(', ')}\n${USAGE}`);
  const whole = (what: string, s: string) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a whole number >= 1, not '${s}'`);
    return n;
  };
  return {
    suites: positionals.length ? positionals : [...known],
    sizes: values.sizes.split(',').map((s) => whole('--sizes', s.trim())),
    reps: values.reps === undefined ? 3 : whole('--reps', values.reps),
    repsGiven: values.reps !== undefined,
    full: values.full,
    ifaces: whole('--ifaces', values.ifaces),
  };
}

// ---------------------------------------------------------------- timing and statistics

export interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stat(samples: readonly number[]): Stat {
  if (samples.length === 0) throw new Error('no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/** Samples in milliseconds, keyed by measurement and size, and the failures met measuring them. */
export class Samples {
  /** The phase names netswitch reported (`timings`), for phaseTable. */
  readonly phases = new Set<string>();
  readonly #data = new Map<string, number[]>();
  readonly #failures = new Map<string, string[]>();

  add(name: string, size: number | string, ms: number): void {
    const key = `${name}@${size}`;
    this.#data.set(key, [...(this.#data.get(key) ?? []), ms]);
  }

  fail(name: string, size: number | string, why: string): void {
    const key = `${name}@${size}`;
    this.#failures.set(key, [...(this.#failures.get(key) ?? []), why]);
  }

  has(name: string, size: number | string): boolean {
    return this.#data.has(`${name}@${size}`);
  }

  stat(name: string, size: number | string): Stat | undefined {
    const s = this.#data.get(`${name}@${size}`);
    return s?.length ? stat(s) : undefined;
  }

  median(name: string, size: number | string): number | undefined {
    return this.stat(name, size)?.median;
  }

  /** A table cell: the statistics, and the failures if there were any. */
  cell(name: string, size: number | string): string {
    const failures = this.#failures.get(`${name}@${size}`) ?? [];
    const s = this.stat(name, size);
    if (failures.length === 0) return fmtStat(s);
    const why = `failed${failures.length > 1 ? ` ${failures.length}x` : ''}: ${failures[0]}`;
    return s ? `${fmtStat(s)}; ${why}` : `**${why}**`;
  }
}

/**
 * Run one measurement; if it fails, record why under NAMES (so the report shows it) and go
 * on with the rest: one broken operation must not hide every other result.
 */
export async function attempt<T>(samples: Samples, names: readonly string[], size: number | string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    const why = e instanceof RunError ? e.brief : String((e as Error).message ?? e).split('\n')[0].slice(0, 160);
    for (const name of names) samples.fail(name, size, why);
    progress(`${names[0]}@${size} failed: ${why}`);
    return undefined;
  }
}

/** A program exited with a code other than the one expected. */
export class RunError extends Error {
  readonly code: number;
  /** Exit code and the first lines of stderr, short enough for a table cell. */
  readonly brief: string;

  constructor(argv: readonly string[], code: number, expected: number, stderr: string) {
    const head = stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(0, 2)
      .join(' / ');
    super(`${argv.slice(0, 12).join(' ')}${argv.length > 12 ? ' ...' : ''} exited ${code} (expected ${expected}): ${stderr.trim().slice(-2000)}`);
    this.code = code;
    this.brief = `exit ${code}: ${head.slice(0, 160)}${head.length > 160 ? '…' : ''}`;
  }
}

export interface Timed {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
  /** ms from the start until `marker` first appeared on stderr. */
  markerMs?: number;
}

export interface TimedOptions {
  input?: string;
  env?: Record<string, string>;
  /** Throw on a non-zero exit (default true); a number: the exit code expected. */
  expect?: number | false;
  /** Note when this first shows on stderr (e.g. a phase the program logs). */
  marker?: RegExp;
  /** Send stdout to /dev/null, as `> /dev/null` would (stdout is then ''). */
  discardStdout?: boolean;
}

/** Run a program and time it from spawn to exit (no shell; stdout and stderr captured). */
export function runTimed(argv: readonly string[], options: TimedOptions = {}): Promise<Timed> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, args, {
      stdio: ['pipe', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    // stdin and stderr are always pipes; stdout is one unless discarded.
    const [stdin, stdout, stderr] = [child.stdin!, child.stdout, child.stderr!];
    const out: Buffer[] = [];
    let err = '';
    let markerMs: number | undefined;
    stdout?.on('data', (b: Buffer) => out.push(b));
    stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      if (markerMs === undefined && options.marker?.test(err)) markerMs = performance.now() - start;
    });
    stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      const result: Timed = { ms, code: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr: err, markerMs };
      const expected = options.expect ?? 0;
      if (expected !== false && result.code !== expected) {
        reject(new RunError(argv, result.code, expected, err));
      } else resolve(result);
    });
    stdin.end(options.input ?? '');
  });
}

export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------- netswitch in a sandbox

export interface ApplyOutput {
  status: string;
  steps: string[];
  timings: Record<string, number>;
}

export interface NetswitchRun extends Timed {
  /** The sum of the phase timings netswitch reports (`-o json apply`). */
  inProcessMs?: number;
  output?: ApplyOutput;
}

/** `bin/netswitch ARGS` inside the sandbox host, as a user runs it; EXTRA env words first. */
export function netswitchArgv(sb: Sandbox, args: readonly string[], extraEnv: Record<string, string> = {}): string[] {
  const env = Object.entries(extraEnv).map(([k, v]) => `${k}=${v}`);
  return execArgv(sb, [...(env.length ? ['env', ...env] : []), NETSWITCH, ...args]);
}

/** Run netswitch with `-o json`; an apply's phase timings become inProcessMs. */
export async function netswitch(sb: Sandbox, args: readonly string[], options: TimedOptions = {}): Promise<NetswitchRun> {
  const result: NetswitchRun = await runTimed(netswitchArgv(sb, ['-o', 'json', ...args], options.env), { ...options, env: undefined });
  if (args[0] === 'apply' && result.code === 0) {
    result.output = JSON.parse(result.stdout) as ApplyOutput;
    result.inProcessMs = Object.values(result.output.timings).reduce((a, b) => a + b, 0);
  }
  return result;
}

/** netswitch's phases in the order it runs them; any other phase it reports is listed after. */
const PHASE_ORDER = ['read', 'plan', 'checkpoint', 'execute', 'verify', 'probes', 'commit'];

/** A netswitch run: its whole-process time, its in-process time and phases under NAME; or why it failed. */
export async function measureNetswitch(samples: Samples, name: string, size: number, pending: Promise<NetswitchRun>): Promise<NetswitchRun | undefined> {
  const run = await attempt(samples, [`${name}.whole`, `${name}.inproc`], size, () => pending);
  if (run === undefined) return undefined;
  samples.add(`${name}.whole`, size, run.ms);
  if (run.inProcessMs !== undefined) samples.add(`${name}.inproc`, size, run.inProcessMs);
  for (const [phase, ms] of Object.entries(run.output?.timings ?? {})) {
    samples.add(`${name}.phase.${phase}`, size, ms);
    samples.phases.add(phase);
  }
  return run;
}

/** FN's milliseconds under NAME, or why it failed. */
export async function measure(samples: Samples, name: string, size: number, fn: () => Promise<number>): Promise<void> {
  const ms = await attempt(samples, [name], size, fn);
  if (ms !== undefined) samples.add(name, size, ms);
}

/**
 * bin/netswitch keeps Node's compile cache in dist/.compile-cache, filled by the first run of
 * each code path after a build: every measured run is a run with the cache warm, as a user's
 * runs are. Before a suite measures, one apply of a small request of the same shape and its
 * removal (in the suite's sandbox) make sure of that.
 */
export async function warmUp(sb: Sandbox, smallRequest: string, empty: string): Promise<void> {
  await netswitch(sb, ['apply', smallRequest], { expect: 0 });
  await netswitch(sb, ['apply', '--replace', empty], { expect: 0 });
  await waitIdle(sb);
}

let coldDirs = 0;

/** Environment for a run with a cold compile cache (an empty cache dir of its own, under WORK). */
export function coldCache(work: string): Record<string, string> {
  return { NODE_COMPILE_CACHE: join(work, `cold-cache-${++coldDirs}`) };
}

/** An apply that must find nothing to do (an unchanged re-apply). */
export async function expectUnchanged(run: Promise<NetswitchRun>): Promise<NetswitchRun> {
  const result = await run;
  if (result.output?.status !== 'unchanged') throw new Error(`the re-apply was not unchanged: ${result.output?.status} with ${result.output?.steps.length} steps`);
  return result;
}

/**
 * Wait until nothing runs in the sandbox host but ovs-vswitchd: netswitch leaves detached
 * helpers behind (gratuitous ARP), which must not run into the next measurement.
 */
export async function waitIdle(sb: Sandbox, timeoutMs = 60_000): Promise<number> {
  const start = performance.now();
  for (;;) {
    const { stdout } = await run(['ip', 'netns', 'pids', sb.hostNs], { check: false });
    const pids = stdout.split('\n').map(Number).filter((p) => p > 0 && p !== sb.pids.vswitchd);
    if (pids.length === 0 || performance.now() - start > timeoutMs) return performance.now() - start;
    await sleep(50);
  }
}

// ---------------------------------------------------------------- sandbox lifecycle

const NAME_PREFIX_RE = /^b[a-z]$/;
let counter = 0;
const live = new Map<string, Sandbox>();

/** b + a suite letter, this pid in base36, a counter: unique to this run, at most 12 characters. */
function uniqueName(prefix: string): string {
  if (!NAME_PREFIX_RE.test(prefix)) throw new Error(`sandbox name prefix '${prefix}' must be 'b' and one letter`);
  return `${prefix}${process.pid.toString(36).padStart(5, '0')}${(counter++).toString(36)}`;
}

export async function createSandbox(prefix: string, options: UpOptions): Promise<Sandbox> {
  const name = uniqueName(prefix);
  live.set(name, { name } as Sandbox); // removed by the signal handler even if `up` is cut short
  const sb = await up(name, options);
  live.set(name, sb);
  return sb;
}

/** Remove a sandbox fast: ovs-vswitchd stopped first (it would re-create ports), then `down` (its links go in one `link del group`). */
export async function removeSandbox(sb: Sandbox): Promise<void> {
  try {
    const vswitchd = sb.pids?.vswitchd;
    if (vswitchd !== undefined && (await isOurs(vswitchd, sb.ovsDir))) await stop(vswitchd);
  } finally {
    await down(sb.name);
    live.delete(sb.name);
  }
}

/** Run FN against a fresh sandbox, removed afterwards whatever happens. */
export async function withSandbox<T>(prefix: string, options: UpOptions, fn: (sb: Sandbox) => Promise<T>): Promise<T> {
  const sb = await createSandbox(prefix, options);
  try {
    return await fn(sb);
  } finally {
    await removeSandbox(sb);
  }
}

/** Sandboxes of bench runs that died (their pid is gone); never those of a run still going. */
export async function cleanupLeftovers(): Promise<void> {
  const ours = /^b[a-z]([0-9][0-9a-z]{4})[0-9a-z]+$/;
  for (const name of await list()) {
    const owner = ours.exec(name)?.[1];
    if (owner === undefined) continue;
    const pid = Number.parseInt(owner, 36);
    if (pid !== process.pid && (await isRunning(pid))) continue;
    progress(`removing leftover sandbox ${name}`);
    const sb = await load(name).catch(() => ({ name }) as Sandbox);
    await removeSandbox(sb);
  }
}

/** On Ctrl-C or SIGTERM, remove what this run created before exiting. */
export function removeSandboxesOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: removing ${live.size} sandbox(es)`);
      void Promise.allSettled([...live.values()].map(removeSandbox)).then(() => process.exit(130));
    });
  }
}

/** Cable N more NICs (ethK, peerK for K in FROM..FROM+N-1) in one `ip -batch`: `up` stops at 64. */
export async function addNics(sb: Sandbox, from: number, n: number): Promise<void> {
  const cables: string[] = [];
  const peersUp: string[] = [];
  for (let k = from; k < from + n; k++) {
    cables.push(`link add eth${k} netns ${sb.hostNs} type veth peer name peer${k} netns ${sb.wireNs}`);
    peersUp.push(`link set peer${k} up`);
  }
  await run(['ip', '-batch', '-'], { input: lines(cables), timeoutMs: 600_000 });
  await run(['ip', '-n', sb.wireNs, '-batch', '-'], { input: lines(peersUp), timeoutMs: 600_000 });
}

async function isOurs(pid: number, ovsDir: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').some((arg) => arg.includes(`${ovsDir}/`));
}

async function stop(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 40 && (await isRunning(pid)); i++) await sleep(50);
  if (await isRunning(pid)) signal('SIGKILL');
}

export function lines(commands: readonly string[]): string {
  return commands.map((c) => `${c}\n`).join('');
}

// ---------------------------------------------------------------- the report

export async function machine(): Promise<string> {
  const ovs = await run(['ovs-vsctl', '--version'], { check: false }).catch(() => undefined);
  const iproute = await run(['ip', '-V'], { check: false }).catch(() => undefined);
  return [
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `${availableParallelism()} CPUs (\`nproc\`; ${cpus()[0]?.model ?? 'unknown model'})`,
    `kernel ${release()}`,
    `${ovs?.stdout.split('\n')[0] || 'no Open vSwitch'}`,
    /iproute2-[0-9.]*[0-9]/.exec(iproute?.stdout ?? '')?.[0] ?? 'iproute2 unknown',
    `node ${process.version}`,
  ].join(', ');
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** "median (min–max, n)" or the median alone when there was one sample. */
export function fmtStat(s: Stat | undefined): string {
  if (s === undefined) return '—';
  return s.n === 1 ? `${fmtMs(s.median)} (1 run)` : `${fmtMs(s.median)} (${fmtMs(s.min)}–${fmtMs(s.max)})`;
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '—';
  return r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`;
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Median ms per netswitch phase, a column per run (measureNetswitch NAME, label) and size. */
export function phaseTable(samples: Samples, sizes: readonly number[], runs: readonly (readonly [string, string])[]): string {
  const phases = [...PHASE_ORDER.filter((p) => samples.phases.has(p)), ...[...samples.phases].filter((p) => !PHASE_ORDER.includes(p))];
  const columns = sizes.flatMap((n) => runs.map(([name, label]) => ({ name, n, label: `${label} N=${n}` })));
  return mdTable(
    ['netswitch phase (median ms)', ...columns.map((c) => c.label)],
    phases.map((p) => [p, ...columns.map((c) => {
      const ms = samples.median(`${c.name}.phase.${p}`, c.n);
      return ms === undefined ? '—' : String(Math.round(ms));
    })]),
  );
}

export interface Target {
  what: string;
  goal: string;
  /** The measured value as shown. */
  measured: string;
  /** undefined: not measured in this run. */
  met: boolean | undefined;
}

export function targetsTable(targets: readonly Target[]): string {
  return mdTable(
    ['target', 'goal', 'measured', 'met'],
    targets.map((t) => [t.what, t.goal, t.measured, t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no**']),
  );
}

const HEADER = `# netswitch benchmarks

Produced by \`npm run bench -- [suite] [--sizes 100,1000] [--reps N] [--full]\` (bench/); each
suite replaces its own section below when it runs. Every measurement runs in fresh sandbox
hosts (network namespaces, a private Open vSwitch with the userspace datapath), and each
baseline runs in the same process run, on the same machine, just before or after what it is
compared with. Times are medians, with the fastest and slowest run in parentheses. Ratios
are medians over medians. Benchmarks report: nothing here is a pass/fail test.
`;

const SECTION_RE = /<!-- bench:([a-z]+) -->\n[\s\S]*?<!-- \/bench:\1 -->\n?/g;

/** Replace SUITE's section of docs/benchmarks.md (sections stay in ORDER; others are kept). */
export async function writeSection(suite: string, body: string, order: readonly string[], file = DOC): Promise<void> {
  const old = await readFile(file, 'utf8').catch(() => '');
  const sections = new Map<string, string>();
  let end = 0;
  for (const m of old.matchAll(SECTION_RE)) {
    sections.set(m[1], m[0].trimEnd());
    end = m.index + m[0].length;
  }
  // What follows the last section is written by hand (notes on the numbers): kept as it is.
  const trailer = end ? old.slice(end).trim() : '';
  sections.set(suite, `<!-- bench:${suite} -->\n${body.trim()}\n<!-- /bench:${suite} -->`);
  const names = [...order.filter((s) => sections.has(s)), ...[...sections.keys()].filter((s) => !order.includes(s))];
  await writeFile(file, `${HEADER}\n${names.map((s) => sections.get(s)).join('\n\n')}\n${trailer ? `\n${trailer}\n` : ''}`);
}
