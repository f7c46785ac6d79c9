// Outbound host QoS (VDSM's `hostQos`) as Linux HFSC, VDSM's way, so a host it shaped reads
// the same: on every southbound device (NIC or bond) that carries a network with hostQos, a
// root `hfsc` qdisc with handle 1389: (0x1389 = 5001) and `default 1388` (0x1388 = 5000, VDSM's
// NON_VLANNED_ID; tc reads class numbers as hex, so VDSM wrote `default 0x1388`). Classes hang
// directly under the qdisc (parent 1389:, no intermediate class, as VDSM did):
//   1389:1388   the default class: untagged traffic and VLANs without hostQos. It takes the
//               untagged network's curves when that network has hostQos; otherwise a link
//               share equal to the largest link share of the device's networks (VDSM's rule).
//   1389:<vid>  one class per VLAN network with hostQos, the VLAN id in hex (VDSM's), VLAN 0
//               as 1389:1000: minor 0 is the qdisc's own root class (tc answers "File exists").
// A VLAN network's traffic leaves the southbound device tagged and is classified by its tag:
// `basic match 'meta(vlan mask 0xfff eq <vid>)'` at priority <vid> (VLAN 0: 4096). The mask
// keeps priority bits (egress-qos-map) out of the comparison; VDSM's filter had none. Each
// class gets an fq_codel leaf (handle <minor>:), fair between flows inside a class.
//
// Link share is relative. oVirt's engine sends it as a share (1..100), and VDSM wrote it to tc
// multiplied by 8 ("tc rounds bit/s down to whole bytes"): ls m1/m2 of 50 become 400bit, so
// the kernel holds 50 bytes/s, and a share below 8 does not vanish. netswitch does the same
// (LS_SCALE) and divides on reading; ul and rt are bit/s as sent. d is µs and never scaled
// (VDSM scaled an ls `d` by 8 too; the engine never sends one).
//
// Steps are data, like the Linux steps: each knows its inverse and prints itself as a sentence
// and as `tc -batch` lines. Removing a device's shaping is explicit filter and class deletions
// before the qdisc's, so that the undo (each inverse, in reverse order) rebuilds it in order.
import type { Config, HostQos, ServiceCurve } from '../model/config.ts';
import { southbound } from '../model/config.ts';
import { batchQuote, shellQuote } from '../sys/run.ts';
import { ROOT_HANDLE, byClassid, sameRate, sameTime, tcRateText, tcTimeText } from './tc-read.ts';

export { ROOT_HANDLE };
export const DEFAULT_MINOR = 0x1388;
export const DEFAULT_CLASS = `${ROOT_HANDLE}${DEFAULT_MINOR.toString(16)}`;
/** The class (and filter priority) of VLAN 0: one past the VLAN range. */
export const VLAN0_SLOT = 0x1000;
export const LEAF_QDISC = 'fq_codel';
/** Link-share values are written to tc multiplied by this (VDSM's), and divided on reading. */
export const LS_SCALE = 8;
/** The largest rate tc takes: the kernel holds bytes/s in 32 bits. */
export const MAX_RATE_BITS = (2 ** 32 - 1) * 8 + 7;
export const MAX_TIME_US = 2 ** 32 - 1;

/** An HFSC service curve in tc's units: m1, m2 bit/s; d µs. Without m1 and d: a straight line. */
export type Curve = ServiceCurve;

export interface TcClass {
  /** The southbound device (NIC or bond). */
  dev: string;
  /** "1389:64" (VLAN 100), "1389:1388" (the default class). */
  classid: string;
  /** Always "1389:" (the qdisc) for classes netswitch makes. */
  parent: string;
  ls?: Curve;
  ul?: Curve;
  rt?: Curve;
  /** Kind of the class's leaf qdisc, added with its defaults; absent: the kernel's pfifo. */
  leaf?: string;
}

