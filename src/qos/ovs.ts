// Outbound host QoS (VDSM's `hostQos`) on Open vSwitch: one QoS row of type linux-hfsc per
// southbound port (a NIC's port, or an OVS bond port: OVS shapes each member interface with the
// same row), a Queue row per shaped network, and an OpenFlow flow per network that puts the
// traffic of its internal port into its queue (`in_port=<net> actions=set_queue:K,NORMAL`).
//
// What OVS makes of it (lib/netdev-linux.c, 3.1; read back from tc in the kernel tier): a root
// `hfsc` qdisc 1: with default class 1:1 (queue 0), a root class 1:fffe whose curves are all
// the QoS row's max-rate, and under it class 1:<K+1> per queue K with `sc` (real-time and link
// share alike) = min-rate and `ul` = max-rate. One rate per queue, then, where VDSM's curves
// have three. The mapping (docs/design.md says why):
//   ul m2  -> max-rate.
//   ls m2  -> min-rate = m2 x 8 bit/s: the link-share value VDSM (and legacy netswitch) give the
//             kernel, so shares weigh against each other exactly as on a Linux host; the
//             real-time curve OVS adds at that rate (at most 800 bit/s) guarantees nothing.
//   rt m2  -> min-rate = m2: a guarantee, which OVS also makes the queue's link share. So a
//             network cannot have both rt and ls here, nor can committed rates and shares mix on
//             one port (a rate in bit/s outweighs any share): validation says so.
//   m1, d  -> nothing: OVS's curves are straight lines; refused by validation.
// The default queue 0 (traffic of networks without hostQos, and of any other port) gets VDSM's
// default-class rule in OVS's unit: the largest min-rate of the port's queues.
// The QoS row's max-rate is set, never left to OVS: its default is the link speed, or 10 Gbit/s
// when OVS cannot read one (a veth, a virtio NIC), and OVS 3.1 computes a queue's default
// max-rate as that times 8 in 32 bits (1.41 Gbit/s on a 10 Gbit/s link). netswitch sets
// ROOT_RATE, the largest rate OVS can hold (bytes/s in 32 bits, ~34.4 Gbit/s), on the QoS row
// and on every queue without ul: shaping never caps a link up to that speed, the same on every
// host and bond member, and the plan does not depend on a link speed read at a given moment.
import type { Config, HostQos, Network } from '../model/config.ts';
import { southbound } from '../model/config.ts';
import type { OvsQosSpec, OvsQueueSpec } from '../model/ovs.ts';
import { LS_SCALE } from './hfsc.ts';
import { compareNames } from '../model/order.ts';

export const OVS_QOS_TYPE = 'linux-hfsc';
/** The largest rate OVS's linux-hfsc holds: it keeps bytes/s in 32 bits. */
export const ROOT_RATE = (2 ** 32 - 1) * 8;
/** Queue ids: VLAN networks by VLAN id (VLAN 0: 4096), the untagged network VDSM's 5000. */
export const VLAN0_QUEUE = 0x1000;
export const UNTAGGED_QUEUE = 5000;
export const DEFAULT_QUEUE = 0;

/** The queue of a network on its southbound port. */
export function queueIdOf(vlan: number | undefined): number {
  return vlan === undefined ? UNTAGGED_QUEUE : vlan === 0 ? VLAN0_QUEUE : vlan;
}

/** The HFSC class OVS makes for queue K (what `tc class show` lists): 1:<K+1> in hex. */
export function ovsClassidOf(queue: number): string {
  return `1:${(queue + 1).toString(16)}`;
}

/** A network's queue: min-rate from rt (a guarantee) or from the link share, max-rate from ul. */
export function queueOf(name: string, qos: HostQos): OvsQueueSpec {
  const { ls, ul, rt } = qos.out;
  const basis = rt ? 'rt' : 'ls';
  const minRate = rt ? rt.m2 : (ls?.m2 ?? 0) * LS_SCALE;
  return { minRate, maxRate: ul?.m2 ?? ROOT_RATE, network: name, basis };
}

/** The hostQos a queue stands for (the inverse of queueOf), for the report. */
export function hostQosOfQueue(q: OvsQueueSpec): HostQos {
  const out: HostQos['out'] = {};
  const min = q.minRate ?? 0;
  if (q.basis === 'ls' && min % LS_SCALE === 0) out.ls = { m2: min / LS_SCALE };
  else out.rt = { m2: min };
  if (q.maxRate !== undefined && q.maxRate < ROOT_RATE) out.ul = { m2: q.maxRate };
  return { out };
}

