// Database schemas as get_schema returns them (RFC 7047 3.2), and the two facts about a
// column type that reading updates needs: whether its "update2" diffs are element toggles
// (a set or map of more than one element) or the whole new value, and what its default is
// (update2 leaves default-valued columns out of inserted rows).
import { ErrorCode, NetswitchError } from '../model/errors.ts';
import type { Atom, Datum } from './datum.ts';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';

export interface BaseType {
  type: AtomicType;
  enum?: Datum;
  minInteger?: number;
  maxInteger?: number;
  minReal?: number;
  maxReal?: number;
  minLength?: number;
  maxLength?: number;
  refTable?: string;
  refType?: 'strong' | 'weak';
}

export interface ColumnType {
  key: AtomicType | BaseType;
  value?: AtomicType | BaseType;
  min?: number;
  max?: number | 'unlimited';
}

export interface ColumnSchema {
  type: AtomicType | ColumnType;
  ephemeral?: boolean;
  mutable?: boolean;
}

export interface TableSchema {
  columns: Record<string, ColumnSchema>;
  maxRows?: number;
  isRoot?: boolean;
  indexes?: string[][];
}

export interface DatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Record<string, TableSchema>;
}

/** A column type with the defaults of RFC 7047 filled in. */
export interface NormalType {
  key: AtomicType;
  value: AtomicType | undefined;
  min: number;
  /** Infinity for "unlimited". */
  max: number;
}

export function normalType(column: ColumnSchema): NormalType {
  const t = column.type;
  if (typeof t === 'string') return { key: t, value: undefined, min: 1, max: 1 };
  const atomic = (b: AtomicType | BaseType): AtomicType => (typeof b === 'string' ? b : b.type);
  return {
    key: atomic(t.key),
    value: t.value === undefined ? undefined : atomic(t.value),
    min: t.min ?? 1,
    max: t.max === 'unlimited' ? Infinity : (t.max ?? 1),
  };
}

/**
 * How an update2 "modify" carries this column: ovsdb-server sends the whole new value for
 * columns holding at most one element (ovsdb_type_is_composite is false), and otherwise the
 * elements to toggle (sets) or the pairs to add, change or remove (maps).
 */
export function diffKind(type: NormalType): 'replace' | 'set' | 'map' {
  if (type.max <= 1) return 'replace';
  return type.value === undefined ? 'set' : 'map';
}

const ATOM_DEFAULTS: Record<AtomicType, Atom> = {
  integer: 0,
  real: 0,
  boolean: false,
  string: '',
  uuid: ['uuid', '00000000-0000-0000-0000-000000000000'],
};

/** The value a column has when nothing was stored in it, encoded as the server encodes it. */
export function defaultDatum(type: NormalType): Datum {
  const key = ATOM_DEFAULTS[type.key];
  if (type.value !== undefined) return ['map', type.min === 0 ? [] : [[key, ATOM_DEFAULTS[type.value]]]];
  return type.min === 0 ? ['set', []] : key;
}

export function tableSchema(schema: DatabaseSchema, table: string): TableSchema {
  const t = schema.tables[table];
  if (t === undefined) {
    throw new NetswitchError(ErrorCode.Ovsdb, `database ${schema.name} has no table ${table}`, {
      hint: `tables are: ${Object.keys(schema.tables).join(', ')}`,
      context: { db: schema.name, table },
    });
  }
  return t;
}

export function columnSchema(schema: DatabaseSchema, table: string, column: string): ColumnSchema {
  const c = tableSchema(schema, table).columns[column];
  if (c === undefined) {
    throw new NetswitchError(ErrorCode.Ovsdb, `table ${table} of database ${schema.name} has no column ${column}`, {
      context: { db: schema.name, table, column },
    });
  }
  return c;
}