export interface TcFilter {
  dev: string;
  vlan: number;
  /** The class the VLAN's traffic goes to. */
  flowid: string;
  /** Filter priority: the VLAN id (VLAN 0: 4096). Deletion is by priority. */
  pref: number;
}

export interface QosDev {
  /** The qdisc's default class ("1389:1388"). */
  defaultClass: string;
  /** Sorted by class number; includes the default class. */
  classes: TcClass[];
  /** Sorted by VLAN. */
  filters: TcFilter[];
  /** Read only: what the qdisc holds that netswitch did not write (planning ignores it). */
  foreign?: string[];
}

export interface QosLayout {
  devs: Record<string, QosDev>;
}

export type QosStep =
  /** The root HFSC qdisc of a device (deleting it also drops what is under it). */
  | { op: 'tc.qdisc.add' | 'tc.qdisc.del'; dev: string; defaultClass: string }
  /** A class with its leaf qdisc; a deletion carries the whole class, so its undo re-creates it. */
  | { op: 'tc.class.add' | 'tc.class.del'; cls: TcClass }
  /** New curves for a class: only between classes with the same curves present (tc cannot drop one). */
  | { op: 'tc.class.change'; cls: TcClass; from: TcClass }
  | { op: 'tc.filter.add' | 'tc.filter.del'; filter: TcFilter };

export function isQosStep(step: { op: string }): step is QosStep {
  return step.op.startsWith('tc.');
}

/** The class number of a VLAN (undefined: untagged, the default class) and its filter priority. */
export function vlanSlot(vlan: number): number {
  return vlan === 0 ? VLAN0_SLOT : vlan;
}

export function classidOf(vlan?: number): string {
  return vlan === undefined ? DEFAULT_CLASS : `${ROOT_HANDLE}${vlanSlot(vlan).toString(16)}`;
}

// ---- desired layout -----------------------------------------------------------------------

function scaled(c: ServiceCurve, k: number): Curve {
  return canonicalCurve({ m1: (c.m1 ?? 0) * k, d: c.d ?? 0, m2: c.m2 * k });
}

/** { m2 } when m1 and d are 0 (tc's "m1 0bit d 0us"), else all three. */
function canonicalCurve(c: Curve): Curve {
  return c.m1 || c.d ? { m1: c.m1 ?? 0, d: c.d ?? 0, m2: c.m2 } : { m2: c.m2 };
}

/** A network's hostQos as the curves of its class (link share scaled by LS_SCALE). */
export function curvesOf(qos: HostQos): Pick<TcClass, 'ls' | 'ul' | 'rt'> {
  const out: Pick<TcClass, 'ls' | 'ul' | 'rt'> = {};
  if (qos.out.ls) out.ls = scaled(qos.out.ls, LS_SCALE);
  if (qos.out.ul) out.ul = scaled(qos.out.ul, 1);
  if (qos.out.rt) out.rt = scaled(qos.out.rt, 1);
  return out;
}

/** The hostQos a class stands for (the inverse of curvesOf), for the report. */
export function hostQosOfClass(cls: TcClass): HostQos {
  const unscale = (c: Curve): ServiceCurve => canonicalCurve({ m1: Math.round((c.m1 ?? 0) / LS_SCALE), d: c.d ?? 0, m2: Math.round(c.m2 / LS_SCALE) });
  const out: HostQos['out'] = {};
  if (cls.ls) out.ls = unscale(cls.ls);
  if (cls.ul) out.ul = canonicalCurve(cls.ul);
  if (cls.rt) out.rt = canonicalCurve(cls.rt);
  return { out };
}

/** The class of a network on `dev` (vlan undefined: untagged), if the layout shapes it. */
export function qosClassOf(layout: QosLayout, dev: string, vlan?: number): TcClass | undefined {
  return layout.devs[dev]?.classes.find((c) => c.classid === classidOf(vlan));
}

/**
 * The shaping a config asks for of tc: its legacy networks'. Networks of the ovs switch are
 * shaped by OVS's QoS rows (qos/ovs.ts); networks without a southbound device are skipped
 * (nothing to shape): validation refuses them, and everything else `hostQosProblems` lists, first.
 */
