// A setup request is a delta: named entries replace (or remove) the running ones, the rest
// stay. `--replace` and the cluster mode take the request as the whole desired config.
import type { Config, ChangeRequest } from './config.ts';
import { isRemoval } from './config.ts';
import type { Issue } from './errors.ts';

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
    } else config.bondings[name] = entry;
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
