// Everything netswitch keeps lives in one state dir: the running config, the safe
// (persisted) config, the devices it owns, the journal of an apply in progress, and the
// lock that makes applies one at a time. Files are replaced atomically (write + rename).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Config, emptyConfig } from '../model/config.ts';
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import { liveProcess } from '../sys/process.ts';

export function defaultStateDir(): string {
  return process.env.NETSWITCH_STATE_DIR ?? '/var/lib/netswitch';
}

export class StateDir {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  async readJson<T>(name: string, fallback: T): Promise<T> {
    try {
      return JSON.parse(await readFile(this.path(name), 'utf8')) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
      throw new NetswitchError(ErrorCode.Host, `cannot read ${this.path(name)}: ${(e as Error).message}`, { cause: e, hint: 'fix or remove the file' });
    }
  }

  /** Writes atomically (a temporary file renamed over). `compact`: one line, for big machine-only files. */
  async writeJson(name: string, value: unknown, options: { compact?: boolean } = {}): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = this.path(`.${name}.${process.pid}.tmp`);
    await writeFile(tmp, `${options.compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
    await rename(tmp, this.path(name));
  }

  /** Appends lines to netswitch.log, the record of every change made. */
  async appendLog(lines: readonly string[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.path('netswitch.log'), `${lines.join('\n')}\n`);
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  running(): Promise<Config> {
    return this.readJson('running.json', emptyConfig());
  }

  safe(): Promise<Config | undefined> {
    return this.readJson<Config | undefined>('safe.json', undefined);
  }

  async owned(): Promise<Set<string>> {
    return new Set(await this.readJson<string[]>('owned.json', []));
  }

  /** Takes the apply lock; a lock left by a dead process is taken over. */
  async lock(): Promise<() => Promise<void>> {
    const file = this.path('lock');
    if (earlyLock === resolve(file)) earlyLock = undefined; // taken at start-up (takeLockNow): ours now
    else {
      const holder = tryLock(this.dir);
      if (holder !== undefined) {
        throw new NetswitchError(ErrorCode.Busy, `another netswitch (pid ${holder}) is applying a change`, { hint: 'wait for it to finish, then try again' });
      }
    }
    return () => rm(file, { force: true });
  }
}

/**
 * Creates DIR/lock holding our pid; a lock whose process is gone is taken over. Returns the
 * pid of the live netswitch that holds it instead, or undefined when it is ours.
 */
function tryLock(dir: string): number | undefined {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = 0;
      try {
        holder = Number(readFileSync(file, 'utf8').trim());
      } catch {
        // gone meanwhile: try again
      }
      if (holder && holder !== process.pid && liveProcess(holder)) return holder;
      rmSync(file, { force: true });
    }
  }
  throw new NetswitchError(ErrorCode.Busy, `cannot take the lock ${file}`, { hint: 'remove it if no netswitch is running' });
}

/** The lock file taken at start-up that the engine has not taken over yet. */
let earlyLock: string | undefined;

/**
 * Takes the apply lock of DIR now, before the engine has loaded, for a command that will
 * change the host and so may read it only while holding the lock (cli/early.ts). False when
 * it cannot (another netswitch holds it, or the dir is not writable): the engine's lock()
 * then says why. Released at exit unless the engine took it over.
 */
export function takeLockNow(dir: string): boolean {
  try {
    if (tryLock(dir) !== undefined) return false;
  } catch {
    return false;
  }
  earlyLock = resolve(dir, 'lock');
  process.once('exit', () => {
    if (earlyLock !== undefined) rmSync(earlyLock, { force: true });
  });
  return true;
}