export function qosLayoutOf(config: Config): QosLayout {
  const byDev = new Map<string, { vlan?: number; qos: HostQos }[]>();
  for (const net of Object.values(config.networks)) {
    const dev = southbound(net);
    if (!net.hostQos || dev === undefined || net.switch === 'ovs') continue;
    byDev.set(dev, [...(byDev.get(dev) ?? []), { vlan: net.vlan, qos: net.hostQos }]);
  }
  const devs: Record<string, QosDev> = {};
  for (const dev of [...byDev.keys()].sort()) {
    const nets = byDev.get(dev) ?? [];
    const untagged = nets.find((n) => n.vlan === undefined);
    const share = Math.max(...nets.map((n) => n.qos.out.ls?.m2 ?? n.qos.out.rt?.m2 ?? 0)) || 1;
    const defaultCurves = untagged ? curvesOf(untagged.qos) : { ls: scaled({ m2: share }, LS_SCALE) };
    const classes: TcClass[] = [{ dev, classid: DEFAULT_CLASS, parent: ROOT_HANDLE, ...defaultCurves, leaf: LEAF_QDISC }];
    const filters: TcFilter[] = [];
    for (const n of nets.filter((x) => x.vlan !== undefined).sort((a, b) => vlanSlot(a.vlan as number) - vlanSlot(b.vlan as number))) {
      const vlan = n.vlan as number;
      classes.push({ dev, classid: classidOf(vlan), parent: ROOT_HANDLE, ...curvesOf(n.qos), leaf: LEAF_QDISC });
      filters.push({ dev, vlan, flowid: classidOf(vlan), pref: vlanSlot(vlan) });
    }
    devs[dev] = { defaultClass: DEFAULT_CLASS, classes: classes.sort(byClassid), filters: filters.sort((a, b) => a.vlan - b.vlan) };
  }
  return { devs };
}

export interface QosProblem {
  /** Path in the config ("networks.vm100.hostQos.out.ul"). */
  path: string;
  message: string;
  hint: string;
}

/**
 * What tc or the kernel would refuse, said before anything runs (for the validator). The
 * limits hold on both switches (OVS's linux-hfsc keeps rates as tc does); what only OVS cannot
 * express is `ovsHostQosProblems`'s (qos/ovs.ts).
 */
export function hostQosProblems(config: Config): QosProblem[] {
  const problems: QosProblem[] = [];
  for (const [name, net] of Object.entries(config.networks)) {
    const qos = net.hostQos;
    if (!qos) continue;
    const path = `networks.${name}.hostQos`;
    if (southbound(net) === undefined) problems.push({ path, message: 'hostQos shapes what leaves a NIC or bond; this network has neither', hint: 'give the network a nic or bonding, or drop hostQos' });
    const { ls, ul, rt } = qos.out;
    if (net.switch !== 'ovs' && (!ls || ls.m2 === 0)) problems.push({ path: `${path}.out.ls`, message: 'hostQos needs a link share (ls) with m2 above 0', hint: 'add out.ls: { m2: SHARE } (oVirt sends 1-100)' });
    for (const [key, c, scale] of [['ls', ls, LS_SCALE], ['ul', ul, 1], ['rt', rt, 1]] as const) {
      if (!c) continue;
      const max = Math.floor(MAX_RATE_BITS / scale);
      for (const m of ['m1', 'm2'] as const) {
        if ((c[m] ?? 0) > max) problems.push({ path: `${path}.out.${key}.${m}`, message: `${m} ${c[m]} is more than tc can set (${max})`, hint: key === 'ls' ? 'link share is relative: scale all shares down' : 'rates are bit/s and at most ~34 Gbit/s' });
      }
      if ((c.d ?? 0) > MAX_TIME_US) problems.push({ path: `${path}.out.${key}.d`, message: `d ${c.d} µs is more than tc can set (${MAX_TIME_US})`, hint: 'd is in microseconds' });
      if (key !== 'ls' && !c.m1 && c.m2 === 0) problems.push({ path: `${path}.out.${key}`, message: `a ${key} curve with m1 and m2 both 0 is no curve (the kernel ignores it)`, hint: `drop ${key} or give it an m2` });
    }
  }
  return problems;
}

