// Running a program in the foreground, for `netswitch sandbox exec`: it shares our terminal
// (stdio inherited, no shell), and we live exactly as long as it does, so that what it
// returns is our exit code and a signal meant for us reaches it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ErrorCode, NetswitchError } from '../model/errors.ts';

export interface ExecOptions {
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string | undefined>;
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Run ARGV with our stdio; resolves to its exit code, or 128 + the signal number that killed it. */
export function execInherit(argv: readonly string[], options: ExecOptions = {}): Promise<number> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: 'inherit',
      env: options.env ? { ...process.env, ...options.env } : process.env,
    });
    // Handling these also keeps Node from dying on them and orphaning the child. (Ctrl-C in
    // a terminal reaches the child directly too; a second SIGINT does no harm to a program
    // that is already stopping.)
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const stopForwarding = (): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.on('error', (e) => {
      stopForwarding();
      reject(
        new NetswitchError(ErrorCode.Command, `cannot run ${file}: ${e.message}`, {
          hint: `check that '${file}' is installed and on PATH`,
          cause: e,
          context: { argv },
        }),
      );
    });
    child.on('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