/** The networks of the ovs switch with hostQos, by the southbound device they leave by. */
export function shapedOvsNetworks(config: Config): Map<string, [string, Network][]> {
  const out = new Map<string, [string, Network][]>();
  for (const [name, net] of Object.entries(config.networks).sort(([a], [b]) => compareNames(a, b))) {
    const sb = southbound(net);
    if (net.switch !== 'ovs' || !net.hostQos || sb === undefined) continue;
    out.set(sb, [...(out.get(sb) ?? []), [name, net]]);
  }
  return out;
}

/** The QoS row of a southbound port that carries NETWORKS (each with hostQos). */
export function ovsQosOf(networks: readonly [string, Network][]): OvsQosSpec {
  const queues: Record<string, OvsQueueSpec> = {};
  for (const [name, net] of networks) queues[String(queueIdOf(net.vlan))] = queueOf(name, net.hostQos as HostQos);
  const largest = Math.max(LS_SCALE, ...Object.values(queues).map((q) => q.minRate ?? 0));
  queues[String(DEFAULT_QUEUE)] = { minRate: largest, maxRate: ROOT_RATE };
  const sorted = Object.fromEntries(Object.entries(queues).sort(([a], [b]) => Number(a) - Number(b)));
  return { type: OVS_QOS_TYPE, maxRate: ROOT_RATE, queues: sorted };
}

export interface OvsQosProblem {
  path: string;
  message: string;
  hint: string;
}

/**
 * What OVS's linux-hfsc cannot express, for the networks of the ovs switch (the limits tc and
 * the kernel share with the Linux side are checked by hostQosProblems).
 */
export function ovsHostQosProblems(config: Config): OvsQosProblem[] {
  const problems: OvsQosProblem[] = [];
  for (const [sb, nets] of shapedOvsNetworks(config)) {
    const withShare = nets.filter(([, n]) => !n.hostQos?.out.rt).map(([name]) => name);
    for (const [name, net] of nets) {
      const path = `networks.${name}.hostQos.out`;
      const { ls, ul, rt } = (net.hostQos as HostQos).out;
      for (const [key, c] of [['ls', ls], ['ul', ul], ['rt', rt]] as const) {
        if (c?.m1) problems.push({ path: `${path}.${key}.m1`, message: `Open vSwitch's linux-hfsc queues are straight lines: a burst rate m1 (${c.m1} bit/s for d µs) cannot be set`, hint: 'drop m1 and d (m2 is the rate), or use switch: legacy' });
        if (c?.d) problems.push({ path: `${path}.${key}.d`, message: `Open vSwitch's linux-hfsc queues are straight lines: a burst duration d (${c.d} µs) cannot be set`, hint: 'drop m1 and d (m2 is the rate), or use switch: legacy' });
      }
      if (rt && ls) {
        problems.push({
          path: `${path}.rt`,
          message: 'on Open vSwitch a queue has one rate (min-rate) for its guarantee and for its share of spare bandwidth: a committed rate (rt) and a separate link share (ls) cannot both be kept',
          hint: 'drop rt (keep the share), or drop ls (the committed rate then also weighs the share of spare bandwidth)',
        });
      }
      if (!rt && !ls?.m2) problems.push({ path: `${path}.ls`, message: 'hostQos needs a link share (ls) with m2 above 0, or on Open vSwitch a committed rate (rt)', hint: 'add out.ls: { m2: SHARE } (oVirt sends 1-100)' });
      if (rt && withShare.length) {
        problems.push({
          path: `${path}.rt`,
          message: `${sb} also carries ${withShare.join(', ')} with a link share: on Open vSwitch a committed rate is also a weight for spare bandwidth, in bit/s, and would outweigh any share`,
          hint: `on one NIC or bond, give every network with hostQos a committed rate (rt), or none`,
        });
      }
      const q = queueOf(name, net.hostQos as HostQos);
      if (ul && ul.m2 > 0 && ul.m2 < (q.minRate ?? 0)) {
        problems.push({ path: `${path}.ul.m2`, message: `ul m2 ${ul.m2} bit/s is below the queue's min-rate (${q.minRate} bit/s, from ${q.basis === 'rt' ? 'rt m2' : 'ls m2 x 8'}): Open vSwitch would raise it`, hint: 'give ul an m2 at least the committed rate' });
      }
    }
  }
  return problems;
}
