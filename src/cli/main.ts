// The `netswitch` command. Start-up stays lean: each command imports what it needs when it
// runs (ARCHITECTURE.md: node alone is ~63 ms, zod+yaml+commander ~95 ms more), and Node's
// compile cache keeps the type-stripped, compiled modules between runs (measured: `show`
// 584 -> 389 ms). A command that only reads the host starts reading it first (./early.ts).
import './early.ts';
import { enableCompileCache } from 'node:module';
enableCompileCache?.();
import { Command, Option } from 'commander';
import type { EngineOptions } from '../engine/plan.ts';
import { ErrorCode, NetswitchError, isNetswitchError } from '../model/errors.ts';
import pkg from '../../package.json' with { type: 'json' };

const EXIT = { ok: 0, other: 1, invalid: 2, rolledBack: 3 } as const;

interface Common {
  stateDir?: string;
  output?: 'text' | 'yaml' | 'json';
  verbose?: boolean;
  quiet?: boolean;
}

const VERSION = pkg.version;

// A reader that goes away (`| head`, a pager quit) must not kill a change half-way:
// writes to a closed stdout or stderr fail with EPIPE, and are dropped; the apply goes on to
// its commit or rollback (its log file keeps the record).
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const program = new Command('netswitch')
  .version(VERSION)
  .description('Declarative host networking for virtualization hosts: Linux bridge/bond/VLAN or Open vSwitch, applied as one transaction.')
  .option('--state-dir <dir>', 'state directory (default $NETSWITCH_STATE_DIR or /var/lib/netswitch)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'yaml', 'json']))
  .option('-v, --verbose', 'log every step as it is executed')
  .option('-q, --quiet', 'log nothing but errors')
  .showHelpAfterError()
  .addHelpText('after', `
Exit codes: 0 ok, 2 invalid request (nothing changed), 3 apply failed and rolled back, 1 other.

Examples:
  netswitch plan examples/setup.yaml        # what would change, changes nothing
  netswitch apply examples/setup.yaml       # apply as one transaction
  netswitch show -o json                    # capabilities, statistics, kernel_config
  netswitch sandbox up demo && netswitch sandbox exec demo -- netswitch show`);

function common(): Common {
  return program.opts<Common>();
}

async function engineOptions(extra: Partial<Omit<EngineOptions, 'stateDir' | 'log'>> = {}) {
  const { defaultStateDir } = await import('../engine/state.ts');
  const { stderrLog } = await import('../sys/log.ts');
  const c = common();
  const defined = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
  return { stateDir: c.stateDir ?? defaultStateDir(), log: stderrLog(c.quiet ? 'quiet' : c.verbose ? 'debug' : 'info'), ...defined };
}

/**
 * A change left pending is rolled back at its deadline by a detached `netswitch rollback
 * --if-pending ID --at DEADLINE`, which outlives this command and does nothing if the change
 * was committed (or rolled back) meanwhile.
 */
async function armRollbackTimer(stateDir: string, id: string, deadline: number): Promise<void> {
  const { launch } = await import('../sys/run.ts');
  launch([process.execPath, '--disable-warning=ExperimentalWarning', process.argv[1], '--state-dir', stateDir, '-q', 'rollback', '--if-pending', id, '--at', String(deadline)]);
}

const DATAPATH_HELP = 'datapath_type of the OVS bridges netswitch creates: system (kernel) or netdev (userspace); default $NETSWITCH_OVS_DATAPATH or system';

async function readRequest(file: string): Promise<unknown> {
  const { readFile } = await import('node:fs/promises');
  const { NetswitchError } = await import('../model/errors.ts');
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new NetswitchError(ErrorCode.Invalid, `cannot read ${file}: ${(e as Error).message}`, { path: '(file)', hint: 'give the path of a YAML or JSON request, or - for stdin' });
  }
  try {
    // JSON is YAML too, but JSON.parse reads a large request ~10x faster.
    if (/^\s*[{[]/.test(text)) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // not strict JSON: YAML's flow style, parsed below
      }
    }
    const { parse } = await import('./yaml.ts'); // loaded only for YAML: ~10 ms of start-up
    return parse(text);
  } catch (e) {
    throw new NetswitchError(ErrorCode.Invalid, `${file} is not valid YAML or JSON: ${(e as Error).message}`, { path: '(file)', hint: 'fix the syntax; see examples/ for the format' });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function print(value: unknown, text?: () => string): Promise<void> {
  const format = common().output ?? (text ? 'text' : 'yaml');
  if (format === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (format === 'yaml' || !text) {
    const { stringify } = await import('./yaml.ts');
    process.stdout.write(stringify(value));
  } else process.stdout.write(text());
}

program
  .command('apply')
  .description('apply a setup request (a delta; --replace: the whole desired config) as one transaction')
  .argument('<file>', 'YAML or JSON request, - for stdin')
  .option('--replace', 'the request is the full desired config: networks and bonds it does not name are removed')
  .option('--ovs-datapath <type>', DATAPATH_HELP)
  .option('--no-commit', 'leave the change pending: `netswitch commit` keeps it, `netswitch rollback` or the timeout undoes it')
  .option('--timeout <seconds>', 'how long a pending change waits for commit, and probes for connectivity (default: the request\'s connectivityTimeout, 120)')
  .option('--probe <probe>', 'connectivity probe, repeatable: gateway | host=ADDRESS | tcp=ADDRESS:PORT; one that answered before and not after rolls the change back', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .addHelpText(
    'after',
    '\nExamples:\n  netswitch apply examples/setup.yaml\n  netswitch apply --replace full.yaml\n  netswitch apply --probe gateway --probe tcp=192.0.2.5:22 --timeout 30 change.yaml\n  netswitch apply --no-commit --timeout 60 change.yaml && netswitch commit\n  echo \'{"networks": {"vmnet": {"remove": true}}}\' | netswitch apply -',
  )
  .action(async (file: string, opts: { replace?: boolean; ovsDatapath?: string; commit: boolean; timeout?: string; probe: string[] }) => {
    const input = await readRequest(file);
    const { applyChange } = await import('../engine/apply.ts');
    const { parseProbe } = await import('../engine/probes.ts');
    const { describeStep } = await import('../plan/steps.ts');
    const o = await engineOptions({
      replace: opts.replace,
      ovsDatapath: opts.ovsDatapath,
      noCommit: !opts.commit,
      timeout: opts.timeout === undefined ? undefined : seconds(opts.timeout),
      probes: opts.probe.map(parseProbe),
    });
    const result = await applyChange(input, { ...o, onPending: (id, deadline) => void armRollbackTimer(o.stateDir, id, deadline) });
    await print({ status: result.status, steps: result.steps.map(describeStep), ...(result.deadline ? { deadline: new Date(result.deadline).toISOString() } : {}), timings: result.timings }, () =>
      result.status === 'unchanged'
        ? 'unchanged: the host already has this config\n'
        : result.status === 'pending'
          ? `applied: ${result.steps.length} steps, pending: run \`netswitch commit\` before ${new Date(result.deadline ?? 0).toISOString()} to keep them\n`
          : `applied: ${result.steps.length} steps\n`,
    );
  });

function seconds(text: string): number {
  const n = Number(text);
  if (!(n > 0 && n <= 86400)) throw new NetswitchError(ErrorCode.Invalid, `--timeout ${text} is not a number of seconds`, { path: '--timeout', hint: 'give seconds, e.g. --timeout 120' });
  return n;
}

program
  .command('commit')
  .alias('confirm')
  .description('keep the pending change (after apply --no-commit or connectivityCheck: true)')
  .addHelpText('after', '\nExample:\n  netswitch apply --no-commit change.yaml && ping -c1 192.0.2.1 && netswitch commit')
  .action(async () => {
    const { commitPending } = await import('../engine/transaction.ts');
    const { StateDir } = await import('../engine/state.ts');
    const o = await engineOptions();
    const journal = await commitPending(new StateDir(o.stateDir), o.log);
    await print({ status: 'committed', steps: journal.steps.length }, () => `committed: ${journal.steps.length} steps\n`);
  });

program
  .command('rollback')
  .description('undo the pending change and prove the host is as it was before it')
  .option('--if-pending <id>', 'only if this change is still the pending one (the timer a pending apply leaves behind)')
  .option('--at <ms>', 'wait until this time (ms since the epoch) first')
  .addHelpText('after', '\nExample:\n  netswitch apply --no-commit change.yaml; netswitch rollback')
  .action(async (opts: { ifPending?: string; at?: string }) => {
    if (opts.at) await new Promise((r) => setTimeout(r, Math.max(0, Number(opts.at) - Date.now())));
    const { rollbackPending } = await import('../engine/transaction.ts');
    const { StateDir } = await import('../engine/state.ts');
    const o = await engineOptions();
    const journal = await rollbackPending(new StateDir(o.stateDir), o.log, opts.ifPending);
    await print({ status: journal ? 'rolled back' : 'nothing pending' }, () => (journal ? `rolled back: ${journal.steps.length} steps\n` : 'nothing pending\n'));
  });

program
  .command('persist')
  .description('make the running config the safe config, the one `netswitch restore` re-creates at boot')
  .addHelpText('after', '\nExample:\n  netswitch apply change.yaml && netswitch persist')
  .action(async () => {
    const { persist } = await import('../engine/apply.ts');
    const config = await persist((await engineOptions()).stateDir);
    await print({ status: 'persisted', networks: Object.keys(config.networks), bondings: Object.keys(config.bondings) }, () => `persisted: ${Object.keys(config.networks).length} networks, ${Object.keys(config.bondings).length} bonds\n`);
  });

program
  .command('restore')
  .description('at boot: re-create the safe config (or the running one) and remove leftovers netswitch owns')
  .addHelpText('after', '\nExample (systemd, contrib/netswitch-restore.service):\n  netswitch restore')
  .action(async () => {
    const { restore } = await import('../engine/apply.ts');
    const result = await restore(await engineOptions());
    await print({ status: result.status, steps: result.steps.length }, () => (result.status === 'unchanged' ? 'restored: the host already had the safe config\n' : `restored: ${result.steps.length} steps\n`));
  });

program
  .command('plan')
  .description('print the steps an apply of the request would take; changes nothing')
  .argument('<file>', 'YAML or JSON request, - for stdin')
  .option('--replace', 'plan the request as the full desired config')
  .option('--ovs-datapath <type>', DATAPATH_HELP)
  .addHelpText('after', '\nExamples:\n  netswitch plan examples/setup.yaml\n  netswitch plan -o json change.yaml')
  .action(async (file: string, opts: { replace?: boolean; ovsDatapath?: string }) => {
    const input = await readRequest(file);
    const { planChange } = await import('../engine/apply.ts');
    const { describeStep, commandsOf } = await import('../plan/steps.ts');
    const o = await engineOptions({ replace: opts.replace, ovsDatapath: opts.ovsDatapath });
    await warnAboutJournal(o.stateDir);
    const change = await planChange(input, o);
    const steps = change.steps.map((s, i) => ({ step: i + 1, description: describeStep(s), commands: commandsOf(s) }));
    await print({ steps }, () =>
      steps.length === 0
        ? 'nothing to change: the host already has this config\n'
        : steps.map((s) => `${String(s.step).padStart(3)}. ${s.description}\n${s.commands.map((c) => `     ${c}\n`).join('')}`).join(''),
    );
  });

program
  .command('show')
  .description('report: capabilities, statistics, kernel_config, setupStatus/infoStatus')
  .addHelpText('after', '\nExamples:\n  netswitch show\n  netswitch show -o json | jq .capabilities.networks')
  .action(async () => {
    const { report } = await loadReport();
    await print(report);
  });

program
  .command('stats')
  .description('interface statistics (counters, state, speed)')
  .addHelpText('after', '\nExamples:\n  netswitch stats\n  netswitch stats -o json')
  .action(async () => {
    const { report } = await loadReport();
    await print(report.statistics, () =>
      Object.values(report.statistics)
        .map((s) => `${s.name.padEnd(16)} ${s.state.padEnd(5)} rx ${s.rx.padStart(12)} tx ${s.tx.padStart(12)} drop ${s.rxDropped}/${s.txDropped} err ${s.rxErrors}/${s.txErrors}\n`)
        .join(''),
    );
  });

/**
 * plan and show only read: they say when a change is pending or an apply was interrupted.
 * Returns the journal, if any.
 */
async function warnAboutJournal(stateDir: string) {
  const { StateDir } = await import('../engine/state.ts');
  const { readJournal } = await import('../engine/transaction.ts');
  const journal = await readJournal(new StateDir(stateDir));
  if (journal?.state === 'pending') {
    process.stderr.write(`warning: a change is pending until ${new Date(journal.deadline ?? 0).toISOString()}: \`netswitch commit\` keeps it, \`netswitch rollback\` undoes it\n`);
  } else if (journal && journal.pid !== process.pid && (await import('../sys/process.ts')).liveProcess(journal.pid)) {
    process.stderr.write(`warning: an apply is running (pid ${journal.pid}, started ${journal.startedAt}): what this shows may be half-way through it\n`);
  } else if (journal) {
    process.stderr.write(`warning: an apply was interrupted (pid ${journal.pid}, started ${journal.startedAt}): the host may be half changed; \`netswitch rollback\` restores it (the next apply or restore does so first)\n`);
  }
  return journal;
}

async function loadReport() {
  const { openOvs, readHost } = await import('../engine/host.ts');
  const { StateDir } = await import('../engine/state.ts');
  const { buildReport } = await import('../report/report.ts');
  const state = new StateDir((await engineOptions()).stateDir);
  const journal = await warnAboutJournal(state.dir);
  const { networkIface } = await import('../plan/layout.ts');
  const ovs = await openOvs();
  try {
    // A pending change is on the host: the report is of its config (what kernel_config and
    // the names of networks come from), not of the running one it replaces only at commit.
    const runningRead = journal?.state === 'pending' ? Promise.resolve(journal.desired) : state.running();
    // The IPv6 sysctls of the running networks' devices only (what ipv6autoconf is reported
    // from), not of every link: known once the running config is read, while the host read runs.
    const ipv6confDevs = runningRead.then(
      (running) => Object.entries(running.networks).map(([name, net]) => networkIface(name, net)).filter((d): d is string => d !== undefined),
      () => [],
    );
    const [snapshot, running, status] = await Promise.all([
      readHost(ovs, { stats: true, stateDir: state.dir, ipv6confDevs }),
      runningRead,
      state.readJson('status.json', undefined),
    ]);
    return { report: buildReport(snapshot, running, status) };
  } finally {
    await ovs?.close();
  }
}

program
  .command('schema')
  .description('print the JSON Schema of the setup request (or of the report)')
  .addOption(new Option('--target <target>', 'schema dialect').choices(['draft-2020-12', 'openapi-3.0']).default('draft-2020-12'))
  .option('--report', 'the schema of the report (`netswitch show`) instead')
  .addHelpText('after', '\nExamples:\n  netswitch schema > setup-request.schema.json\n  netswitch schema --report --target openapi-3.0')
  .action(async (opts: { target: 'draft-2020-12' | 'openapi-3.0'; report?: boolean }) => {
    const { z } = await import('zod');
    const schema = opts.report ? (await import('../model/report.ts')).report : (await import('../model/request.ts')).setupRequest;
    process.stdout.write(`${JSON.stringify(z.toJSONSchema(schema, { io: 'input', target: opts.target, unrepresentable: 'any' }), null, 2)}\n`);
  });

const sandbox = program.command('sandbox').description('sandbox hosts: network namespaces with NICs eth0..eth3, a wire namespace and a private OVS');
sandbox
  .command('up')
  .argument('<name>')
  .option('--nics <n>', 'number of NICs', '4')
  .option('--no-ovs', 'do not start a private Open vSwitch')
  .description('create a sandbox host (replacing leftovers of the same name)')
  .addHelpText('after', '\nExamples:\n  netswitch sandbox up lab\n  netswitch sandbox up big --nics 16 --no-ovs')
  .action(async (name: string, opts: { nics: string; ovs: boolean }) => {
    const sb = await import('../sandbox/sandbox.ts');
    const s = await sb.up(name, { nics: Number(opts.nics), ovs: opts.ovs });
    await print(s, () => `sandbox ${s.name}: host netns ${s.hostNs} (NICs ${s.nics.join(' ')}), wire netns ${s.wireNs}, state ${s.stateDir}\n`);
  });
sandbox
  .command('down')
  .argument('<name>')
  .description('remove a sandbox host: its processes (by pid), namespaces and files')
  .addHelpText('after', '\nExample:\n  netswitch sandbox down lab')
  .action(async (name: string) => {
    const sb = await import('../sandbox/sandbox.ts');
    await sb.down(name);
  });
sandbox
  .command('list')
  .description('list sandbox hosts')
  .addHelpText('after', '\nExample:\n  netswitch sandbox list -o json')
  .action(async () => {
    const sb = await import('../sandbox/sandbox.ts');
    const names = await sb.list();
    await print(names, () => names.map((n) => `${n}\n`).join(''));
  });
sandbox
  .command('exec')
  .argument('<name>')
  .argument('<command...>')
  .description('run a command inside the sandbox host, with netswitch and the OVS tools pointed at the sandbox')
  .addHelpText('after', '\nExamples:\n  netswitch sandbox exec demo -- netswitch apply examples/setup.yaml\n  netswitch sandbox exec demo -- ip -br addr\n  netswitch sandbox exec --wire demo -- ping -c1 192.0.2.10')
  .option('--wire', 'run in the wire namespace (the other end of the NICs) instead')
  .action(async (name: string, command: string[], opts: { wire?: boolean }) => {
    const sb = await import('../sandbox/sandbox.ts');
    const { execInherit } = await import('../sys/exec.ts');
    const s = await sb.load(name);
    // `netswitch` inside the sandbox means this very program.
    const argv = command[0] === 'netswitch' ? [process.argv[1].replace(/(src\/cli\/main\.ts|dist\/netswitch\.js)$/, 'bin/netswitch'), ...command.slice(1)] : command;
    process.exitCode = await execInherit(sb.execArgv(s, argv, opts.wire ? 'wire' : 'host'));
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    process.exitCode = await report(e);
  }
}

async function report(e: unknown): Promise<number> {
  if (!isNetswitchError(e)) {
    process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT.other;
  }
  if (e.issues.length) {
    process.stderr.write(`error: the request is invalid (${e.issues.length} problem${e.issues.length > 1 ? 's' : ''}); nothing was changed\n`);
    for (const i of e.issues) process.stderr.write(`  ${i.path}: ${i.message}\n    hint: ${i.hint}\n`);
  } else {
    process.stderr.write(`error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
  }
  if (common().output === 'json') process.stdout.write(`${JSON.stringify({ error: e.toJSON() }, null, 2)}\n`);
  return e.code === ErrorCode.Invalid ? EXIT.invalid : e.code === ErrorCode.RolledBack ? EXIT.rolledBack : EXIT.other;
}

await main();
