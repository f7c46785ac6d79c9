// One monitor of a database: the request as the caller gave it, the replica it keeps, and
// the listeners told about every change. It is written to survive reconnects: the client
// calls start() again on the new connection and the replica is refreshed in place.
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import type { Connection } from './connection.ts';
import type { Condition } from './datum.ts';
import { Replica } from './replica.ts';
import type { RowChange, TableUpdates, TableUpdates2 } from './replica.ts';
import type { DatabaseSchema } from './schema.ts';

/** Which kinds of change to report (RFC 7047 <monitor-select>); all true when omitted. */
export interface MonitorSelect {
  initial?: boolean;
  insert?: boolean;
  delete?: boolean;
  modify?: boolean;
}

export interface MonitorRequest {
  /** Columns to watch; all columns when omitted. */
  columns?: readonly string[];
  /** Only rows matching all of these (needs monitor_cond; the server filters). */
  where?: readonly Condition[];
  select?: MonitorSelect;
}

/** Table name -> what to watch in it. */
export type MonitorRequests = Record<string, MonitorRequest | readonly MonitorRequest[]>;
export type MonitorMethod = 'monitor' | 'monitor_cond';
export type ChangeListener = (changes: readonly RowChange[], monitor: Monitor) => void;

type Notification = { method: 'update'; updates: TableUpdates } | { method: 'update2' | 'update3'; updates: TableUpdates2 };

export class Monitor {
  readonly db: string;
  readonly id: string;
  readonly requests: MonitorRequests;
  readonly replica: Replica;
  /** What the caller asked for: a method, or 'auto' (monitor_cond if the server has it). */
  readonly requestedMethod: MonitorMethod | 'auto';
  private readonly listeners = new Set<ChangeListener>();
  private readonly cancelHook: (monitor: Monitor) => Promise<void>;
  private currentMethod: MonitorMethod | undefined;
  /** Updates that arrived before the reply with the initial contents was applied. */
  private early: Notification[] | undefined;
  private isActive = true;

  constructor(
    db: string,
    id: string,
    requests: MonitorRequests,
    schema: DatabaseSchema,
    requestedMethod: MonitorMethod | 'auto',
    cancelHook: (monitor: Monitor) => Promise<void>,
  ) {
    this.db = db;
    this.requestedMethod = requestedMethod;
    this.id = id;
    this.requests = requests;
    this.cancelHook = cancelHook;
    this.replica = new Replica(schema, monitoredColumns(requests));
  }

  /** The method in use: monitor_cond when the server has it, else RFC 7047 monitor. */
  get method(): MonitorMethod | undefined {
    return this.currentMethod;
  }

  /** False once cancelled or its client closed. */
  get active(): boolean {
    return this.isActive;
  }

  /** Listen to changes of the replica (the initial contents are not reported). */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop the monitor (monitor_cancel); the replica keeps its last contents. */
  cancel(): Promise<void> {
    return this.cancelHook(this);
  }

  /** Called by the client: send the monitor request and load the initial contents. */
  async start(conn: Connection, method: MonitorMethod, refresh: boolean, timeoutMs?: number): Promise<void> {
    // The server may send an update right behind its reply, in the same chunk; its handler
    // runs before our await resumes, so updates wait here until the initial rows are in.
    this.early = [];
    try {
      const result = await conn.request(method, [this.db, this.id, encodeRequests(method, this.requests)], { timeoutMs });
      this.currentMethod = method;
      if (refresh) {
        const fresh = new Replica(this.replica.schema, monitoredColumns(this.requests));
        load(fresh, method, result);
        this.emit(this.replica.replaceWith(fresh));
      } else {
        load(this.replica, method, result);
      }
      const early = this.early;
      this.early = undefined;
      for (const n of early) this.handle(n.method, n.updates);
    } finally {
      this.early = undefined;
    }
  }

  /** Called by the client for each update/update2/update3 notification with our id. */
  handle(method: 'update' | 'update2' | 'update3', updates: unknown): void {
    if (!this.isActive) return;
    if (this.early !== undefined) {
      this.early.push({ method, updates } as Notification);
      return;
    }
    const changes =
      method === 'update' ? this.replica.applyUpdate(updates as TableUpdates) : this.replica.applyUpdate2(updates as TableUpdates2);
    this.emit(changes);
  }

  /** Called by the client when the monitor ends. */
  deactivate(): void {
    this.isActive = false;
    this.early = undefined;
  }

  private emit(changes: readonly RowChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(changes, this);
      } catch (e) {
        process.emitWarning(`OVSDB monitor ${this.id} listener failed: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  }
}

function load(replica: Replica, method: MonitorMethod, result: unknown): void {
  const updates = (result ?? {}) as TableUpdates & TableUpdates2;
  if (method === 'monitor') replica.applyUpdate(updates);
  else replica.applyUpdate2(updates);
}

function asList(r: MonitorRequest | readonly MonitorRequest[]): readonly MonitorRequest[] {
  return Array.isArray(r) ? r : [r as MonitorRequest];
}

/** The union of the columns of every request per table (undefined: all columns). */
function monitoredColumns(requests: MonitorRequests): Record<string, string[] | undefined> {
  const out: Record<string, string[] | undefined> = {};
  for (const [table, r] of Object.entries(requests)) {
    const list = asList(r);
    out[table] = list.some((x) => x.columns === undefined) ? undefined : [...new Set(list.flatMap((x) => x.columns ?? []))];
  }
  return out;
}

function encodeRequests(method: MonitorMethod, requests: MonitorRequests): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [table, r] of Object.entries(requests)) {
    out[table] = asList(r).map((req) => {
      const wire: Record<string, unknown> = {};
      if (req.columns !== undefined) wire.columns = req.columns;
      if (req.select !== undefined) wire.select = req.select;
      if (req.where !== undefined && req.where.length > 0) {
        if (method === 'monitor') {
          throw new NetswitchError(ErrorCode.Ovsdb, `monitoring ${table} with conditions needs monitor_cond, which this server lacks`, {
            hint: 'drop the where clause and filter the replica instead',
            context: { table },
          });
        }
        wire.where = req.where;
      }
      return wire;
    });
  }
  return out;
}
