// A setup request is a delta: named entries replace (or remove) the running ones, the rest
// stay. `--replace` and the cluster mode take the request as the whole desired config.
import type { Bond, Config, ChangeRequest } from './config.ts';
import { isRemoval, southbound } from './config.ts';
import { bondOptionsFromInfo, bondOptionsSet, formatBondOptions, parseBondOptions } from './bond-options.ts';
import type { Issue } from './errors.ts';
import type { Link, Snapshot } from './snapshot.ts';

export function mergeRequest(running: Config, req: ChangeRequest, replace: boolean): { config: Config; issues: Issue[] } {
  const issues: Issue[] = [];
  const config: Config = replace
    ? { networks: {}, bondings: {} }
    : { networks: { ...running.networks }, bondings: { ...running.bondings } };

  for (const [name, entry] of Object.entries(req.networks)) {
    if (isRemoval(entry)) {
      if (!replace && !(name in running.networks)) {
        issues.push({ path: `networks.${name}`, message: `network ${name} cannot be removed: it does not exist`, hint: 'check the name against `netswitch show`' });
      }
      delete config.networks[name];
    } else config.networks[name] = entry;
  }
  for (const [name, entry] of Object.entries(req.bondings)) {
    if (isRemoval(entry)) {
      if (!replace && !(name in running.bondings)) {
        issues.push({ path: `bondings.${name}`, message: `bond ${name} cannot be removed: netswitch does not manage it`, hint: 'check the name against `netswitch show`' });
      }
      delete config.bondings[name];
    } else {
      // A bond's MAC, once set, stays (VDSM's _canonicalize_bond_hwaddress): the kernel keeps
      // it anyway, and the config then says what the host has (kernel_config reports it).
      const hwaddr = running.bondings[name]?.hwaddr;
      config.bondings[name] = entry.hwaddr === undefined && hwaddr !== undefined && entry.switch === 'legacy' && running.bondings[name].switch === 'legacy' ? { ...entry, hwaddr } : entry;
    }
  }

  // A network that asks for the default route takes it over, with the nameservers.
  const claimers = Object.entries(req.networks).filter(([, e]) => !isRemoval(e) && e.defaultRoute);
  if (claimers.length > 1) {
    for (const [name] of claimers.slice(1)) {
      issues.push({ path: `networks.${name}.defaultRoute`, message: `two networks of the request claim the default route (${claimers.map(([n]) => n).join(', ')})`, hint: 'set defaultRoute: true on one network only' });
    }
  } else if (claimers.length === 1 && !replace) {
    for (const [name, net] of Object.entries(config.networks)) {
      if (name !== claimers[0][0] && net.defaultRoute) {
        const { nameservers: _ns, ...rest } = net;
        config.networks[name] = { ...rest, defaultRoute: false };
      }
    }
  }
  return { config, issues };
}

/**
 * VDSM's canonicalize_external_bonds_used_by_nets: a network on a Linux bond the host has and
 * no config names takes the bond over as it is — its slaves, its options away from the
 * defaults, and its MAC (hwaddr, so the bond keeps it) become a bond of the desired config,
 * which netswitch owns from then on as if requested. Where taking it over would change
 * something the request did not ask for, or cannot be said as a bond entry, it is refused
 * instead (the issue names the field; listing the bond under bondings is the way out).
 */
export function adoptHostBonds(config: Config, snapshot: Snapshot, running: Config): { adopted: Record<string, Bond>; issues: Issue[] } {
  const adopted: Record<string, Bond> = {};
  const issues: Issue[] = [];
  const mtuOf = new Map<string, number>();
  for (const net of Object.values(config.networks)) {
    const sb = southbound(net);
    if (sb !== undefined) mtuOf.set(sb, Math.max(mtuOf.get(sb) ?? 0, net.mtu));
  }
  const seen = new Set<string>();
  const slavesOf = new Map<string, Link[]>();
  for (const l of Object.values(snapshot.links)) if (l.master !== undefined) slavesOf.set(l.master, [...(slavesOf.get(l.master) ?? []), l]);
  for (const [name, net] of Object.entries(config.networks)) {
    const bondName = net.bonding;
    const link = bondName === undefined ? undefined : snapshot.links[bondName];
    // Named by the config, or netswitch's own bond being removed: validation speaks of those.
    if (bondName === undefined || bondName in config.bondings || bondName in running.bondings || link?.kind !== 'bond') continue;
    if (seen.has(bondName)) continue; // adopted, or refused, for an earlier network on it
    seen.add(bondName);
    const path = `networks.${name}.bonding`;
    const listIt = `list ${bondName} under bondings (nics, options) to say what netswitch should make of it`;
    const refuse = (why: string, hint = listIt) => issues.push({ path, message: `bond ${bondName} exists but netswitch does not manage it, and cannot take it over as it is: ${why}`, hint });
    const slaves = slavesOf.get(bondName) ?? [];
    const notNic = slaves.find((l) => l.kind !== 'nic');
    if (net.switch !== 'legacy') refuse(`it is a Linux bond, and network ${name} is on the ${net.switch} switch`, `delete the Linux bond (ip link del ${bondName}) or ${listIt}`);
    else if (slaves.length === 0) refuse('it has no slaves');
    else if (notNic) refuse(`its slave ${notNic.name} is a ${notNic.type || notNic.kind}, not a NIC`);
    else if (link.master !== undefined && !(link.master in running.networks)) refuse(`it is a port of ${link.master}`, `take it out of ${link.master} first, or ${listIt}`);
    else if ((mtuOf.get(bondName) ?? 0) < link.mtu) {
      issues.push({ path: `networks.${name}.mtu`, message: `bond ${bondName} has MTU ${link.mtu}, and taking it over for network ${name} would lower it to ${mtuOf.get(bondName)} (with every device on it)`, hint: `give network ${name} mtu: ${link.mtu}, or ${listIt}` });
    } else {
      // Read back through the request's own parser: what it refuses, a request could not say.
      const { options, problems } = parseBondOptions(formatBondOptions(bondOptionsSet(bondOptionsFromInfo(link.info))));
      if (problems.length) refuse(`its options cannot be said in a request (${problems.map((p) => p.message).join('; ')})`);
      else adopted[bondName] = { nics: slaves.map((l) => l.name).sort(), options, switch: 'legacy', hwaddr: link.mac.toLowerCase() };
    }
  }
  return { adopted, issues };
}
