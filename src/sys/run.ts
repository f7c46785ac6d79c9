// Running external programs safely: argument arrays only (never a shell), a timeout, stdin
// fed from a string, stdout/stderr captured, and a failure turned into a NetswitchError that
// names the command and quotes its stderr.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, NetswitchError } from '../model/errors.ts';

export interface RunOptions {
  /**
   * Written to the program's stdin, which is then closed. A promise starts the program now and
   * gives it its input when that is known (a rejection closes stdin with nothing written): for
   * a program that reads its commands from stdin, the start-up is then off the critical path.
   */
  input?: string | Promise<string>;
  /** Kill the program after this long (default 60 s; from when its input is written). */
  timeoutMs?: number;
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string | undefined>;
  /** Throw when the program exits non-zero (default true). */
  check?: boolean;
  cwd?: string;
  /**
   * stdout goes to an unlinked temporary file instead of a pipe, read once the program exits:
   * for outputs of megabytes (`ip -d -json addr show` of thousands of links) that is ~2x
   * faster than taking them from a pipe 64 KiB at a time.
   */
  bulk?: boolean;
}

export interface RunResult {
  argv: readonly string[];
  code: number;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const sink = options.bulk ? bulkSink() : undefined;
    const child = spawn(file, args, {
      stdio: ['pipe', sink ?? 'pipe', 'pipe'],
      env: options.env ? { ...process.env, ...options.env } : process.env,
      cwd: options.cwd,
    }) as ChildProcessByStdio<Writable, Readable | null, Readable>;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let ended = false; // exited (or never started) before its input came: no timer then
    const feed = (input: string) => {
      if (ended) return;
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdin.end(input);
    };
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // the program may exit before reading its input
    let failed = false; // 'error' (the program could not start) may still be followed by 'close'
    child.on('error', (e) => {
      ended = true;
      clearTimeout(timer);
      failed = true;
      if (sink !== undefined) closeSync(sink);
      reject(
        new NetswitchError(ErrorCode.Command, `cannot run ${file}: ${e.message}`, {
          hint: `install the program that provides '${file}' (scripts/setup does)`,
          cause: e,
          context: { argv },
        }),
      );
    });
    child.on('close', (code, signal) => {
      ended = true;
      clearTimeout(timer);
      if (failed) return;
      const result: RunResult = {
        argv,
        code: code ?? 128,
        stdout: sink === undefined ? Buffer.concat(out).toString('utf8') : drain(sink),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (timedOut) {
        reject(new NetswitchError(ErrorCode.Timeout, `${describe(argv)} timed out after ${timeoutMs} ms`, { context: { argv } }));
      } else if (result.code !== 0 && options.check !== false) {
        const why = result.stderr.trim() || (signal ? `killed by ${signal}` : `exit code ${result.code}`);
        reject(new NetswitchError(ErrorCode.Command, `${describe(argv)} failed: ${why}`, { context: { ...result } }));
      } else {
        resolve(result);
      }
    });
    if (typeof options.input === 'object') options.input.then(feed, () => feed(''));
    else feed(options.input ?? '');
  });
}

/** A file for a program's stdout that no one else can open: created exclusively, then unlinked. */
function bulkSink(): number {
  const path = join(tmpdir(), `netswitch-out-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(path, 'wx+', 0o600);
  unlinkSync(path);
  return fd;
}

/** Everything written to the sink (the program shared its offset, so read from 0), and close it. */
function drain(fd: number): string {
  try {
    const buf = Buffer.allocUnsafe(fstatSync(fd).size);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return buf.toString('utf8', 0, done);
  } finally {
    closeSync(fd);
  }
}

/** Run and parse stdout as JSON (for `ip -json`, `ovs-vsctl -f json`, ...). */
export async function runJson<T>(argv: readonly string[], options: RunOptions = {}): Promise<T> {
  const { stdout } = await run(argv, options);
  try {
    return JSON.parse(stdout || 'null') as T;
  } catch (e) {
    throw new NetswitchError(ErrorCode.Command, `${describe(argv)} printed output that is not JSON`, { cause: e });
  }
}

/** A command line for messages and logs; quoted so it can be pasted into a shell. */
export function describe(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** A word of an `ip -batch` / `tc -batch` line: those split on whitespace and honour double quotes. */
export function batchQuote(word: string): string {
  return /^[^\s"'\\]+$/.test(word) ? word : `"${word.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Start a program and do not wait for it (argument array, no shell, no output kept). For
 * best-effort work that outlives the command, like gratuitous ARP announcements.
 */
export function launch(argv: readonly string[]): void {
  const [file, ...args] = argv;
  const child = spawn(file, args, { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
}

/**
 * launch, with stdin: the program starts now (detached) and waits for its input, which
 * `feed` writes and closes (`close` closes it with nothing written). Until then the pipe does
 * not keep netswitch running: if it exits first, the program reads end-of-file.
 */
export function launchFed(argv: readonly string[], options: { nice?: number } = {}): { feed(input: string): void; close(): void } {
  const [file, ...args] = argv;
  const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.on('error', () => {});
  if (options.nice !== undefined && child.pid !== undefined) {
    try {
      setPriority(child.pid, options.nice);
    } catch {
      // best effort: it runs at our priority
    }
  }
  const stdin = child.stdin as Socket;
  stdin.on('error', () => {});
  child.unref();
  stdin.unref();
  return {
    feed(input: string) {
      stdin.ref(); // kept running until the input is written
      stdin.end(input);
    },
    /** Nothing to give it: it reads end-of-file now (after feed, nothing more happens). */
    close() {
      if (!stdin.writableEnded) stdin.end();
    },
  };
}

