// Reading HFSC shaping back from what `tc` prints, and tc's units. iproute2 6.1 has no JSON
// for HFSC (`tc -j qdisc` prints its options as text inside the JSON, `tc -j class` plain
// text), so the text forms are parsed. tc prints numbers lossily — rates as exact multiples
// of 8 bit/s rounded to at most ~4 digits of a unit ("34359Mbit"), times with 3 significant
// digits ("12.3ms") — so values are compared as tc prints them (`sameRate`, `sameTime`),
// never as raw numbers. The printers below follow tc 6.1's `print_rate` and `sprint_time`.
import type { Curve, QosDev, QosLayout, TcClass, TcFilter } from './hfsc.ts';

/** The handle of netswitch's (and VDSM's) root HFSC qdisc: 0x1389 = 5001. */
export const ROOT_HANDLE = '1389:';

/** What tc prints for one device: `tc [-s] qdisc show dev X`, `tc class show dev X`, `tc filter show dev X`. */
export interface TcText {
  qdisc: string;
  class: string;
  filter: string;
}

// ---- units ------------------------------------------------------------------------------

const RATE_SUFFIXES: Record<string, number> = {
  '': 1,
  bit: 1,
  kibit: 1024,
  kbit: 1000,
  mibit: 1024 ** 2,
  mbit: 1000 ** 2,
  gibit: 1024 ** 3,
  gbit: 1000 ** 3,
  tibit: 1024 ** 4,
  tbit: 1000 ** 4,
  bps: 8,
  kibps: 8 * 1024,
  kbps: 8 * 1000,
  mibps: 8 * 1024 ** 2,
  mbps: 8 * 1000 ** 2,
  gibps: 8 * 1024 ** 3,
  gbps: 8 * 1000 ** 3,
  tibps: 8 * 1024 ** 4,
  tbps: 8 * 1000 ** 4,
};

/** A rate as tc writes or reads it ("50Mbit", "400bit", "1.5Gbit", "100kbps") -> bit/s. */
export function parseRate(text: string): number {
  const m = /^([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)([A-Za-z]*)$/.exec(text.trim());
  const scale = m ? RATE_SUFFIXES[m[2].toLowerCase()] : undefined;
  if (!m || scale === undefined) throw new Error(`not a tc rate: ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * scale);
}

/** A time as tc writes or reads it ("10ms", "0us", "4.29e+03s"; a bare number is µs) -> µs. */
export function parseTime(text: string): number {
  const m = /^([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)([A-Za-z]*)$/.exec(text.trim());
  const unit = m?.[2].toLowerCase();
  const scale = unit === '' || unit === 'us' || unit === 'usec' || unit === 'usecs' ? 1 : unit === 'ms' || unit === 'msec' || unit === 'msecs' ? 1e3 : unit === 's' || unit === 'sec' || unit === 'secs' ? 1e6 : undefined;
  if (!m || scale === undefined) throw new Error(`not a tc time: ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * scale);
}

/**
 * How tc prints a rate of `bits` bit/s once the kernel holds it: the kernel keeps whole
 * bytes/s; tc divides by 1000 while the number is divisible by it or at least 10^6.
 */
export function tcRateText(bits: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let rate = Math.floor(bits / 8) * 8;
  let i = 0;
  for (; i < units.length - 1; i++) {
    if (rate < 1000) break;
    if (rate % 1000 !== 0 && rate < 1_000_000) break;
    rate = Math.floor(rate / 1000);
  }
  return `${rate}${units[i]}bit`;
}

/** How tc prints a time of `us` microseconds: "%uus" below 1 ms, else "%.3gms" or "%.3gs". */
export function tcTimeText(us: number): string {
  if (us >= 1e6) return `${formatG3(us / 1e6)}s`;
  if (us >= 1e3) return `${formatG3(us / 1e3)}ms`;
  return `${us}us`;
}

/** C's printf("%.3g", x) for x >= 1: exact decimal expansion, rounded half to even. */
function formatG3(x: number): string {
  const [ip, fp = ''] = x.toFixed(60).split('.');
  const digits = ip + fp;
  let keep = digits.slice(0, 3);
  let exp = ip.length - 1;
  const rest = digits.slice(3);
  const tie = rest[0] === '5' && !/[1-9]/.test(rest.slice(1));
  if (rest[0] > '5' || (rest[0] === '5' && !tie) || (tie && Number(keep[keep.length - 1]) % 2 === 1)) {
    const up = String(Number(keep) + 1);
    if (up.length > keep.length) exp++;
    keep = up.slice(0, 3);
  }
  if (exp >= 3) {
    const mantissa = `${keep[0]}.${keep.slice(1)}`.replace(/\.?0+$/, '');
    return `${mantissa}e+${String(exp).padStart(2, '0')}`;
  }
  const int = keep.slice(0, exp + 1);
  const frac = keep.slice(exp + 1).replace(/0+$/, '');
  return frac ? `${int}.${frac}` : int;
}

/** Two rates tc cannot tell apart once set. */
export function sameRate(a: number, b: number): boolean {
  return tcRateText(a) === tcRateText(b);
}

/** Two times tc cannot tell apart once set. */
export function sameTime(a: number, b: number): boolean {
  return tcTimeText(a) === tcTimeText(b);
}

// ---- parsing ----------------------------------------------------------------------------

/** One `tc qdisc show` line, split: kind, handle, dev (when listed for all devices), root/parent. */
interface QdiscLine {
  kind: string;
  handle: string;
  dev?: string;
  parent?: string;
  root: boolean;
  words: string[];
}

function qdiscLines(text: string): QdiscLine[] {
  const out: QdiscLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('qdisc ')) continue; // statistics lines are indented
    const w = line.trim().split(/\s+/);
    const at = (key: string) => (w.indexOf(key) > 0 ? w[w.indexOf(key) + 1] : undefined);
    out.push({ kind: w[1], handle: w[2], dev: at('dev'), parent: at('parent'), root: w.includes('root'), words: w });
  }
  return out;
}

