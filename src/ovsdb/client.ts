// The typed OVSDB API (RFC 7047 4.1 plus ovsdb-server's monitor_cond): list_dbs,
// get_schema, transact, monitor, locks, echo, with optional reconnection that re-establishes
// monitors and locks. Everything protocol-level is in connection.ts; this file decides what
// the methods mean and turns failures into NetswitchErrors a user can act on.
import { EventEmitter } from 'node:events';
import { ErrorCode, NetswitchError, isNetswitchError } from '../model/errors.ts';
import { Connection, toOvsdbError } from './connection.ts';
import type { RequestOptions } from './connection.ts';
import { comment, requireId } from './datum.ts';
import type { Operation, TransactResults } from './datum.ts';
import { Monitor } from './monitor.ts';
import type { MonitorMethod, MonitorRequests } from './monitor.ts';
import type { DatabaseSchema } from './schema.ts';
import { openSocket, parseTarget } from './transport.ts';
import type { OvsdbTarget } from './transport.ts';

export interface ReconnectOptions {
  /** First delay after a disconnect (default 100 ms); doubled (`factor`) after each failure. */
  initialDelayMs?: number;
  /** Longest delay between attempts (default 5 s). */
  maxDelayMs?: number;
  factor?: number;
  /** Give up after this many failed attempts (default: never). */
  maxAttempts?: number;
}

export interface ClientOptions {
  /** Default per-request timeout (default 30 s); 0 waits forever. */
  timeoutMs?: number;
  /** How long connecting may take (default 5 s). */
  connectTimeoutMs?: number;
  /** Largest message accepted from the server (default 64 MiB). */
  maxMessageBytes?: number;
  /** Reconnect after the connection drops, restoring monitors and locks (default off). */
  reconnect?: boolean | ReconnectOptions;
  /** Send an echo when the server was silent this long, and drop the connection if it stays silent (default off). */
  probeIntervalMs?: number;
}

export interface TransactOptions {
  /** Appended as a "comment" operation: ovsdb-server logs it with the transaction. */
  comment?: string;
  /** Defaults to the client's timeout plus the longest "wait" operation timeout. */
  timeoutMs?: number;
}

export interface MonitorOptions {
  /** 'auto' (default) uses monitor_cond when the server has it, else monitor. */
  method?: MonitorMethod | 'auto';
}

export type ClientEvents = {
  /** The connection dropped; with reconnect on, attempts follow. */
  disconnected: [error: Error | undefined];
  reconnecting: [attempt: number, delayMs: number];
  /** Connected again, monitors re-established and their replicas refreshed. */
  reconnected: [];
  /** For good: close() was called, or reconnecting is off or gave up. */
  closed: [error: Error | undefined];
  /** A lock asked for with lock() was granted later. */
  locked: [lockId: string];
  /** Another client took a lock we held, with steal. */
  stolen: [lockId: string];
};

const RECONNECT_DEFAULTS: Required<ReconnectOptions> = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2, maxAttempts: Infinity };

export class OvsdbClient extends EventEmitter<ClientEvents> {
  readonly target: OvsdbTarget;
  private readonly options: ClientOptions;
  private readonly reconnectOptions: Required<ReconnectOptions> | undefined;
  private conn: Connection | undefined;
  private readonly monitors = new Map<string, Monitor>();
  /** Locks asked for and not released, re-requested after a reconnect. */
  private readonly locks = new Set<string>();
  private readonly schemas = new Map<string, Promise<DatabaseSchema>>();
  /** Whether the server knows monitor_cond; learnt at the first monitor. */
  private monitorCond: boolean | undefined;
  private closing = false;
  private finished = false;
  private reconnecting = false;
  private wakeUp: (() => void) | undefined;
  private probeTimer: NodeJS.Timeout | undefined;

  private constructor(target: OvsdbTarget, options: ClientOptions) {
    super();
    parseTarget(target); // fail early on a malformed target
    this.target = target;
    this.options = options;
    const r = options.reconnect;
    this.reconnectOptions = r ? { ...RECONNECT_DEFAULTS, ...(r === true ? {} : r) } : undefined;
  }

  /** Connect to ovsdb-server; fails at once if it cannot be reached, even with reconnect on. */
  static async connect(target: OvsdbTarget, options: ClientOptions = {}): Promise<OvsdbClient> {
    const client = new OvsdbClient(target, options);
    await client.open();
    return client;
  }

  get connected(): boolean {
    return this.conn !== undefined && !this.conn.closed && !this.reconnecting;
  }

  listDbs(): Promise<string[]> {
    return this.request<string[]>('list_dbs', []);
  }

  /** The schema of `db`, fetched once per connection. */
  async getSchema(db: string): Promise<DatabaseSchema> {
    return this.schemaOn(this.connection('get_schema'), db);
  }

