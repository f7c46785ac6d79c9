// Linux bridge options under their three names: sysfs (/sys/class/net/BR/bridge/, what VDSM's
// custom.bridge_opts and its reports use), `ip link ... type bridge` keywords (how we set
// them), and `ip -d -json` info_data keys (how we read them). Values are in the same units
// everywhere (timers in centiseconds, as sysfs has them).

export interface BridgeOption {
  /** `ip link set BR type bridge <ip> <value>` */
  ip: string;
  /** key in `ip -d -json link` info_data */
  json: string;
  /** volatile: changes by itself (not compared, not re-applied) */
  readonly?: boolean;
}

const same = (name: string): BridgeOption => ({ ip: name, json: name });

export const BRIDGE_OPTIONS: Record<string, BridgeOption> = {
  forward_delay: same('forward_delay'),
  hello_time: same('hello_time'),
  max_age: same('max_age'),
  ageing_time: same('ageing_time'),
  stp_state: same('stp_state'),
  priority: same('priority'),
  vlan_filtering: same('vlan_filtering'),
  vlan_protocol: same('vlan_protocol'),
  default_pvid: { ip: 'vlan_default_pvid', json: 'vlan_default_pvid' },
  group_fwd_mask: same('group_fwd_mask'),
  group_addr: { ip: 'group_address', json: 'group_addr' },
  no_linklocal_learn: same('no_linklocal_learn'),
  multicast_snooping: { ip: 'mcast_snooping', json: 'mcast_snooping' },
  multicast_router: { ip: 'mcast_router', json: 'mcast_router' },
  multicast_query_use_ifaddr: { ip: 'mcast_query_use_ifaddr', json: 'mcast_query_use_ifaddr' },
  multicast_querier: { ip: 'mcast_querier', json: 'mcast_querier' },
  hash_elasticity: { ip: 'mcast_hash_elasticity', json: 'mcast_hash_elasticity' },
  hash_max: { ip: 'mcast_hash_max', json: 'mcast_hash_max' },
  multicast_last_member_count: { ip: 'mcast_last_member_count', json: 'mcast_last_member_cnt' },
  multicast_startup_query_count: { ip: 'mcast_startup_query_count', json: 'mcast_startup_query_cnt' },
  multicast_last_member_interval: { ip: 'mcast_last_member_interval', json: 'mcast_last_member_intvl' },
  multicast_membership_interval: { ip: 'mcast_membership_interval', json: 'mcast_membership_intvl' },
  multicast_querier_interval: { ip: 'mcast_querier_interval', json: 'mcast_querier_intvl' },
  multicast_query_interval: { ip: 'mcast_query_interval', json: 'mcast_query_intvl' },
  multicast_query_response_interval: { ip: 'mcast_query_response_interval', json: 'mcast_query_response_intvl' },
  multicast_startup_query_interval: { ip: 'mcast_startup_query_interval', json: 'mcast_startup_query_intvl' },
  multicast_stats_enabled: { ip: 'mcast_stats_enabled', json: 'mcast_stats_enabled' },
  multicast_igmp_version: { ip: 'mcast_igmp_version', json: 'mcast_igmp_version' },
  multicast_mld_version: { ip: 'mcast_mld_version', json: 'mcast_mld_version' },
  nf_call_iptables: same('nf_call_iptables'),
  nf_call_ip6tables: same('nf_call_ip6tables'),
  nf_call_arptables: same('nf_call_arptables'),
  bridge_id: { ip: '', json: 'bridge_id', readonly: true },
  root_id: { ip: '', json: 'root_id', readonly: true },
  root_port: { ip: '', json: 'root_port', readonly: true },
  root_path_cost: { ip: '', json: 'root_path_cost', readonly: true },
  topology_change: { ip: '', json: 'topology_change', readonly: true },
  topology_change_detected: { ip: '', json: 'topology_change_detected', readonly: true },
  hello_timer: { ip: '', json: 'hello_timer', readonly: true },
  tcn_timer: { ip: '', json: 'tcn_timer', readonly: true },
  topology_change_timer: { ip: '', json: 'topology_change_timer', readonly: true },
  gc_timer: { ip: '', json: 'gc_timer', readonly: true },
};

/** Options a request may set (everything not read-only). */
export function isSettableBridgeOption(name: string): boolean {
  const o = BRIDGE_OPTIONS[name];
  return o !== undefined && !o.readonly;
}

const byJson = new Map(Object.entries(BRIDGE_OPTIONS).map(([sysfs, o]) => [o.json, sysfs]));

/** info_data (ip -d -json) -> sysfs-named options, values as strings (as sysfs shows them). */
export function bridgeOptsFromInfo(info: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(info)) {
    const sysfs = byJson.get(key);
    if (sysfs !== undefined) out[sysfs] = String(value);
  }
  return out;
}

/** Normalizes a value for comparison: "0x10" and "16", "1" and "1.0" are the same. */
export function sameBridgeValue(a: string, b: string): boolean {
  if (a === b) return true;
  const na = Number(a);
  const nb = Number(b);
  return (!Number.isNaN(na) && !Number.isNaN(nb) && na === nb) || a.toLowerCase() === b.toLowerCase();
}

/** The kernel's defaults: what an option returns to when a request stops setting it. */
export const BRIDGE_DEFAULTS: Record<string, string> = {
  forward_delay: '1500',
  hello_time: '200',
  max_age: '2000',
  ageing_time: '30000',
  stp_state: '0',
  priority: '32768',
  vlan_filtering: '0',
  vlan_protocol: '802.1Q',
  default_pvid: '1',
  group_fwd_mask: '0',
  group_addr: '01:80:c2:00:00:00',
  multicast_snooping: '1',
  multicast_router: '1',
  multicast_query_use_ifaddr: '0',
  multicast_querier: '0',
  hash_elasticity: '16',
  hash_max: '4096',
  multicast_last_member_count: '2',
  multicast_startup_query_count: '2',
  multicast_last_member_interval: '100',
  multicast_membership_interval: '26000',
  multicast_querier_interval: '25500',
  multicast_query_interval: '12500',
  multicast_query_response_interval: '1000',
  multicast_startup_query_interval: '3125',
  multicast_stats_enabled: '0',
  multicast_igmp_version: '2',
  multicast_mld_version: '1',
  nf_call_iptables: '0',
  nf_call_ip6tables: '0',
  nf_call_arptables: '0',
  no_linklocal_learn: '0',
};
