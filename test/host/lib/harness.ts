// Helpers for host-tier tests: a sandbox host per test, named uniquely for this run, with
// shortcuts to run netswitch and other programs inside it and to read it back with `ip -json`.
import { join } from 'node:path';
import { type Sandbox, type Side, type UpOptions, down, execArgv, isRunning, list, up } from '../../../src/sandbox/sandbox.ts';
import { type RunResult, run, runJson } from '../../../src/sys/run.ts';

const NETSWITCH = join(import.meta.dirname, '..', '..', '..', 'bin', 'netswitch');

/** For `test(..., { skip: skipUnlessRoot }, ...)`: host-tier tests need root (CI is root). */
export const skipUnlessRoot: string | false =
  process.getuid?.() === 0 ? false : 'host-tier tests need root (network namespaces, a private Open vSwitch)';

const PREFIX_RE = /^[a-z]{1,3}$/;
let counter = 0;

/**
 * A sandbox name unique to this run: PREFIX, this process's pid in base36 padded to 5
 * characters (so it starts with a digit and the prefix can be told apart), and a counter:
 * at most 10 characters for the first 1296 names.
 */
export function uniqueName(prefix = 't'): string {
  if (!PREFIX_RE.test(prefix)) throw new Error(`name prefix '${prefix}' must be 1-3 letters a-z`);
  return `${prefix}${process.pid.toString(36).padStart(5, '0')}${(counter++).toString(36)}`;
}

/**
 * Down every sandbox uniqueName(PREFIX) made, so a crashed run does not break the next one;
 * but not those of a run still going (another test process may use the same prefix now).
 */
export async function cleanupLeftovers(prefix: string): Promise<void> {
  const ours = new RegExp(`^${prefix}([0-9][0-9a-z]{4})[0-9a-z]+$`);
  for (const name of await list()) {
    const owner = ours.exec(name)?.[1];
    if (owner === undefined) continue;
    const pid = Number.parseInt(owner, 36);
    if (pid === process.pid || !(await isRunning(pid))) await down(name);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SandboxHarness {
  sb: Sandbox;
  /** Run `bin/netswitch ARGS` in the host namespace with the sandbox's environment. */
  cli(args: readonly string[], options?: { input?: string }): Promise<CliResult>;
  /** Run ARGV in one of the sandbox's namespaces with its environment; never throws on exit codes. */
  sh(argv: readonly string[], ns?: Side): Promise<RunResult>;
  /** `ip -json ARGS` in one of the sandbox's namespaces, parsed, e.g. ipJson(['-d', 'link', 'show', 'dev', 'br0']). */
  // ip's JSON differs per object and option; a test names the fields it checks.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ipJson<T = any>(args: readonly string[], ns?: Side): Promise<T>;
  down(): Promise<void>;
}

export interface CreateOptions extends UpOptions {
  /** uniqueName's prefix (default 't'). */
  prefix?: string;
}

export async function createSandbox(options: CreateOptions = {}): Promise<SandboxHarness> {
  const sb = await up(uniqueName(options.prefix), options);
  const nsOf = (ns: Side): string => (ns === 'host' ? sb.hostNs : sb.wireNs);
  return {
    sb,
    async cli(args, { input } = {}) {
      const { code, stdout, stderr } = await run(execArgv(sb, [NETSWITCH, ...args]), { input, check: false });
      return { code, stdout, stderr };
    },
    sh: (argv, ns = 'host') => run(execArgv(sb, argv, ns), { check: false }),
    ipJson: (args, ns = 'host') => runJson(['ip', '-n', nsOf(ns), '-json', ...args]),
    down: () => down(sb.name),
  };
}

/** Run FN against a fresh sandbox, which is removed afterwards whatever happens. */
export async function withSandbox<T>(fn: (h: SandboxHarness) => Promise<T>, options: CreateOptions = {}): Promise<T> {
  const h = await createSandbox(options);
  try {
    return await fn(h);
  } finally {
    await h.down();
  }
}
