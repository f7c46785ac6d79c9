// custom.bridge_opts: each value within what the kernel takes (model/bridge-options.ts has the
// limits), the spanning tree timers the kernel requires while STP runs, and stp_state, which
// may only repeat what the network's stp field says.
import type { Network } from '../model/config.ts';
import type { Issue } from '../model/errors.ts';
import { STP_FORWARD_DELAY, bridgeOptionNumber, bridgeOptionProblem, isSettableBridgeOption } from '../model/bridge-options.ts';

export function bridgeOptionIssues(net: Network, path: string): Issue[] {
  const opts = net.bridgeOpts;
  if (!opts) return [];
  const issues: Issue[] = [];
  const at = `${path}.custom.bridge_opts`;
  const add = (message: string, hint: string) => issues.push({ path: at, message, hint });
  if (!net.bridged) add('bridge options on a bridgeless network', 'drop custom.bridge_opts or make the network bridged');
  const valid = new Map<string, string>();
  for (const [key, value] of Object.entries(opts)) {
    if (!isSettableBridgeOption(key)) {
      add(`unknown or read-only bridge option "${key}"`, 'use sysfs bridge option names such as forward_delay, multicast_snooping, multicast_router');
      continue;
    }
    const problem = bridgeOptionProblem(key, value);
    if (problem) add(`bridge option ${key}: ${problem}`, `fix ${key}= in custom.bridge_opts (sysfs units: timers in centiseconds, forward_delay=1500 is 15 s)`);
    else valid.set(key, value);
  }
  const state = valid.get('stp_state');
  const stpOn = net.stp !== false;
  if (state !== undefined && (state === '1') !== stpOn) {
    const stp = net.stp === false ? 'stp: false (or no stp, which means off)' : `stp: ${net.stp}`;
    add(`stp_state=${state} in custom.bridge_opts contradicts ${stp}`, `turn spanning tree ${state === '1' ? 'on' : 'off'} with the stp field alone (stp: ${state === '1'}) and drop stp_state from custom.bridge_opts`);
  }
  const snooping = valid.get('multicast_snooping');
  if (snooping !== undefined && net.multicastSnooping !== undefined && (snooping === '1') !== net.multicastSnooping) {
    add(`multicast_snooping=${snooping} in custom.bridge_opts contradicts multicastSnooping: ${net.multicastSnooping}`, `set multicast snooping with the multicastSnooping field alone (multicastSnooping: ${snooping === '1'}) and drop multicast_snooping from custom.bridge_opts`);
  }
  const delay = valid.get('forward_delay');
  const cs = delay === undefined ? undefined : bridgeOptionNumber(delay);
  // The Linux bridge's STP (an OVS network with bridge_opts is refused: validate/ovs-bridges.ts).
  if (net.switch === 'legacy' && (net.stp === true || state === '1') && cs !== undefined && (cs < STP_FORWARD_DELAY.min || cs > STP_FORWARD_DELAY.max)) {
    add(
      `forward_delay=${delay} is outside ${STP_FORWARD_DELAY.min}-${STP_FORWARD_DELAY.max} centiseconds (2-30 s), which the kernel requires while STP runs`,
      `use forward_delay from ${STP_FORWARD_DELAY.min} to ${STP_FORWARD_DELAY.max} (1500 is 15 s), or turn STP off (stp: false)`,
    );
  }
  return issues;
}