// ---- planning -----------------------------------------------------------------------------

export function sameCurve(a: Curve | undefined, b: Curve | undefined): boolean {
  if (!a || !b) return a === b;
  return sameRate(a.m1 ?? 0, b.m1 ?? 0) && sameTime(a.d ?? 0, b.d ?? 0) && sameRate(a.m2, b.m2);
}

const CURVES = ['rt', 'ls', 'ul'] as const;

function sameCurveSet(a: TcClass, b: TcClass): boolean {
  return CURVES.every((k) => (a[k] === undefined) === (b[k] === undefined));
}

/** Equal as the host would show them (rates and times compared as tc prints them). */
export function sameClass(a: TcClass, b: TcClass): boolean {
  return a.dev === b.dev && a.classid === b.classid && a.parent === b.parent && (a.leaf ?? 'pfifo') === (b.leaf ?? 'pfifo') && CURVES.every((k) => sameCurve(a[k], b[k]));
}

export function sameFilter(a: TcFilter, b: TcFilter): boolean {
  return a.dev === b.dev && a.vlan === b.vlan && a.flowid === b.flowid && a.pref === b.pref;
}

/** Both layouts shape the same (what verification after an apply checks). */
export function sameQos(a: QosLayout, b: QosLayout): boolean {
  return planQos(a, b).length === 0;
}

/**
 * The steps from `actual` to `desired` in two phases, as the Linux planner has them: teardown
 * (filters, then classes, then qdiscs) and build (qdiscs, then classes, then filters).
 * `recreated`: devices the plan deletes and creates again (a bond re-created for a mode
 * change), whose shaping goes with them: it is torn down explicitly and built again.
 */
export function planQosPhases(actual: QosLayout, desired: QosLayout, recreated: ReadonlySet<string> = new Set()): { teardown: QosStep[]; build: QosStep[] } {
  const filterDels: QosStep[] = [];
  const classDels: QosStep[] = [];
  const qdiscDels: QosStep[] = [];
  const qdiscAdds: QosStep[] = [];
  const classAdds: QosStep[] = [];
  const filterAdds: QosStep[] = [];
  for (const dev of [...new Set([...Object.keys(actual.devs), ...Object.keys(desired.devs)])].sort()) {
    let a: QosDev | undefined = actual.devs[dev];
    const d: QosDev | undefined = desired.devs[dev];
    if (a && (!d || recreated.has(dev) || a.defaultClass !== d.defaultClass)) {
      filterDels.push(...a.filters.map((filter): QosStep => ({ op: 'tc.filter.del', filter })));
      classDels.push(...a.classes.map((cls): QosStep => ({ op: 'tc.class.del', cls })));
      qdiscDels.push({ op: 'tc.qdisc.del', dev, defaultClass: a.defaultClass });
      a = undefined;
    }
    if (!d) continue;
    if (!a) {
      qdiscAdds.push({ op: 'tc.qdisc.add', dev, defaultClass: d.defaultClass });
      classAdds.push(...d.classes.map((cls): QosStep => ({ op: 'tc.class.add', cls })));
      filterAdds.push(...d.filters.map((filter): QosStep => ({ op: 'tc.filter.add', filter })));
      continue;
    }
    // A class that must be re-created (a curve or its leaf goes) first loses its filters: the
    // kernel refuses to delete a class a filter points to.
    const recreatedClasses = new Set<string>();
    for (const have of a.classes) {
      const want = d.classes.find((c) => c.classid === have.classid);
      if (!want || (!sameClass(have, want) && (!sameCurveSet(have, want) || (have.leaf ?? 'pfifo') !== (want.leaf ?? 'pfifo') || have.parent !== want.parent))) {
        classDels.push({ op: 'tc.class.del', cls: have });
        if (want) recreatedClasses.add(have.classid);
      }
    }
    const keptFilters = a.filters.filter((f) => d.filters.some((w) => sameFilter(w, f)) && !recreatedClasses.has(f.flowid));
    for (const f of a.filters) if (!keptFilters.includes(f)) filterDels.push({ op: 'tc.filter.del', filter: f });
    for (const want of d.classes) {
      const have = a.classes.find((c) => c.classid === want.classid);
      if (!have || recreatedClasses.has(want.classid)) classAdds.push({ op: 'tc.class.add', cls: want });
      else if (!sameClass(have, want)) classAdds.push({ op: 'tc.class.change', cls: want, from: have });
    }
    for (const f of d.filters) if (!keptFilters.some((k) => sameFilter(k, f))) filterAdds.push({ op: 'tc.filter.add', filter: f });
  }
  return { teardown: [...filterDels, ...classDels, ...qdiscDels], build: [...qdiscAdds, ...classAdds, ...filterAdds] };
}

