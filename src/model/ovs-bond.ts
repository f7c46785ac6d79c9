// Kernel bonding options mapped to Open vSwitch bond settings, so one request means the same
// bond on either switch. An option with no OVS meaning is refused, never silently dropped.
// Native OVS settings may be given directly as `ovs:bond_mode=balance-slb ovs:lacp=active`.

export interface OvsBondSettings {
  bond_mode: 'active-backup' | 'balance-slb' | 'balance-tcp';
  lacp: 'active' | 'passive' | 'off';
  /** Port.other_config */
  other_config: Record<string, string>;
  bond_updelay: number;
  bond_downdelay: number;
}

export interface OvsBondProblem {
  option: string;
  message: string;
}

const MODE_MAP: Record<string, Pick<OvsBondSettings, 'bond_mode' | 'lacp'> | undefined> = {
  'balance-rr': { bond_mode: 'balance-slb', lacp: 'off' },
  'active-backup': { bond_mode: 'active-backup', lacp: 'off' },
  'balance-xor': { bond_mode: 'balance-slb', lacp: 'off' },
  '802.3ad': { bond_mode: 'balance-tcp', lacp: 'active' },
};

const NATIVE: Record<string, readonly string[] | 'uint' | 'any'> = {
  bond_mode: ['active-backup', 'balance-slb', 'balance-tcp'],
  lacp: ['active', 'passive', 'off'],
  'lacp-time': ['fast', 'slow'],
  'bond-detect-mode': ['miimon', 'carrier'],
  'bond-miimon-interval': 'uint',
  'bond-rebalance-interval': 'uint',
  'lacp-fallback-ab': ['true', 'false'],
  'bond-primary': 'any',
  bond_updelay: 'uint',
  bond_downdelay: 'uint',
};

/** Maps canonical bond options (parseBondOptions' output) to OVS settings. */
export function ovsBondSettings(options: Record<string, string>): { settings: OvsBondSettings; problems: OvsBondProblem[] } {
  const problems: OvsBondProblem[] = [];
  const mode = options.mode ?? 'balance-rr';
  const mapped = MODE_MAP[mode];
  if (!mapped) problems.push({ option: 'mode', message: `bond mode ${mode} has no Open vSwitch equivalent (use 802.3ad, active-backup, balance-rr or balance-xor)` });
  const settings: OvsBondSettings = { ...(mapped ?? { bond_mode: 'active-backup', lacp: 'off' }), other_config: {}, bond_updelay: 0, bond_downdelay: 0 };
  for (const [key, value] of Object.entries(options)) {
    if (key === 'mode') continue;
    if (key.startsWith('ovs:')) {
      const name = key.slice(4);
      const allowed = NATIVE[name];
      if (allowed === undefined) {
        // other_config keys are written without the column: ovs:lacp-time, not ovs:other_config:lacp-time.
        const bare = name.replace(/^other_config:/, '');
        const hint = bare !== name && NATIVE[bare] !== undefined ? `: write ovs:${bare} (other_config keys are given without other_config:)` : ` (known: ${Object.keys(NATIVE).join(', ')})`;
        problems.push({ option: key, message: `unknown Open vSwitch bond setting ${name}${hint}` });
      }
      else if (allowed === 'uint' && !/^\d+$/.test(value)) problems.push({ option: key, message: `${name} takes a whole number` });
      else if (Array.isArray(allowed) && !allowed.includes(value)) problems.push({ option: key, message: `${name} takes one of ${allowed.join(', ')}` });
      else if (name === 'bond_mode') settings.bond_mode = value as OvsBondSettings['bond_mode'];
      else if (name === 'lacp') settings.lacp = value as OvsBondSettings['lacp'];
      else if (name === 'bond_updelay') settings.bond_updelay = Number(value);
      else if (name === 'bond_downdelay') settings.bond_downdelay = Number(value);
      else settings.other_config[name] = value;
      continue;
    }
    switch (key) {
      case 'miimon':
        if (value !== '0') {
          settings.other_config['bond-detect-mode'] = 'miimon';
          settings.other_config['bond-miimon-interval'] = value;
        }
        break;
      case 'lacp_rate':
        if (value === 'fast') settings.other_config['lacp-time'] = 'fast';
        break;
      case 'updelay':
        settings.bond_updelay = Number(value);
        break;
      case 'downdelay':
        settings.bond_downdelay = Number(value);
        break;
      case 'primary':
        settings.other_config['bond-primary'] = value;
        break;
      default:
        problems.push({ option: key, message: `bonding option ${key} has no Open vSwitch meaning` });
    }
  }
  return { settings, problems };
}

/**
 * The OVS settings a kernel option given in the request stands for (what it means, even where
 * ovsBondSettings leaves OVS's default in place: lacp_rate=slow is lacp-time=slow).
 */
function impliedByKernelOption(key: string, value: string): Record<string, string> {
  switch (key) {
    case 'mode': {
      const m = MODE_MAP[value];
      return m ? { bond_mode: m.bond_mode, lacp: m.lacp } : {};
    }
    case 'miimon':
      return value === '0' ? {} : { 'bond-detect-mode': 'miimon', 'bond-miimon-interval': value };
    case 'lacp_rate':
      return { 'lacp-time': value };
    case 'updelay':
      return { bond_updelay: value };
    case 'downdelay':
      return { bond_downdelay: value };
    case 'primary':
      return { 'bond-primary': value };
    default:
      return {};
  }
}

/**
 * Native `ovs:` settings that contradict a kernel option of the same request
 * ("mode=active-backup ovs:bond_mode=balance-tcp"): refused rather than one silently winning.
 * `explicit` are the option names the request wrote (the canonical options always hold a mode,
 * and the default mode contradicts nothing).
 */
export function ovsBondConflicts(options: Record<string, string>, explicit: ReadonlySet<string>): OvsBondProblem[] {
  const implied = new Map<string, { option: string; value: string }>();
  for (const [key, value] of Object.entries(options)) {
    if (key.startsWith('ovs:') || !explicit.has(key)) continue;
    for (const [setting, v] of Object.entries(impliedByKernelOption(key, value))) implied.set(setting, { option: `${key}=${value}`, value: v });
  }
  const problems: OvsBondProblem[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (!key.startsWith('ovs:')) continue;
    const by = implied.get(key.slice(4));
    if (by === undefined) continue;
    const same = /^\d+$/.test(value) && /^\d+$/.test(by.value) ? Number(value) === Number(by.value) : value === by.value;
    if (!same) problems.push({ option: key, message: `${key}=${value} contradicts ${by.option} (which means ${key.slice(4)}=${by.value} on Open vSwitch)` });
  }
  return problems;
}
