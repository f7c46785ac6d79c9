// A local copy of the monitored part of a database, kept current by applying the server's
// monitor updates: RFC 7047 "update" (whole new column values) and the "update2"/"update3"
// of ovsdb-server's monitor_cond (only the changed elements of sets and maps, and inserted
// rows without their default-valued columns). Values are stored the way the server encodes
// them, so a replica fed by either kind of monitor holds identical rows.
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import { atomKey, canonicalMap, canonicalSet, fromSet, isMap } from './datum.ts';
import type { Atom, Datum, Row } from './datum.ts';
import { defaultDatum, diffKind, normalType, tableSchema } from './schema.ts';
import type { DatabaseSchema, NormalType } from './schema.ts';

/** RFC 7047 <table-updates>: table -> uuid -> {old, new}. */
export type TableUpdates = Record<string, Record<string, { old?: Row; new?: Row }>>;
/** ovsdb-server's <table-updates2>: table -> uuid -> one of initial/insert/modify/delete. */
export type TableUpdates2 = Record<string, Record<string, { initial?: Row; insert?: Row; modify?: Row; delete?: null }>>;

export interface RowChange {
  table: string;
  uuid: string;
  kind: 'insert' | 'modify' | 'delete';
  /** The row before the change (modify, delete). */
  old?: Readonly<Row>;
  /** The row after the change (insert, modify). */
  new?: Readonly<Row>;
}

export class Replica {
  readonly schema: DatabaseSchema;
  /** Monitored columns per table: update2 inserts omit defaults, which we fill back in. */
  private readonly columns: ReadonlyMap<string, readonly string[]>;
  private readonly types = new Map<string, Map<string, NormalType>>();
  private data = new Map<string, Map<string, Readonly<Row>>>();

  /** `columns` lists the monitored columns of each monitored table; omitted: all of them. */
  constructor(schema: DatabaseSchema, columns: Record<string, readonly string[] | undefined>) {
    this.schema = schema;
    const resolved = new Map<string, readonly string[]>();
    for (const [table, cols] of Object.entries(columns)) {
      const t = tableSchema(schema, table);
      const names = cols ?? Object.keys(t.columns);
      const types = new Map<string, NormalType>();
      for (const name of names) {
        const c = t.columns[name];
        if (c !== undefined) types.set(name, normalType(c)); // _uuid/_version have no schema entry
      }
      resolved.set(table, names);
      this.types.set(table, types);
      this.data.set(table, new Map());
    }
    this.columns = resolved;
  }

  /** Monitored tables. */
  get tableNames(): string[] {
    return [...this.data.keys()];
  }

  /** The rows of a monitored table by UUID (empty for a table not monitored). */
  table(name: string): ReadonlyMap<string, Readonly<Row>> {
    return this.data.get(name) ?? new Map();
  }

  get(table: string, uuid: string): Readonly<Row> | undefined {
    return this.data.get(table)?.get(uuid);
  }

  /** The first row of `table` for which `predicate` holds. */
  find(table: string, predicate: (row: Readonly<Row>, uuid: string) => boolean): { uuid: string; row: Readonly<Row> } | undefined {
    for (const [uuid, row] of this.table(table)) if (predicate(row, uuid)) return { uuid, row };
    return undefined;
  }

  /** Number of rows over all tables. */
  get size(): number {
    let n = 0;
    for (const t of this.data.values()) n += t.size;
    return n;
  }

  /** Plain-object copy, for logging or comparing in tests. */
  toJSON(): Record<string, Record<string, Row>> {
    const out: Record<string, Record<string, Row>> = {};
    for (const [table, rows] of this.data) out[table] = Object.fromEntries([...rows].map(([u, r]) => [u, { ...r }]));
    return out;
  }

  /** Apply an RFC 7047 "update" (or a monitor reply's initial contents). */
  applyUpdate(updates: TableUpdates): RowChange[] {
    const changes: RowChange[] = [];
    for (const [table, rows] of Object.entries(updates)) {
      const current = this.rowsOf(table);
      for (const [uuid, { old: oldCols, new: newCols }] of Object.entries(rows)) {
        const before = current.get(uuid);
        if (newCols === undefined) {
          if (before !== undefined) this.remove(changes, table, uuid, before);
        } else if (oldCols === undefined && before === undefined) {
          this.put(changes, table, uuid, undefined, { ...newCols });
        } else {
          // "new" holds every monitored column, "old" only the ones that changed.
          this.put(changes, table, uuid, before, { ...before, ...newCols });
        }
      }
    }
    return changes;
  }

