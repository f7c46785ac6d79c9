// Executing OVS steps: all of them in one OVSDB transaction (never an ovs-vsctl process per
// change), then waiting for ovs-vswitchd to apply it (next_cfg/cur_cfg) and checking that
// every interface it touched came up without an error. QoS and Queue rows are root tables (OVSDB
// keeps them when nothing refers to them): netswitch deletes its own with the port that had them.
import { existsSync } from 'node:fs';
import { ErrorCode, NetswitchError, isNetswitchError } from '../../model/errors.ts';
import {
  type Atom,
  type Datum,
  type Operation,
  type OvsdbClient,
  type Row,
  del,
  deleteFrom,
  eq,
  fromOptional,
  insert,
  insertInto,
  mutate,
  mutation,
  namedUuid,
  select,
  toMap,
  toSet,
  update,
  uuid,
  wait,
} from '../../ovsdb/index.ts';
import { BASIS_KEY, NETWORK_KEY, OWNER_KEY, OWNER_VALUE, type OvsPortSpec, type OvsQosSpec, type OvsStep, sameQos } from '../../plan/ovs.ts';
import type { Log } from '../../sys/log.ts';
import { run } from '../../sys/run.ts';
import { DB, type OvsState, readOvs } from './state.ts';

const OWNER = toMap({ [OWNER_KEY]: OWNER_VALUE });

export interface OvsExecuteOptions {
  log?: Log;
  /** How long ovs-vswitchd may take to apply the transaction. */
  timeoutMs?: number;
  /** Rollback: skip operations whose rows are already as wanted instead of failing. */
  tolerant?: boolean;
}

export async function executeOvs(client: OvsdbClient, steps: readonly OvsStep[], options: OvsExecuteOptions = {}): Promise<void> {
  if (steps.length === 0) return;
  const start = performance.now();
  const state = needsUuids(steps, options.tolerant ?? false) ? await readOvs(client, { flows: false }) : NOTHING_READ;
  const ops = new TransactionBuilder(state, options.tolerant ?? false);
  for (const step of steps) ops.add(step);
  ops.ops.push(mutate('Open_vSwitch', [], [mutation('next_cfg', '+=', 1)]), select('Open_vSwitch', [], ['next_cfg']));
  const built = performance.now();
  let results;
  try {
    results = await client.transact(DB, ops.ops, { comment: `netswitch: ${steps.length} changes` });
  } catch (e) {
    if (isNetswitchError(e)) {
      // Answered with an error: the transaction changed nothing. Otherwise (the connection lost)
      // it may or may not have committed.
      const answered = typeof e.context.error === 'string';
      throw new NetswitchError(ErrorCode.Ovsdb, `the OVS transaction was refused: ${e.message}`, { hint: e.hint, cause: e, context: { ...e.context, transaction: answered ? 'refused' : 'unknown' } });
    }
    throw e;
  }
  const nextCfg = Number((results[results.length - 1] as { rows: Row[] }).rows[0].next_cfg);
  const committed = performance.now();
  await dropUserspaceTaps(steps, state);
  await waitForVswitchd(client, nextCfg, options.timeoutMs ?? 30_000);
  const applied = performance.now();
  await dropLeftoverQdiscs(steps);
  await checkInterfaces(client, ops.touchedInterfaces);
  const ms = (a: number, b: number) => Math.round(b - a);
  options.log?.debug(`ovs: ${ops.ops.length} operations; read ${ms(start, built)} ms, transaction ${ms(built, committed)} ms, ovs-vswitchd ${ms(committed, applied)} ms, interface check ${ms(applied, performance.now())} ms`);
}

/**
 * Whether the transaction refers to rows that exist (by uuid: deletions, QoS rows replaced) or
 * must skip what exists (an undo): then it needs them read just before. Additions and updates
 * name their rows (bridges and ports by name, new rows by named-uuid) and need no read: at
 * 1000 ports that is ~20 ms saved on building a bridge.
 */
function needsUuids(steps: readonly OvsStep[], tolerant: boolean): boolean {
  return tolerant || steps.some((s) => s.op === 'ovs.br.del' || s.op === 'ovs.port.del' || s.op === 'ovs.qos.set');
}

const NOTHING_READ: OvsState = { layout: { bridges: {} }, rootUuid: '', bridgeUuids: {}, portUuids: {}, qosUuids: {}, bridges: {}, ports: {}, interfaces: {} };