/** planQosPhases, both phases in order. */
export function planQos(actual: QosLayout, desired: QosLayout, recreated?: ReadonlySet<string>): QosStep[] {
  const { teardown, build } = planQosPhases(actual, desired, recreated);
  return [...teardown, ...build];
}

export function invertQos(step: QosStep): QosStep {
  switch (step.op) {
    case 'tc.qdisc.add':
      return { ...step, op: 'tc.qdisc.del' };
    case 'tc.qdisc.del':
      return { ...step, op: 'tc.qdisc.add' };
    case 'tc.class.add':
      return { ...step, op: 'tc.class.del' };
    case 'tc.class.del':
      return { ...step, op: 'tc.class.add' };
    case 'tc.class.change':
      return { op: 'tc.class.change', cls: step.from, from: step.cls };
    case 'tc.filter.add':
      return { ...step, op: 'tc.filter.del' };
    case 'tc.filter.del':
      return { ...step, op: 'tc.filter.add' };
  }
}

/** The undo of a sequence of steps: each inverse, in reverse order. */
export function undoQos(steps: readonly QosStep[]): QosStep[] {
  return steps.map(invertQos).reverse();
}

// ---- printing -------------------------------------------------------------------------------

function curveText(c: Curve): string {
  return c.m1 || c.d ? `m1 ${tcRateText(c.m1 ?? 0)} d ${tcTimeText(c.d ?? 0)} m2 ${tcRateText(c.m2)}` : tcRateText(c.m2);
}

function curvesText(cls: TcClass): string {
  return CURVES.filter((k) => cls[k])
    .map((k) => `${k} ${curveText(cls[k] as Curve)}`)
    .join(', ');
}

function classWhat(cls: TcClass): string {
  return cls.classid === DEFAULT_CLASS ? `default class ${cls.classid}` : `class ${cls.classid}`;
}

/** One sentence, for humans. */
export function describeQosStep(step: QosStep): string {
  switch (step.op) {
    case 'tc.qdisc.add':
      return `shape traffic leaving ${step.dev} with HFSC (qdisc ${ROOT_HANDLE}, default class ${step.defaultClass})`;
    case 'tc.qdisc.del':
      return `stop shaping traffic leaving ${step.dev} (remove HFSC qdisc ${ROOT_HANDLE})`;
    case 'tc.class.add':
      return `add shaping ${classWhat(step.cls)} on ${step.cls.dev} (${curvesText(step.cls)})`;
    case 'tc.class.del':
      return `remove shaping ${classWhat(step.cls)} from ${step.cls.dev}`;
    case 'tc.class.change':
      return `change shaping ${classWhat(step.cls)} on ${step.cls.dev}: ${curvesText(step.from)} -> ${curvesText(step.cls)}`;
    case 'tc.filter.add':
      return `send VLAN ${step.filter.vlan} traffic leaving ${step.filter.dev} to class ${step.filter.flowid}`;
    case 'tc.filter.del':
      return `stop sending VLAN ${step.filter.vlan} traffic leaving ${step.filter.dev} to class ${step.filter.flowid}`;
  }
}

