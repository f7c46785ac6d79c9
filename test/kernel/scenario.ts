// A kernel-tier scenario: a bash script run in its own UML boot, then assertions on host side
// about what it printed and the files it left in $UML_OUT. One scenario, one test.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { type UmlResult, bootUml } from './uml.ts';

export interface Scenario {
  name: string;
  /** Bash, run with `bash -e` after PRELUDE (so its helpers are there, and xtrace is on). */
  script: string;
  /** Environment for the script; a function is called just before the boot. */
  env?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  memMb?: number;
  timeoutMs?: number;
  /** Assertions on the result; the guest ran its script to a zero exit code before this. */
  check?: (r: UmlResult, c: CheckContext) => void | Promise<void>;
}

export interface CheckContext {
  t: TestContext;
  /** A subtest of its own (reported apart); a failure in it carries the guest's output too. */
  sub(name: string, fn: () => void | Promise<void>, options?: { skip?: string | false }): Promise<void>;
  /** The file $UML_OUT/NAME the script wrote; fails if there is none. */
  file(name: string): string;
  /** The file $UML_OUT/NAME, parsed as JSON. */
  // Callers name the fields they check (ip/tc JSON differs per object).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json<T = any>(name: string): T;
}

/**
 * Bash helpers every scenario has. Results go to files in $UML_OUT (read back by the host),
 * not to the console, where xtrace and kernel messages mix in.
 */
/** netswitch's state dir inside the guest (a tmpfs): the PRELUDE exports it. */
export const GUEST_STATE_DIR = '/tmp/netswitch-state';

export const PRELUDE = String.raw`
# save NAME CMD...: CMD's stdout into $UML_OUT/NAME (and the run fails if CMD does).
save() { local name=$1; shift; "$@" > "$UML_OUT/$name"; }
# note TEXT: a line for the host to report (e.g. a check skipped, and why).
note() { echo "$*" >> "$UML_OUT/notes"; }
# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds; fail after SECONDS.
wait_for() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "wait_for: gave up after $deadline: $*"; return 1; fi
    sleep 0.2
  done
}
# uptime_at_least SECONDS: wait until the guest kernel has been up that long.
uptime_at_least() { while [ "$(cut -d. -f1 /proc/uptime)" -lt "$1" ]; do sleep 0.2; done; }
# netswitch ARGS...: the CLI of the repository under test, state kept in the guest's tmpfs.
netswitch() { "$NETSWITCH_REPO/bin/netswitch" "$@"; }
export NETSWITCH_STATE_DIR=${GUEST_STATE_DIR}
# The scenario's commands are traced on the console: the host shows that output on failure.
PS4='+ '
set -x
`;

function withOutput(err: unknown, r: UmlResult): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new assert.AssertionError({ message: `${message}\n--- guest output ---\n${r.output}--- end of guest output ---` });
}

/** Boot, run the script, report timings, assert it succeeded, then run its checks. */
export async function runScenario(s: Scenario, t: TestContext): Promise<UmlResult> {
  const env = typeof s.env === 'function' ? await s.env() : s.env;
  const r = await bootUml({ script: PRELUDE + s.script, env, memMb: s.memMb, timeoutMs: s.timeoutMs });
  const { bootMs, scenarioMs, totalMs } = r.timings;
  t.diagnostic(`boot ${bootMs} ms, scenario ${scenarioMs} ms, total ${totalMs} ms`);
  for (const line of (r.files.notes ?? '').split('\n').filter(Boolean)) t.diagnostic(`note: ${line}`);
  if (!r.ok) {
    const why = r.timedOut ? `timed out after ${totalMs} ms` : r.exitCode < 0 ? 'never finished (no exit code)' : `exited ${r.exitCode}`;
    throw withOutput(new Error(`scenario '${s.name}': guest script ${why}`), r);
  }
  const c: CheckContext = {
    t,
    async sub(name, fn, options = {}) {
      await t.test(name, { skip: options.skip }, async () => {
        try {
          await fn();
        } catch (err) {
          throw withOutput(err, r);
        }
      });
    },
    file(name) {
      const text = r.files[name];
      assert.ok(text !== undefined, `the guest wrote no $UML_OUT/${name} (it wrote: ${Object.keys(r.files).join(', ') || 'nothing'})`);
      return text;
    },
    json(name) {
      return JSON.parse(c.file(name));
    },
  };
  try {
    await s.check?.(r, c);
  } catch (err) {
    throw withOutput(err, r);
  }
  return r;
}