/**
 * OVS shapes a port with QoS by a root `hfsc` qdisc 1: on each of its NICs, and leaves it there
 * when the port goes (it removes it only when the QoS is cleared from a port that stays). A NIC
 * that left OVS in this transaction gets the kernel's default qdisc back, as before it had one;
 * the kind and handle in the command make tc refuse any other root qdisc. The undo of the
 * removal gives the port its QoS back, and OVS makes the qdisc again.
 */
async function dropLeftoverQdiscs(steps: readonly OvsStep[]): Promise<void> {
  const removed = new Set<string>();
  const kept = new Set<string>();
  for (const step of steps) {
    const ports = step.op === 'ovs.br.del' || step.op === 'ovs.br.add' ? Object.values(step.bridge.ports) : step.op === 'ovs.port.del' || step.op === 'ovs.port.add' ? [step.port] : [];
    for (const p of ports) {
      for (const i of p.interfaces.filter((x) => x.type === '')) {
        if (step.op === 'ovs.br.add' || step.op === 'ovs.port.add') kept.add(i.name);
        else if (p.qos) removed.add(i.name);
      }
    }
  }
  for (const dev of removed) if (!kept.has(dev)) await run(['tc', 'qdisc', 'del', 'dev', dev, 'root', 'handle', '1:', 'hfsc'], { check: false });
}

/**
 * Whether a device of that name is a tun/tap device (has tun_flags): ovs-vswitchd's, for an
 * internal port's name. Anything else of that name (a device someone made while the port was
 * going, or after) is not OVS's, and is left alone.
 */
function isTap(name: string): boolean {
  return existsSync(`/sys/class/net/${name}/tun_flags`);
}

/**
 * On the userspace datapath an internal port is a tap device, and ovs-vswitchd deletes the taps
 * of removed ports one by one (~20 ms each: 20 s for a thousand networks). The removal is
 * committed by now; deleting those devices in one group delete first makes it ~13x faster
 * (docs/benchmarks.md). Best effort: whatever ovs-vswitchd already removed is skipped.
 */