  /**
   * Run `ops` as one transaction. Resolves to the operations' results, position for
   * position; throws a NetswitchError naming the failing operation if any failed, or the
   * commit's error (RFC 7047: an extra trailing result) if the commit did.
   */
  async transact<const Ops extends readonly Operation[]>(db: string, ops: Ops, options: TransactOptions = {}): Promise<TransactResults<Ops>> {
    const all: Operation[] = [...ops];
    if (options.comment !== undefined) all.push(comment(options.comment));
    // A "wait" may legitimately hold the reply back for its whole timeout.
    const waitMs = Math.max(0, ...ops.map((op) => (op.op === 'wait' ? (op.timeout ?? 0) : 0)));
    const base = this.options.timeoutMs ?? 30_000;
    const timeoutMs = options.timeoutMs ?? (base === 0 ? 0 : base + waitMs);
    const results = await this.request<unknown>('transact', [db, ...all], { timeoutMs, cancelOnTimeout: true });
    if (!Array.isArray(results)) {
      throw new NetswitchError(ErrorCode.Ovsdb, `OVSDB transact on ${db} returned ${JSON.stringify(results)} instead of a list of results`);
    }
    // After a failed operation the rest are null; a commit failure is one extra element.
    for (const [index, result] of results.entries()) {
      if (typeof result === 'object' && result !== null && 'error' in result) throw transactError(db, all, index, result);
    }
    return results.slice(0, ops.length) as TransactResults<Ops>;
  }

  /** The server answers with the same values; a round trip to check the connection. */
  echo(...params: unknown[]): Promise<unknown[]> {
    return this.request<unknown[]>('echo', params);
  }

  /**
   * Start monitoring `requests` of `db` under `id` (unique per client). The returned Monitor's
   * replica holds the rows and follows every change; it is re-established after reconnects.
   */
  async monitor(db: string, id: string, requests: MonitorRequests, options: MonitorOptions = {}): Promise<Monitor> {
    if (this.monitors.has(id)) {
      throw new NetswitchError(ErrorCode.Ovsdb, `an OVSDB monitor with id '${id}' is already active`, { context: { id } });
    }
    const conn = this.connection('monitor');
    const schema = await this.schemaOn(conn, db);
    const monitor = new Monitor(db, id, requests, schema, options.method ?? 'auto', (m) => this.monitorCancel(m.id));
    this.monitors.set(id, monitor);
    try {
      await this.startMonitor(conn, monitor, false);
    } catch (e) {
      this.monitors.delete(id);
      monitor.deactivate();
      throw e;
    }
    return monitor;
  }

  /** Stop the monitor `id`; its replica keeps its last contents. */
  async monitorCancel(id: string): Promise<void> {
    const monitor = this.monitors.get(id);
    this.monitors.delete(id);
    monitor?.deactivate();
    if (this.connected) await this.request('monitor_cancel', [id]);
  }

  /**
   * Ask for the named lock. True if granted now; otherwise the server queues the request and
   * the client emits 'locked' when it is granted.
   */
  async lock(id: string): Promise<boolean> {
    const result = await this.request<{ locked?: boolean }>('lock', [requireId(id, 'lock name')]);
    this.locks.add(id);
    return result.locked === true;
  }

  /** Take the named lock even if another client holds it (that client gets 'stolen'). */
  async steal(id: string): Promise<void> {
    await this.request('steal', [requireId(id, 'lock name')]);
    this.locks.add(id);
  }

  async unlock(id: string): Promise<void> {
    this.locks.delete(id);
    await this.request('unlock', [id]);
  }

  /** Any other method, for what the typed API does not cover (e.g. monitor_cond_change). */
  async request<T = unknown>(method: string, params: readonly unknown[], options?: RequestOptions): Promise<T> {
    return this.connection(method).request<T>(method, params, options);
  }

  /** Close the connection and stop reconnecting; pending requests are rejected. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wakeUp?.();
    const conn = this.conn;
    if (conn !== undefined && !conn.closed) {
      const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
      conn.close();
      await closed;
    } else if (!this.reconnecting) {
      this.finish(undefined);
    }
  }

  /** The live connection, or a NetswitchError saying why there is none. */
  private connection(method: string): Connection {
    const conn = this.conn;
    if (conn === undefined || conn.closed || this.reconnecting || this.closing) {
      throw new NetswitchError(ErrorCode.Ovsdb, `not connected to OVSDB at ${this.target}${this.reconnecting ? ' (reconnecting)' : ''}`, {
        hint: this.closing ? 'the client was closed' : 'check that ovsdb-server is running; the client reconnects if asked to',
        context: { method, target: this.target },
      });
    }
    return conn;
  }

  private schemaOn(conn: Connection, db: string): Promise<DatabaseSchema> {
    let schema = this.schemas.get(db);
    if (schema === undefined) {
      schema = conn.request<DatabaseSchema>('get_schema', [db]);
      schema.catch(() => this.schemas.delete(db));
      this.schemas.set(db, schema);
    }
    return schema;
  }