/** Devices whose root qdisc is netswitch's (HFSC, handle 1389:), from `tc qdisc show` of all devices. */
export function qosDevicesOf(qdiscText: string): string[] {
  return qdiscLines(qdiscText)
    .filter((q) => q.root && q.kind === 'hfsc' && q.handle === ROOT_HANDLE && q.dev !== undefined)
    .map((q) => q.dev as string);
}

/**
 * A root qdisc on `dev` that netswitch did not make and would have to replace ("htb 1:"), or
 * undefined: none, netswitch's own, or a kernel default (handle 0:, replaced by `qdisc add root`).
 */
export function foreignRootQdisc(qdiscText: string, dev?: string): string | undefined {
  const root = qdiscLines(qdiscText).find((q) => q.root && (dev === undefined || q.dev === undefined || q.dev === dev));
  if (!root || root.handle === '0:' || (root.kind === 'hfsc' && root.handle === ROOT_HANDLE)) return undefined;
  return `${root.kind} ${root.handle}`;
}

/** Every device's foreign root qdisc (see foreignRootQdisc), from one `tc qdisc show` of all devices. */
export function foreignRootQdiscs(qdiscText: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const q of qdiscLines(qdiscText)) {
    if (!q.root || q.dev === undefined || q.handle === '0:' || (q.kind === 'hfsc' && q.handle === ROOT_HANDLE)) continue;
    out[q.dev] = `${q.kind} ${q.handle}`;
  }
  return out;
}

/** Curves of a `tc class show` line from its words after the generic part ("rt m1 0bit d 0us m2 10Mbit ..."). */
function parseCurves(words: string[]): Pick<TcClass, 'ls' | 'ul' | 'rt'> {
  const curves: Pick<TcClass, 'ls' | 'ul' | 'rt'> = {};
  for (let i = 0; i < words.length; i++) {
    const name = words[i];
    if (name !== 'sc' && name !== 'rt' && name !== 'ls' && name !== 'ul') continue;
    let m1 = 0;
    let d = 0;
    let m2: number | undefined;
    for (let j = i + 1; j + 1 < words.length && ['m1', 'd', 'm2'].includes(words[j]); j += 2) {
      if (words[j] === 'm1') m1 = parseRate(words[j + 1]);
      else if (words[j] === 'd') d = parseTime(words[j + 1]);
      else m2 = parseRate(words[j + 1]);
    }
    if (m2 === undefined) throw new Error(`tc class: curve ${name} without m2 in: ${words.join(' ')}`);
    const curve: Curve = m1 || d ? { m1, d, m2 } : { m2 };
    // "sc" is how tc prints a class whose real-time and link-share curves are equal.
    if (name === 'sc') {
      curves.rt = curve;
      curves.ls = { ...curve };
    } else {
      curves[name] = curve;
    }
  }
  return curves;
}

const VLAN_EMATCH = /^meta\(vlan(?: mask (0x[0-9a-f]+))? eq (\d+)\)$/;

/**
 * netswitch's shaping on `dev` as `tc` shows it, in the shape `qosLayoutOf` gives: empty
 * (`devs: {}`) when the root qdisc is not HFSC 1389:. Statistics lines (`-s`) are skipped;
 * classes of other qdiscs (fq_codel's flows) and filters netswitch does not write (VDSM's u32
 * catch-all) are left out, the latter listed in `foreign`.
 */