async function dropUserspaceTaps(steps: readonly OvsStep[], state: OvsState): Promise<void> {
  const taps: string[] = [];
  for (const step of steps) {
    const removed = step.op === 'ovs.br.del' ? { bridge: step.bridge.name, ports: [{ name: step.bridge.name, interfaces: [{ name: step.bridge.name, type: 'internal' }] }, ...Object.values(step.bridge.ports)] } : step.op === 'ovs.port.del' ? { bridge: step.bridge, ports: [step.port] } : undefined;
    if (!removed || state.bridges[removed.bridge]?.datapath !== 'netdev') continue;
    for (const p of removed.ports) for (const i of p.interfaces) if (i.type === 'internal' && isTap(i.name)) taps.push(i.name);
  }
  if (taps.length < 2) return;
  const group = String(2 ** 20 + Math.floor(Math.random() * (2 ** 31 - 2 ** 20)));
  const lines = [...taps.map((t) => `link set dev ${t} group ${group}`), `link del group ${group}`];
  await run(['ip', '-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, check: false, timeoutMs: 600_000 });
}

/** ovs-vswitchd copies next_cfg into cur_cfg once it has applied the database. */
async function waitForVswitchd(client: OvsdbClient, nextCfg: number, timeoutMs: number): Promise<void> {
  try {
    await client.transact(DB, [wait('Open_vSwitch', [], ['cur_cfg'], '==', [{ cur_cfg: nextCfg }], timeoutMs)]);
  } catch (e) {
    throw new NetswitchError(ErrorCode.Timeout, `ovs-vswitchd did not apply the change within ${timeoutMs / 1000} s`, {
      hint: 'check that ovs-vswitchd runs (ovs-appctl version) and its log',
      cause: e,
    });
  }
}

async function checkInterfaces(client: OvsdbClient, names: ReadonlySet<string>): Promise<void> {
  if (names.size === 0) return;
  // Only what the check needs: one select of three columns, not the whole database.
  const [result] = await client.transact(DB, [select('Interface', [], ['name', 'error', 'ofport'])] as const);
  const problems: string[] = [];
  for (const row of result.rows) {
    const name = String(row.name);
    if (!names.has(name)) continue; // not touched, or deleted by this transaction
    const error = fromOptional(row.error as Datum);
    const ofport = fromOptional(row.ofport as Datum);
    // As ovs-vsctl does: no OpenFlow port number means ovs-vswitchd could not set it up
    // (its bridge failed, e.g. a datapath type this host lacks).
    if (typeof error === 'string') problems.push(`${name}: ${error}`);
    else if (ofport === undefined || ofport === -1) problems.push(`${name}: ovs-vswitchd could not set it up (see its log)`);
  }
  if (problems.length) {
    throw new NetswitchError(ErrorCode.Ovsdb, `Open vSwitch refused interfaces: ${problems.join('; ')}`, {
      hint: 'check that the device exists and is not used by another switch',
      context: { problems },
    });
  }
}

/** Turns steps into OVSDB operations, using the uuids of the rows as read just before. */
class TransactionBuilder {
  readonly ops: Operation[] = [];
  readonly touchedInterfaces = new Set<string>();
  #state: OvsState;
  #tolerant: boolean;
  #n = 0;
  /** Bridges and ports an earlier operation of this transaction deletes. */
  #deleted = new Set<string>();
  /** Ports whose QoS rows an earlier operation deletes. */
  #droppedQos = new Set<string>();

  constructor(state: OvsState, tolerant: boolean) {
    this.#state = state;
    this.#tolerant = tolerant;
  }

  add(step: OvsStep): void {
    switch (step.op) {
      case 'ovs.br.add': {
        const b = step.bridge;
        if (this.#tolerant && this.#state.bridges[b.name] && !this.#deleted.has(b.name)) return;
        const local = this.#port({ name: b.name, interfaces: [{ name: b.name, type: 'internal' }] });
        const ports = [local, ...Object.values(b.ports).map((p) => this.#port(p))];
        const name = this.#name();
        this.ops.push(
          insert(
            'Bridge',
            {
              name: b.name,
              datapath_type: b.datapath,
              stp_enable: b.stp,
              rstp_enable: b.rstp ?? false,
              mcast_snooping_enable: b.mcastSnooping,
              external_ids: OWNER,
              ports: toSet(ports.map(namedUuid)),
              // A bridge re-created by a rollback keeps the MAC it had (the local port's).
              ...(b.mac ? { other_config: toMap({ hwaddr: b.mac }) } : {}),
            },
            name,
          ),
          mutate('Open_vSwitch', [], [insertInto('bridges', toSet([namedUuid(name)]))]),
        );
        return;
      }
      case 'ovs.br.del': {
        const id = this.#state.bridgeUuids[step.bridge.name];
        if (!id) return this.#missing(`bridge ${step.bridge.name}`);
        for (const p of Object.keys(step.bridge.ports)) this.#dropQos(p);
        this.ops.push(mutate('Open_vSwitch', [], [deleteFrom('bridges', toSet([uuid(id)]))]), del('Bridge', [eq('name', step.bridge.name)]));
        this.#deleted.add(step.bridge.name);
        for (const p of Object.keys(step.bridge.ports)) this.#deleted.add(p);
        for (const p of Object.values(step.bridge.ports)) p.interfaces.forEach((i) => this.touchedInterfaces.delete(i.name));
        return;
      }
      case 'ovs.br.set':
        this.ops.push(update('Bridge', [eq('name', step.name)], { stp_enable: step.to.stp, rstp_enable: step.to.rstp ?? false, mcast_snooping_enable: step.to.mcastSnooping }));
        return;
      case 'ovs.port.add': {
        if (this.#tolerant && this.#state.ports[step.port.name] && !this.#deleted.has(step.port.name)) return;
        const name = this.#port(step.port);
        this.ops.push(mutate('Bridge', [eq('name', step.bridge)], [insertInto('ports', toSet([namedUuid(name)]))]));
        return;
      }
      case 'ovs.port.del': {
        const id = this.#state.portUuids[step.port.name];
        if (!id) return this.#missing(`port ${step.port.name}`);
        this.#dropQos(step.port.name);
        this.ops.push(mutate('Bridge', [eq('name', step.bridge)], [deleteFrom('ports', toSet([uuid(id)]))]));
        this.#deleted.add(step.port.name);
        return;
      }
      case 'ovs.port.set':
        this.ops.push(update('Port', [eq('name', step.name)], portColumns(step.to)));
        return;
      case 'ovs.iface.set':
        this.touchedInterfaces.add(step.name);
        this.ops.push(update('Interface', [eq('name', step.name)], { mtu_request: step.to.mtu ?? toSet([]) }));
        return;
      case 'ovs.qos.set': {
        if (!this.#state.portUuids[step.port] || this.#deleted.has(step.port)) return this.#missing(`port ${step.port}`);
        if (this.#tolerant && sameQos(this.#currentQos(step.port), step.to)) return;
        this.#dropQos(step.port);
        if (step.to) this.ops.push(update('Port', [eq('name', step.port)], { qos: namedUuid(this.#qos(step.to)) }));
        return;
      }
    }
  }

  /** The port's QoS row as read just before (netswitch's only). */
  #currentQos(port: string): OvsQosSpec | undefined {
    const bridge = this.#state.ports[port]?.bridge;
    return bridge === undefined ? undefined : this.#state.layout.bridges[bridge]?.ports[port]?.qos;
  }

  /**
   * Takes netswitch's QoS row off the port and deletes it and its queues (root tables: OVSDB
   * would keep them). The reference goes first: a row still referred to cannot be deleted.
   */
  #dropQos(port: string): void {
    const ids = this.#state.qosUuids[port];
    if (!ids || this.#droppedQos.has(port)) return;
    this.#droppedQos.add(port);
    this.ops.push(update('Port', [eq('name', port)], { qos: toSet([]) }), del('QoS', [eq('_uuid', uuid(ids.qos))]));
    for (const q of ids.queues) this.ops.push(del('Queue', [eq('_uuid', uuid(q))]));
  }

  /** Inserts a QoS row and its queues; returns the QoS row's uuid-name. */
  #qos(q: OvsQosSpec): string {
    const queues: [number, Atom][] = Object.entries(q.queues).map(([id, x]) => {
      const name = this.#name();
      const ids: Record<string, string> = { [OWNER_KEY]: OWNER_VALUE, ...(x.network ? { [NETWORK_KEY]: x.network } : {}), ...(x.basis ? { [BASIS_KEY]: x.basis } : {}) };
      const config: Record<string, string> = { ...(x.minRate !== undefined ? { 'min-rate': String(x.minRate) } : {}), ...(x.maxRate !== undefined ? { 'max-rate': String(x.maxRate) } : {}) };
      this.ops.push(insert('Queue', { other_config: toMap(config), external_ids: toMap(ids) }, name));
      return [Number(id), namedUuid(name)];
    });
    const name = this.#name();
    const config: Record<string, string> = q.maxRate !== undefined ? { 'max-rate': String(q.maxRate) } : {};
    this.ops.push(insert('QoS', { type: q.type, other_config: toMap(config), queues: toMap(queues), external_ids: OWNER }, name));
    return name;
  }

  #name(): string {
    return `row${this.#n++}`;
  }

  /** Inserts a port and its interfaces; returns the port's uuid-name. */
  #port(p: OvsPortSpec): string {
    const ifaces = p.interfaces.map((i) => {
      const name = this.#name();
      this.touchedInterfaces.add(i.name);
      const row = { name: i.name, type: i.type, external_ids: OWNER, ...(i.mtu !== undefined ? { mtu_request: i.mtu } : {}), ...(i.mac ? { mac: i.mac } : {}) };
      this.ops.push(insert('Interface', row, name));
      return name;
    });
    const qos: Row = p.qos ? { qos: namedUuid(this.#qos(p.qos)) } : {};
    const name = this.#name();
    this.ops.push(insert('Port', { name: p.name, interfaces: toSet(ifaces.map(namedUuid)), external_ids: OWNER, ...portColumns(p), ...qos }, name));
    return name;
  }

  #missing(what: string): void {
    if (this.#tolerant) return;
    throw new NetswitchError(ErrorCode.Ovsdb, `${what} is not in OVSDB any more`, { hint: 're-run `netswitch plan` to see the current plan' });
  }
}

function portColumns(p: OvsPortSpec | Omit<OvsPortSpec, 'name' | 'interfaces'>): Row {
  const row: Row = { tag: p.tag ?? toSet([]), trunks: toSet(p.trunks ?? []) };
  if (p.bond_mode !== undefined) {
    row.bond_mode = p.bond_mode;
    row.lacp = p.lacp ?? 'off';
    row.bond_updelay = p.bond_updelay ?? 0;
    row.bond_downdelay = p.bond_downdelay ?? 0;
    row.other_config = toMap(p.other_config ?? {});
  }
  return row;
}