  /** Emit 'closed' once, and stop the monitors for good. */
  private finish(error: Error | undefined): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.probeTimer);
    for (const m of this.monitors.values()) m.deactivate();
    this.monitors.clear();
    this.emit('closed', error);
  }

  private async open(): Promise<Connection> {
    const socket = await openSocket(this.target, this.options.connectTimeoutMs ?? 5000);
    const conn = new Connection(socket, {
      label: this.target,
      timeoutMs: this.options.timeoutMs,
      maxMessageBytes: this.options.maxMessageBytes,
    });
    for (const method of ['update', 'update2', 'update3'] as const) {
      conn.onNotification(method, (params) => {
        // update3 carries the last transaction id between the monitor id and the updates.
        const monitor = typeof params[0] === 'string' ? this.monitors.get(params[0]) : undefined;
        monitor?.handle(method, method === 'update3' ? params[2] : params[1]);
      });
    }
    conn.onNotification('locked', (params) => this.emit('locked', String(params[0])));
    conn.onNotification('stolen', (params) => this.emit('stolen', String(params[0])));
    conn.onClose((error) => this.disconnected(conn, error));
    this.conn = conn;
    this.schemas.clear();
    this.monitorCond = undefined; // the server may have been replaced by another version
    this.startProbe(conn);
    return conn;
  }

  private async startMonitor(conn: Connection, monitor: Monitor, refresh: boolean): Promise<void> {
    const wanted = monitor.requestedMethod;
    if (wanted !== 'monitor' && this.monitorCond !== false) {
      try {
        await monitor.start(conn, 'monitor_cond', refresh);
        this.monitorCond = true;
        return;
      } catch (e) {
        if (wanted === 'monitor_cond' || !isNetswitchError(e) || e.context.error !== 'unknown method') throw e;
        this.monitorCond = false;
      }
    }
    await monitor.start(conn, 'monitor', refresh);
  }

  private disconnected(conn: Connection, error: Error | undefined): void {
    if (conn !== this.conn) return;
    clearInterval(this.probeTimer);
    if (this.closing) {
      this.finish(error);
      return;
    }
    // While reconnecting, the loop notices a failure through its own requests.
    if (this.reconnecting) return;
    this.emit('disconnected', error);
    if (this.reconnectOptions === undefined) {
      this.finish(error);
      return;
    }
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const opts = this.reconnectOptions!;
    this.reconnecting = true;
    let delay = opts.initialDelayMs;
    let lastError: unknown;
    for (let attempt = 1; attempt <= opts.maxAttempts && !this.closing; attempt++) {
      this.emit('reconnecting', attempt, delay);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
      if (this.closing) break;
      try {
        const conn = await this.open();
        if (this.closing) {
          conn.close(); // close() came while we were connecting
          break;
        }
        await this.restore(conn);
        this.reconnecting = false;
        this.emit('reconnected');
        return;
      } catch (e) {
        lastError = e;
        if (this.conn !== undefined && !this.conn.closed) this.conn.close();
        delay = Math.min(delay * opts.factor, opts.maxDelayMs);
      }
    }
    this.reconnecting = false;
    this.finish(lastError instanceof Error ? lastError : undefined);
  }

  /** After a reconnect: ask for our locks again and re-establish every monitor. */
  private async restore(conn: Connection): Promise<void> {
    for (const id of this.locks) {
      const result = await conn.request<{ locked?: boolean }>('lock', [id]);
      if (result.locked === true) this.emit('locked', id);
    }
    for (const monitor of this.monitors.values()) {
      await this.startMonitor(conn, monitor, true);
    }
  }

  private startProbe(conn: Connection): void {
    const interval = this.options.probeIntervalMs ?? 0;
    if (interval <= 0) return;
    let probing = false;
    this.probeTimer = setInterval(() => {
      if (probing || conn.closed || Date.now() - conn.lastReceivedAt < interval) return;
      probing = true;
      conn.request('echo', ['probe'], { timeoutMs: interval }).then(
        () => (probing = false),
        (e: Error) => conn.close(new NetswitchError(ErrorCode.Timeout, `OVSDB at ${this.target} stopped answering`, { cause: e })),
      );
    }, interval).unref();
  }
}

const ERROR_HINTS: Record<string, string> = {
  'constraint violation': "a value breaks the schema's constraints (range, enum, size) or a unique index",
  'referential integrity violation': 'a row refers to a row that does not exist (or a strong reference was deleted)',
  'timed out': 'the "wait" condition did not hold within its timeout',
  'not owner': 'the transaction asserts a lock this client does not hold',
  'resources exhausted': 'the transaction makes a table exceed its maxRows or the database its size limit',
  'unknown column': 'the column is not in the schema of this ovsdb-server',
  'syntax error': 'the operation is malformed for this schema',
};

function transactError(db: string, ops: readonly Operation[], index: number, raw: object): NetswitchError {
  const e = toOvsdbError(raw);
  const details = e.details ? `: ${e.details}` : '';
  const op = ops[index] as Operation | undefined;
  const table = op !== undefined && 'table' in op ? op.table : undefined;
  const what = op === undefined ? 'failed to commit' : `failed at operation ${index + 1} of ${ops.length} (${op.op}${table ? ` on ${table}` : ''})`;
  return new NetswitchError(ErrorCode.Ovsdb, `OVSDB transaction on ${db} ${what}: ${e.error}${details}`, {
    hint: ERROR_HINTS[e.error],
    context: { db, index, op: op?.op ?? 'commit', table, error: e.error, details: e.details, operation: op },
  });
}