export function readQos(dev: string, tc: TcText): QosLayout {
  const qdiscs = qdiscLines(tc.qdisc).filter((q) => q.dev === undefined || q.dev === dev);
  const root = qdiscs.find((q) => q.root);
  if (!root || root.kind !== 'hfsc' || root.handle !== ROOT_HANDLE) return { devs: {} };
  const def = root.words[root.words.indexOf('default') + 1];
  const defaultClass = root.words.includes('default') ? `${ROOT_HANDLE}${def.replace(/^0x/, '')}` : `${ROOT_HANDLE}0`;
  const leafKind = new Map(qdiscs.filter((q) => q.parent !== undefined).map((q) => [q.parent as string, q.kind]));

  const classes: TcClass[] = [];
  for (const line of tc.class.split('\n')) {
    if (!line.startsWith('class ')) continue;
    const w = line.trim().split(/\s+/);
    if (w[1] !== 'hfsc' || w.includes('root')) continue; // HFSC's own root class has no curves
    const at = (key: string) => (w.indexOf(key) > 0 ? w[w.indexOf(key) + 1] : undefined);
    const classid = w[2];
    const cls: TcClass = { dev, classid, parent: at('parent') ?? ROOT_HANDLE, ...parseCurves(w) };
    const leaf = leafKind.get(classid) ?? (at('leaf') ? 'unknown' : undefined);
    if (leaf !== undefined) cls.leaf = leaf;
    classes.push(cls);
  }

  const filters: TcFilter[] = [];
  const foreign: string[] = [];
  let current: { words: string[]; body: string[] } | undefined;
  const finish = () => {
    if (!current) return;
    const w = current.words;
    const at = (key: string) => (w.indexOf(key) > 0 ? w[w.indexOf(key) + 1] : undefined);
    const flowid = at('flowid') ?? at('*flowid');
    const parent = at('parent');
    const m = VLAN_EMATCH.exec(current.body.join(' ').trim());
    const kind = w[w.indexOf('pref') + 2];
    if (kind === 'basic' && m && flowid && (parent === undefined || parent === ROOT_HANDLE)) {
      filters.push({ dev, vlan: Number(m[2]), flowid, pref: Number(at('pref')) });
    } else {
      foreign.push(`filter pref ${at('pref')} ${kind} flowid ${flowid ?? '?'}${current.body.length ? ` ${current.body.join(' ').trim()}` : ''}`);
    }
    current = undefined;
  };
  for (const line of tc.filter.split('\n')) {
    if (line.startsWith('filter ')) {
      finish();
      const w = line.trim().split(/\s+/);
      // Each priority first prints a header line without a handle; u32 adds hash-table lines.
      if (w.includes('flowid') || w.includes('*flowid')) current = { words: w, body: [] };
    } else if (current && line.trim() !== '') {
      current.body.push(line.trim());
    }
  }
  finish();

  const entry: QosDev = { defaultClass, classes: classes.sort(byClassid), filters: filters.sort((a, b) => a.vlan - b.vlan) };
  if (foreign.length) entry.foreign = foreign;
  return { devs: { [dev]: entry } };
}

/** Classes in the order of their numbers (the default class, 1389:1388, after every VLAN's). */
export function byClassid(a: TcClass, b: TcClass): number {
  return parseInt(a.classid.split(':')[1] || '0', 16) - parseInt(b.classid.split(':')[1] || '0', 16);
}

// ---- reading many devices with two tc processes ------------------------------------------

/**
 * `tc -batch -` lines that show the classes and filters of `devs` (the devices
 * `qosDevicesOf(tc qdisc show)` found): one tc process for a whole host.
 */
export function qosReadBatch(devs: readonly string[]): string[][] {
  // Each device's part starts with its qdiscs (HFSC's root first): "qdisc " lines, which tell
  // where the part begins (its classes come in the kernel's hash order, root not first).
  return devs.flatMap((dev) => [
    ['qdisc', 'show', 'dev', dev],
    ['class', 'show', 'dev', dev],
    ['filter', 'show', 'dev', dev],
  ]);
}

/**
 * The whole host's shaping from `tc qdisc show` (all devices) and the output of
 * `tc -batch -` run with `qosReadBatch(qosDevicesOf(qdiscText))`. Each device's part of the
 * batch output starts with its qdisc lines (the kernel lists a device's classes in hash order:
 * its root class may come after others); a device whose qdisc vanished between the two reads
 * makes this throw (read again).
 */
export function readQosAll(qdiscText: string, batchOutput: string): QosLayout {
  const devs = qosDevicesOf(qdiscText);
  const parts: { class: string[]; filter: string[] }[] = [];
  for (const line of batchOutput.split('\n')) {
    if (line.startsWith('qdisc ')) {
      if (line.startsWith(`qdisc hfsc ${ROOT_HANDLE} `)) parts.push({ class: [], filter: [] });
      continue;
    }
    const part = parts[parts.length - 1];
    if (!part) continue;
    if (line.startsWith('class ') || (part.filter.length === 0 && line.startsWith(' '))) part.class.push(line);
    else part.filter.push(line);
  }
  if (parts.length !== devs.length) throw new Error(`tc: expected the classes of ${devs.length} devices (${devs.join(', ')}), read ${parts.length}`);
  const layout: QosLayout = { devs: {} };
  devs.forEach((dev, i) => Object.assign(layout.devs, readQos(dev, { qdisc: qdiscText, class: parts[i].class.join('\n'), filter: parts[i].filter.join('\n') }).devs));
  return layout;
}
