// Semantic checks of a full desired config against itself and the host as read now. Every
// problem is reported (not just the first), each with its path and what to do about it.
import { type Config, type Network, southbound } from '../model/config.ts';
import type { Issue } from '../model/errors.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { BRIDGE_OPTIONS, isSettableBridgeOption } from '../model/bridge-options.ts';
import { ovsBondSettings } from '../model/ovs-bond.ts';
import { sameIpv4Subnet } from '../model/ip.ts';
import { addressIssues } from './addresses.ts';
import { bridgeOptionIssues } from './bridge.ts';
import { nameClashes } from './names.ts';
import { ovsBridgeIssues } from './ovs-bridges.ts';

export interface ValidateContext {
  snapshot: Snapshot;
  /** The config netswitch runs now (to tell its own devices from foreign ones). */
  running: Config;
  /** Device names netswitch created and owns. */
  owned: ReadonlySet<string>;
  /** Switch types with a backend on this host. */
  switchTypes: ReadonlySet<string>;
  /** What to do when a switch type is not available. */
  unavailableHint?: string;
  /** Entry names the request itself named (for messages on switch-type moves). */
  named?: { networks: ReadonlySet<string>; bondings: ReadonlySet<string> };
  /** Paths of fields already refused (by the schema): not held against other fields. */
  refused?: ReadonlySet<string>;
}

