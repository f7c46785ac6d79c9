// The report suite: `netswitch show -o json > /dev/null` on a host with many interfaces
// (default 2000: veth pairs with both ends in the host namespace, made by one `ip -batch`)
// against reading the same with iproute2 alone: `ip -json -d -s link show` + `ip -json addr show`.
import type { Sandbox } from '../src/sandbox/sandbox.ts';
import {
  type BenchOptions,
  Samples,
  type Target,
  coldCache,
  fmtRatio,
  fmtStat,
  lines,
  machine,
  mdTable,
  netswitchArgv,
  progress,
  ratio,
  runTimed,
  targetsTable,
  withSandbox,
} from './lib.ts';
import { run } from '../src/sys/run.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_REPS = 5;

export async function runReportSuite(options: BenchOptions): Promise<string> {
  const reps = options.repsGiven ? options.reps : DEFAULT_REPS;
  const count = options.ifaces;
  const samples = new Samples();
  const work = await mkdtemp(join(tmpdir(), 'netswitch-bench-report-'));
  try {
    await withSandbox('br', { nics: 0, ovs: true }, async (sb) => {
      await addVethPairs(sb, Math.ceil(count / 2));
      const show = netswitchArgv(sb, ['-o', 'json', 'show']);
      await runTimed(show, { discardStdout: true }); // bin/netswitch's compile cache has show's code
      for (let rep = 1; rep <= reps; rep++) {
        progress(`report ${count} interfaces rep ${rep}/${reps}`);
        samples.add('show', count, (await runTimed(show, { discardStdout: true })).ms);
        samples.add('show.cold', count, (await runTimed(netswitchArgv(sb, ['-o', 'json', 'show'], coldCache(work)), { discardStdout: true })).ms);
        const links = await runTimed(['ip', '-n', sb.hostNs, '-json', '-d', '-s', 'link', 'show'], { discardStdout: true });
        const addrs = await runTimed(['ip', '-n', sb.hostNs, '-json', 'addr', 'show'], { discardStdout: true });
        samples.add('ip.link', count, links.ms);
        samples.add('ip.addr', count, addrs.ms);
        samples.add('ip', count, links.ms + addrs.ms);
        const both = await runTimed(['ip', '-n', sb.hostNs, '-json', '-d', '-s', 'addr', 'show'], { discardStdout: true });
        samples.add('ip.one', count, both.ms);
      }
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return report(count, reps, samples, await machine());
}

async function addVethPairs(sb: Sandbox, pairs: number): Promise<void> {
  const cmds = Array.from({ length: pairs }, (_, k) => `link add va${k} type veth peer name vb${k}`);
  await run(['ip', '-n', sb.hostNs, '-batch', '-'], { input: lines(cmds), timeoutMs: 600_000 });
}

function report(count: number, reps: number, samples: Samples, host: string): string {
  const s = (name: string) => fmtStat(samples.stat(name, count));
  const m = (name: string) => samples.median(name, count);
  const times = mdTable(['measurement', `${count} interfaces`], [
    ['`netswitch show -o json > /dev/null`, whole process', s('show')],
    ['… with the compile cache cold (a first run after a build)', s('show.cold')],
    ['`ip -json -d -s link show` + `ip -json addr show` (two processes, one after the other)', s('ip')],
    ['… `ip -json -d -s link show`', s('ip.link')],
    ['… `ip -json addr show`', s('ip.addr')],
    ['`ip -json -d -s addr show` (one process: links, details, counters and addresses; what netswitch runs)', s('ip.one')],
  ]);
  const ratios = mdTable(['ratio (medians)', `${count} interfaces`], [
    ['netswitch show / the two ip commands', fmtRatio(ratio(m('show'), m('ip')))],
    ['netswitch show (compile cache cold) / the two ip commands', fmtRatio(ratio(m('show.cold'), m('ip')))],
  ]);
  const r = ratio(m('show'), m('ip'));
  const targets: Target[] = [{ what: `netswitch show, ${count} interfaces / ip`, goal: '≤ 2x', measured: fmtRatio(r), met: r === undefined ? undefined : r <= 2 }];
  return `## report: \`netswitch show\` on a host with ${count} interfaces

${host}. ${reps} run${reps > 1 ? 's' : ''} each.

The sandbox host (with its private Open vSwitch running, no OVS bridges) holds ${count / 2} veth pairs, both ends in its namespace,
made by one \`ip -batch\`. netswitch runs as a user runs it (\`ip netns exec <host> env <sandbox env> bin/netswitch -o json show\`,
stdout to /dev/null, the compile cache bin/netswitch keeps warm from an earlier show); the ip commands run with \`ip -n <host netns>\`, stdout to /dev/null.

${times}

${ratios}

Targets:

${targetsTable(targets)}
`;
}