function curveArgs(name: string, c: Curve): string[] {
  return [name, ...(c.m1 || c.d ? ['m1', `${c.m1 ?? 0}bit`, 'd', `${c.d ?? 0}us`] : []), 'm2', `${c.m2}bit`];
}

function classArgs(cls: TcClass): string[] {
  return ['dev', cls.dev, 'parent', cls.parent, 'classid', cls.classid, 'hfsc', ...CURVES.flatMap((k) => (cls[k] ? curveArgs(k, cls[k] as Curve) : []))];
}

/** The leaf qdisc's handle: the class's number as a major ("1389:64" -> "64:"). */
function leafHandle(classid: string): string {
  return `${classid.split(':')[1]}:`;
}

/**
 * The step as `tc -batch` lines (each a tc command without the leading "tc"). The ematch is
 * one word with spaces: a batch runner must quote it (tc's batch reader honours "double
 * quotes"; `tcBatchScript` does).
 */
export function tcBatchLines(step: QosStep): string[][] {
  switch (step.op) {
    case 'tc.qdisc.add':
      return [['qdisc', 'add', 'dev', step.dev, 'root', 'handle', ROOT_HANDLE, 'hfsc', 'default', step.defaultClass.split(':')[1]]];
    case 'tc.qdisc.del':
      // With the handle, tc refuses ("Invalid handle") to delete a root qdisc that is not ours.
      return [['qdisc', 'del', 'dev', step.dev, 'root', 'handle', ROOT_HANDLE]];
    case 'tc.class.add': {
      const { cls } = step;
      const leaf = cls.leaf && cls.leaf !== 'pfifo' ? [['qdisc', 'add', 'dev', cls.dev, 'parent', cls.classid, 'handle', leafHandle(cls.classid), cls.leaf]] : [];
      return [['class', 'add', ...classArgs(cls)], ...leaf];
    }
    case 'tc.class.change':
      return [['class', 'change', ...classArgs(step.cls)]];
    case 'tc.class.del':
      // Its leaf qdisc goes with it.
      return [['class', 'del', 'dev', step.cls.dev, 'classid', step.cls.classid]];
    case 'tc.filter.add': {
      const f = step.filter;
      return [['filter', 'add', 'dev', f.dev, 'parent', ROOT_HANDLE, 'protocol', 'all', 'pref', String(f.pref), 'basic', 'match', `meta(vlan mask 0xfff eq ${f.vlan})`, 'flowid', f.flowid]];
    }
    case 'tc.filter.del':
      return [['filter', 'del', 'dev', step.filter.dev, 'parent', ROOT_HANDLE, 'pref', String(step.filter.pref), 'basic']];
  }
}

/** The step as shell commands (`tc ...`), for printing. */
export function tcCommands(step: QosStep): string[] {
  return tcBatchLines(step).map((line) => ['tc', ...line].map(shellQuote).join(' '));
}

/**
 * Input for `tc -batch -` and, for each of its lines, the index of the step it belongs to:
 * tc reports a failure as "Command failed -:N" (1-based line) and stops there (unless
 * `-force`), as ip does.
 */
export function tcBatchScript(steps: readonly QosStep[]): { input: string; stepOfLine: number[] } {
  const lines: string[] = [];
  const stepOfLine: number[] = [];
  steps.forEach((step, i) => {
    for (const line of tcBatchLines(step)) {
      lines.push(line.map(batchQuote).join(' '));
      stepOfLine.push(i);
    }
  });
  return { input: lines.length ? `${lines.join('\n')}\n` : '', stepOfLine };
}