export function validateConfig(config: Config, ctx: ValidateContext): Issue[] {
  const { snapshot } = ctx;
  const issues: Issue[] = [];
  const add = (path: string, message: string, hint: string) => issues.push({ path, message, hint });
  const bondOfNic = new Map<string, string>();

  for (const [name, bond] of Object.entries(config.bondings)) {
    const path = `bondings.${name}`;
    if (bond.nics.length === 0) add(`${path}.nics`, `bond ${name} has no NICs`, 'list at least one NIC, e.g. nics: [eth1, eth2]');
    for (const nic of bond.nics) {
      const other = bondOfNic.get(nic);
      if (other) add(`${path}.nics`, `NIC ${nic} is in two bonds (${other} and ${name})`, 'put each NIC in one bond only');
      bondOfNic.set(nic, name);
      checkNic(nic, `${path}.nics`, name);
    }
    if (!ctx.switchTypes.has(bond.switch)) add(`${path}.switch`, `the ${bond.switch} switch is not available on this host`, ctx.unavailableHint ?? `use switch: ${[...ctx.switchTypes].join(' or ')}`);
    if (bond.switch === 'ovs') {
      for (const p of ovsBondSettings(bond.options).problems) add(`${path}.options`, p.message, 'use options Open vSwitch can honour: mode=802.3ad|active-backup|balance-rr|balance-xor, miimon, updelay, downdelay, lacp_rate, primary, or native ovs:KEY=VALUE');
      // An OVS bond is a port, not a device: it has no MAC of its own to set (the Port table
      // has no such column; Interface.mac would change the NICs' own addresses instead).
      if (bond.hwaddr !== undefined) add(`${path}.hwaddr`, `an Open vSwitch bond has no MAC address of its own, so hwaddr ${bond.hwaddr} would be ignored`, 'drop hwaddr, or use switch: legacy for a bond with its own MAC');
    }
    if (bond.switch === 'legacy') {
      for (const key of Object.keys(bond.options)) {
        if (key.startsWith('ovs:')) add(`${path}.options`, `option ${key} is for Open vSwitch bonds, and ${name} is a legacy bond`, 'use kernel bonding options (mode=, miimon=, ...) or switch: ovs');
      }
    }
    const existing = snapshot.links[name];
    if (existing && existing.kind !== 'bond' && !ctx.owned.has(name)) {
      add(path, `a device named ${name} exists and is not a bond`, 'choose another bond name');
    }
  }

  const untagged = new Map<string, string>();
  const tagged = new Map<string, string>();
  for (const [name, net] of Object.entries(config.networks)) {
    const path = `networks.${name}`;
    checkNetwork(name, net, path);
  }
  checkRstp();
  issues.push(...ovsBridgeIssues(config, ctx.named?.networks));
  issues.push(...addressIssues(config, ctx.named?.networks));
  issues.push(...nameClashes(config, ctx));

  // One switch type for the whole host.
  const types = new Map<string, string[]>();
  for (const [n, net] of Object.entries(config.networks)) types.set(net.switch, [...(types.get(net.switch) ?? []), `networks.${n}`]);
  for (const [n, bond] of Object.entries(config.bondings)) types.set(bond.switch, [...(types.get(bond.switch) ?? []), `bondings.${n}`]);
  if (types.size > 1) {
    const [[typeA, pathsA], [typeB, pathsB]] = [...types.entries()];
    const named = ctx.named;
    const isNamed = (p: string) => {
      const [kind, n] = p.split('.');
      return named ? (kind === 'networks' ? named.networks.has(n) : named.bondings.has(n)) : true;
    };
    const culprits = [...pathsA, ...pathsB].filter(isNamed);
    for (const p of culprits.length ? culprits : pathsB) {
      add(`${p}.switch`, `the host would mix switch types (${typeA}: ${pathsA.join(', ')}; ${typeB}: ${pathsB.join(', ')})`, 'all networks and bonds share one switch type: to move the host, name every network and bond with the new switch in one request');
    }
  }
  return issues;

  /** RSTP is Open vSwitch's: a Linux bridge has the kernel's STP only (one OVS bridge: ovs-bridges.ts). */
  function checkRstp(): void {
    for (const [name, net] of Object.entries(config.networks)) {
      if (net.stp === 'rstp' && net.switch !== 'ovs') add(`networks.${name}.stp`, 'rstp (rapid spanning tree) is for Open vSwitch bridges: a Linux bridge has the kernel\'s STP only', 'use switch: ovs, or stp: true');
    }
  }

  function checkNic(nic: string, path: string, forBond?: string): void {
    const link = snapshot.links[nic];
    if (!link) {
      add(path, `NIC ${nic} does not exist on this host`, `use one of: ${nicNames(snapshot).join(', ') || '(no NICs found)'}`);
    } else if (link.kind !== 'nic') {
      add(path, `${nic} is a ${link.type || link.kind}, not a NIC`, `use one of: ${nicNames(snapshot).join(', ')}`);
    } else if (
      link.master &&
      snapshot.links[link.master]?.kind === 'bond' &&
      link.master !== forBond &&
      !(link.master in config.bondings) &&
      // netswitch's own bond, removed by this change, frees its NICs
      !(link.master in ctx.running.bondings) &&
      !ctx.owned.has(link.master)
    ) {
      add(path, `NIC ${nic} is a slave of bond ${link.master}`, `take it out of ${link.master} first, or name ${link.master} in the request`);
    }
  }

  // A Linux bridge on the host shows every option its kernel has: one it does not show, this
  // kernel lacks (e.g. vlan_filtering without CONFIG_BRIDGE_VLAN_FILTERING), and ip would set
  // it in vain. (With no bridge on the host there is nothing to tell by; verification does.)
  function missingBridgeOptions(net: Network, path: string): void {
    if (!net.bridged || !net.bridgeOpts) return;
    const sample = Object.values(snapshot.links).find((l) => l.kind === 'bridge');
    if (!sample) return;
    for (const key of Object.keys(net.bridgeOpts ?? {})) {
      const json = BRIDGE_OPTIONS[key]?.json;
      if (json && isSettableBridgeOption(key) && !(json in sample.info)) {
        add(`${path}.custom.bridge_opts`, `bridge option ${key}: this kernel's bridges do not have it (${sample.name} shows no ${json})`, `drop ${key} from custom.bridge_opts, or use a kernel built with it`);
      }
    }
  }
  function checkNetwork(name: string, net: Network, path: string): void {
    if (net.nic !== undefined && net.bonding !== undefined) {
      add(path, 'nic and bonding are both set', 'a network sits on one NIC or one bond: keep one of them');
      return;
    }
    if (!ctx.switchTypes.has(net.switch)) add(`${path}.switch`, `the ${net.switch} switch is not available on this host`, ctx.unavailableHint ?? `use switch: ${[...ctx.switchTypes].join(' or ')}`);
    if (net.bridged && /[.:\s]/.test(name)) add(path, `a bridged network's name may not contain '.', ':' or whitespace`, 'rename the network, e.g. replace "." with "_"');
    if (net.nic !== undefined) {
      checkNic(net.nic, `${path}.nic`);
      const bond = bondOfNic.get(net.nic);
      if (bond) add(`${path}.nic`, `NIC ${net.nic} is a slave of bond ${bond}`, `put the network on the bond (bonding: ${bond}) or take ${net.nic} out of it`);
    }
    if (net.bonding !== undefined && !(net.bonding in config.bondings)) {
      const removed = net.bonding in ctx.running.bondings;
      add(`${path}.bonding`, removed ? `bond ${net.bonding} is removed, but network ${name} uses it` : `bond ${net.bonding} does not exist`, removed ? `remove or move network ${name} in the same request` : `define it under bondings, e.g. bondings: { ${net.bonding}: { nics: [eth1, eth2] } }`);
    }
    if (!net.bridged && southbound(net) === undefined) add(path, 'a bridgeless network needs a NIC or bond', 'add nic or bonding, or make it bridged: true');
    // A VLAN is a tag on a NIC or bond: a NIC-less bridge has nothing to tag (VDSM: ERR_BAD_VLAN).
    if (net.bridged && net.vlan !== undefined && southbound(net) === undefined) add(`${path}.vlan`, `VLAN ${net.vlan} needs a NIC or bond to tag traffic on, and network ${name} has neither`, 'add nic or bonding, or drop vlan for a NIC-less bridge');
    const sb = southbound(net);
    // A refused vlan (4095) is no untagged network beside the others.
    if (sb !== undefined && !ctx.refused?.has(`${path}.vlan`)) {
      const key = `${sb}/${net.vlan ?? ''}`;
      const map = net.vlan === undefined ? untagged : tagged;
      const other = map.get(key);
      if (other) {
        add(net.vlan === undefined ? path : `${path}.vlan`, net.vlan === undefined ? `${sb} already carries untagged network ${other}` : `${sb} already carries VLAN ${net.vlan} (network ${other})`, net.vlan === undefined ? 'give one of them a vlan, or put it on another NIC' : 'use another VLAN id or another NIC/bond');
      } else map.set(key, name);
    }
    if (net.bootproto === 'dhcp' && net.ipaddr !== undefined) add(`${path}.ipaddr`, 'bootproto dhcp together with a static ipaddr', 'drop ipaddr (DHCP assigns it) or use bootproto: none');
    if (net.gateway !== undefined) {
      if (net.ipaddr === undefined || net.prefix === undefined) {
        if (net.bootproto !== 'dhcp') add(`${path}.gateway`, 'a gateway without an address', 'add ipaddr and prefix, or drop the gateway');
      } else if (!sameIpv4Subnet(net.ipaddr, net.gateway, net.prefix)) {
        add(`${path}.gateway`, `gateway ${net.gateway} is outside ${net.ipaddr}/${net.prefix}`, 'use a gateway inside the network\'s subnet');
      }
    }
    if (net.nameservers !== undefined && net.nameservers.length > 0 && !net.defaultRoute) {
      add(`${path}.nameservers`, 'nameservers belong to the default-route network', 'move them to the network with defaultRoute: true, or set defaultRoute on this one');
    }
    if (net.ipv6gateway !== undefined && net.ipv6addr === undefined && !net.ipv6autoconf && !net.dhcpv6) {
      add(`${path}.ipv6gateway`, 'an IPv6 gateway without an IPv6 address', 'add ipv6addr, ipv6autoconf or dhcpv6, or drop ipv6gateway');
    }
    issues.push(...bridgeOptionIssues(net, path));
    if (net.switch === 'legacy') missingBridgeOptions(net, path);
    const iface = sb !== undefined && net.vlan !== undefined ? `${sb}.${net.vlan}` : undefined;
    if (iface && iface.length > 15) add(`${path}.vlan`, `the VLAN device name ${iface} is longer than 15 characters`, 'use a shorter NIC/bond name');
  }
}

function nicNames(snapshot: Snapshot): string[] {
  return Object.values(snapshot.links)
    .filter((l) => l.kind === 'nic')
    .map((l) => l.name)
    .sort();
}