  /** Apply an "update2" (or the table-updates2 of an "update3", or a monitor_cond reply). */
  applyUpdate2(updates: TableUpdates2): RowChange[] {
    const changes: RowChange[] = [];
    for (const [table, rows] of Object.entries(updates)) {
      const current = this.rowsOf(table);
      for (const [uuid, update] of Object.entries(rows)) {
        const before = current.get(uuid);
        const inserted = update.initial ?? update.insert;
        if (inserted !== undefined) {
          this.put(changes, table, uuid, before, this.withDefaults(table, inserted));
        } else if (update.modify !== undefined) {
          if (before === undefined) throw inconsistent(table, uuid, 'modify');
          this.put(changes, table, uuid, before, this.applyDiff(table, before, update.modify));
        } else if ('delete' in update) {
          if (before !== undefined) this.remove(changes, table, uuid, before);
        }
      }
    }
    return changes;
  }

  /**
   * Take over the contents of `fresh` (the same monitor re-established after a reconnect)
   * and report what differs, as if the changes made while disconnected had been seen.
   */
  replaceWith(fresh: Replica): RowChange[] {
    const changes: RowChange[] = [];
    for (const [table, rows] of this.data) {
      const next = fresh.table(table);
      for (const [uuid, row] of rows) if (!next.has(uuid)) changes.push({ table, uuid, kind: 'delete', old: row });
      for (const [uuid, row] of next) {
        const before = rows.get(uuid);
        if (before === undefined) changes.push({ table, uuid, kind: 'insert', new: row });
        else if (!isDeepStrictEqual(before, row)) changes.push({ table, uuid, kind: 'modify', old: before, new: row });
      }
    }
    this.data = new Map([...this.data.keys()].map((t) => [t, new Map(fresh.table(t))]));
    return changes;
  }

  clear(): void {
    for (const rows of this.data.values()) rows.clear();
  }

  private rowsOf(table: string): Map<string, Readonly<Row>> {
    const rows = this.data.get(table);
    if (rows === undefined) {
      throw new NetswitchError(ErrorCode.Ovsdb, `OVSDB sent an update for table ${table}, which is not monitored`, {
        context: { table },
      });
    }
    return rows;
  }

  private put(changes: RowChange[], table: string, uuid: string, before: Readonly<Row> | undefined, after: Row): void {
    this.rowsOf(table).set(uuid, after);
    changes.push(before === undefined ? { table, uuid, kind: 'insert', new: after } : { table, uuid, kind: 'modify', old: before, new: after });
  }

  private remove(changes: RowChange[], table: string, uuid: string, before: Readonly<Row>): void {
    this.rowsOf(table).delete(uuid);
    changes.push({ table, uuid, kind: 'delete', old: before });
  }

  private withDefaults(table: string, row: Row): Row {
    const types = this.types.get(table)!;
    const out: Row = {};
    for (const name of this.columns.get(table)!) {
      const type = types.get(name);
      const value = row[name];
      if (value !== undefined) out[name] = value;
      else if (type !== undefined) out[name] = defaultDatum(type);
    }
    return out;
  }

  private applyDiff(table: string, before: Readonly<Row>, diff: Row): Row {
    const types = this.types.get(table)!;
    const out: Row = { ...before };
    for (const [name, change] of Object.entries(diff)) {
      const type = types.get(name);
      const kind = type === undefined ? 'replace' : diffKind(type);
      const old = before[name] ?? (type ? defaultDatum(type) : undefined);
      if (kind === 'replace' || old === undefined) out[name] = change;
      else if (kind === 'set') out[name] = toggleElements(old, change);
      else out[name] = patchMap(old, change);
    }
    return out;
  }
}

/** update2 set diff: each listed element is added if absent and removed if present. */
function toggleElements(old: Datum, diff: Datum): Datum {
  const elements = new Map<string, Atom>(fromSet(old).map((a) => [atomKey(a), a]));
  for (const a of fromSet(diff)) {
    const k = atomKey(a);
    if (elements.has(k)) elements.delete(k);
    else elements.set(k, a);
  }
  return canonicalSet([...elements.values()]);
}

/** update2 map diff: a pair equal to the old one removes it, any other pair sets its key. */
function patchMap(old: Datum, diff: Datum): Datum {
  if (!isMap(old) || !isMap(diff)) return diff;
  const pairs = new Map<string, readonly [Atom, Atom]>(old[1].map((p) => [atomKey(p[0]), p]));
  for (const [k, v] of diff[1]) {
    const key = atomKey(k);
    const existing = pairs.get(key);
    if (existing !== undefined && atomKey(existing[1]) === atomKey(v)) pairs.delete(key);
    else pairs.set(key, [k, v]);
  }
  return canonicalMap([...pairs.values()]);
}

function inconsistent(table: string, uuid: string, what: string): NetswitchError {
  return new NetswitchError(ErrorCode.Ovsdb, `OVSDB sent a ${what} for row ${uuid} of ${table}, which the replica does not hold`, {
    hint: 'the replica is out of step with the server; cancel the monitor and start it again',
    context: { table, uuid },
  });
}
