// JSON-RPC 1.0 as OVSDB speaks it (RFC 7047 4): requests carry an id that the reply repeats,
// notifications carry `"id": null`, and either side may send requests — ovsdb-server sends
// "echo" to check we are alive and drops us if we do not answer. This layer only pairs
// replies with requests, times them out and dispatches notifications; what the methods mean
// is client.ts's business. The byte stream is passed in, so tests can use a socket pair.
import type { Duplex } from 'node:stream';
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import { JsonFramer } from './framer.ts';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ConnectionOptions {
  /** Largest message accepted from the peer (see JsonFramer). */
  maxMessageBytes?: number;
  /** Default per-request timeout in ms; 0 waits forever (default 30 s). */
  timeoutMs?: number;
  /** Names the peer in error messages, e.g. "unix:/run/openvswitch/db.sock". */
  label?: string;
  /** Called when a notification handler throws (default: a process warning). */
  onHandlerError?: (error: unknown, method: string) => void;
}

export interface RequestOptions {
  /** Overrides the connection's default timeout for this request; 0 waits forever. */
  timeoutMs?: number;
  /**
   * On timeout, also send OVSDB's "cancel" notification for the request, so that a
   * transaction blocked in a "wait" operation is abandoned by the server too.
   */
  cancelOnTimeout?: boolean;
}

export type NotificationHandler = (params: unknown[]) => void;
export type CloseHandler = (error: Error | undefined) => void;

/** An OVSDB error as it appears in a reply or an operation result. */
export interface OvsdbErrorObject {
  error: string;
  details?: string;
  [key: string]: unknown;
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

type Message = Record<string, unknown>;

export class Connection {
  readonly transport: Duplex;
  readonly label: string;
  private readonly framer: JsonFramer;
  private readonly timeoutMs: number;
  private readonly onHandlerError: (error: unknown, method: string) => void;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private readonly closeHandlers = new Set<CloseHandler>();
  private nextId = 1;
  private isClosed = false;
  private closeError: Error | undefined;
  /** When the peer last sent anything (ms since epoch); an inactivity probe reads it. */
  lastReceivedAt = Date.now();

  constructor(transport: Duplex, options: ConnectionOptions = {}) {
    this.transport = transport;
    this.label = options.label ?? 'ovsdb';
    this.framer = new JsonFramer({ maxMessageBytes: options.maxMessageBytes });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.onHandlerError =
      options.onHandlerError ??
      ((e, method) => process.emitWarning(`OVSDB ${method} handler failed: ${e instanceof Error ? e.stack : String(e)}`));
    transport.on('data', (chunk: Buffer | string) => this.receive(chunk));
    transport.on('error', (e: Error) => this.close(e));
    // OVSDB has no use for half-closed streams: the peer's end is the end of the session.
    transport.on('end', () => this.close());
    transport.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Requests sent and not yet answered. */
  get pendingCount(): number {
    return this.pending.size;
  }

  request<T = unknown>(method: string, params: readonly unknown[], options: RequestOptions = {}): Promise<T> {
    if (this.isClosed) return Promise.reject(this.closedError(method));
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { method, resolve: resolve as (r: unknown) => void, reject, timer: undefined };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          if (options.cancelOnTimeout) this.notify('cancel', [id]);
          reject(
            new NetswitchError(ErrorCode.Timeout, `OVSDB ${method} request to ${this.label} timed out after ${timeoutMs} ms`, {
              hint: 'ovsdb-server may be overloaded or stuck; large transactions may need a longer timeoutMs',
              context: { method, id, timeoutMs },
            }),
          );
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      this.send({ method, params, id });
    });
  }

  notify(method: string, params: readonly unknown[]): void {
    if (!this.isClosed) this.send({ method, params, id: null });
  }

  /** Handle notifications of `method` ("update2", "locked", ...); returns an unsubscribe function. */
  onNotification(method: string, handler: NotificationHandler): () => void {
    let set = this.handlers.get(method);
    if (set === undefined) this.handlers.set(method, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Called once, when the connection closes; `error` is why, if it was not an orderly close. */
  onClose(handler: CloseHandler): () => void {
    if (this.isClosed) {
      queueMicrotask(() => handler(this.closeError));
      return () => {};
    }
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  /** Close the stream and reject every request still waiting for its reply. */
  close(error?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeError = error;
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      if (entry.timer) clearTimeout(entry.timer);
      entry.reject(this.closedError(entry.method));
    }
    this.framer.reset();
    this.transport.destroy();
    for (const handler of this.closeHandlers) handler(error);
    this.closeHandlers.clear();
  }

  private send(message: Message): void {
    // A write error surfaces as the transport's 'error' event, which closes us.
    this.transport.write(JSON.stringify(message));
  }

  private receive(chunk: Buffer | string): void {
    this.lastReceivedAt = Date.now();
    let messages: unknown[];
    try {
      messages = this.framer.push(chunk);
    } catch (e) {
      this.close(e as Error);
      return;
    }
    for (const message of messages) {
      if (this.isClosed) return;
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        this.close(new NetswitchError(ErrorCode.Ovsdb, `OVSDB protocol error: ${this.label} sent a message that is not an object`));
        return;
      }
      this.dispatch(message as Message);
    }
  }

  private dispatch(message: Message): void {
    const { method, id } = message;
    if (typeof method === 'string') {
      const params = Array.isArray(message.params) ? (message.params as unknown[]) : [];
      if (id === null || id === undefined) this.notifyHandlers(method, params);
      else if (method === 'echo') this.send({ id, result: params, error: null });
      else this.send({ id, result: null, error: { error: 'unknown method', details: `this client does not serve ${method}` } });
      return;
    }
    if (typeof id !== 'number') return; // not a reply to us: nothing to pair it with
    const entry = this.pending.get(id);
    if (entry === undefined) return; // the reply to a request that already timed out
    this.pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    if (message.error !== null && message.error !== undefined) entry.reject(serverError(entry.method, message.error, this.label));
    else entry.resolve(message.result);
  }

  private notifyHandlers(method: string, params: unknown[]): void {
    for (const handler of this.handlers.get(method) ?? []) {
      try {
        handler(params);
      } catch (e) {
        this.onHandlerError(e, method);
      }
    }
  }

  private closedError(method: string): NetswitchError {
    const why = this.closeError ? `: ${this.closeError.message}` : '';
    return new NetswitchError(ErrorCode.Ovsdb, `OVSDB connection to ${this.label} closed before ${method} was answered${why}`, {
      hint: 'check that ovsdb-server is still running; a transaction in flight may or may not have been committed',
      cause: this.closeError,
      context: { method, target: this.label },
    });
  }
}

/** Normalizes the two forms ovsdb-server uses: a bare string ("unknown method") or an object. */
export function toOvsdbError(error: unknown): OvsdbErrorObject {
  if (typeof error === 'string') return { error };
  if (typeof error === 'object' && error !== null && typeof (error as OvsdbErrorObject).error === 'string') {
    return error as OvsdbErrorObject;
  }
  return { error: JSON.stringify(error) };
}

export function serverError(method: string, raw: unknown, target?: string): NetswitchError {
  const e = toOvsdbError(raw);
  const details = e.details ? `: ${e.details}` : '';
  return new NetswitchError(ErrorCode.Ovsdb, `OVSDB ${method} failed: ${e.error}${details}`, {
    context: { method, error: e.error, details: e.details, target },
  });
}
