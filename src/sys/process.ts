// What /proc says of a process: its command name and whether it still runs. A zombie counts as
// gone: it has exited, and nothing may reap it here (the sandbox's pid 1 does not).
import { readFileSync } from 'node:fs';

/** The process's command name (comm), or undefined when there is no live process with that pid. */
export function liveProcess(pid: number): { comm: string } | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The state follows the command name, which is in parentheses and may contain spaces.
  const close = stat.lastIndexOf(')');
  return stat[close + 2] === 'Z' ? undefined : { comm: stat.slice(stat.indexOf('(') + 1, close) };
}
