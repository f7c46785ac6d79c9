// OVSDB values as they travel (RFC 7047 section 5.1) and the operations of a transaction
// (section 5.2). Values stay in their wire form — `["uuid", ...]`, `["set", [...]]`,
// `["map", [[k, v], ...]]` — so nothing is lost between what the server sent and what we send
// back; the helpers here build and read them. A set of one element may arrive as the bare
// element (the server does that), so readers accept both.
import { ErrorCode, NetswitchError } from '../model/errors.ts';

export type Uuid = readonly ['uuid', string];
export type NamedUuid = readonly ['named-uuid', string];
export type Atom = string | number | boolean | Uuid | NamedUuid;
export type OvsSet = readonly ['set', readonly Atom[]];
export type OvsMap = readonly ['map', readonly (readonly [Atom, Atom])[]];
export type Datum = Atom | OvsSet | OvsMap;
/** A row, or the columns of a row that an operation or update names. */
export type Row = Record<string, Datum>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalidValue(message: string, value: unknown): NetswitchError {
  return new NetswitchError(ErrorCode.Ovsdb, message, { context: { value } });
}

export function uuid(value: string): Uuid {
  if (!UUID_RE.test(value)) throw invalidValue(`'${value}' is not a UUID`, value);
  return ['uuid', value.toLowerCase()];
}

/**
 * uuid-names and lock names must be RFC 7047 <id>s; the server rejects anything else with a
 * less clear "syntax error" ("lock request params must be <id>" for 'my-lock').
 */
export function requireId(name: string, what: string): string {
  if (!ID_RE.test(name)) throw invalidValue(`'${name}' is not a valid ${what} (letters, digits, '_'; not starting with a digit)`, name);
  return name;
}

/** A reference to a row inserted earlier in the same transaction with `insert(..., name)`. */
export function namedUuid(name: string): NamedUuid {
  return ['named-uuid', requireId(name, 'uuid-name')];
}

export function isUuid(value: unknown): value is Uuid {
  return Array.isArray(value) && value.length === 2 && value[0] === 'uuid' && typeof value[1] === 'string';
}

export function isNamedUuid(value: unknown): value is NamedUuid {
  return Array.isArray(value) && value.length === 2 && value[0] === 'named-uuid' && typeof value[1] === 'string';
}

export function isSet(value: unknown): value is OvsSet {
  return Array.isArray(value) && value.length === 2 && value[0] === 'set' && Array.isArray(value[1]);
}

export function isMap(value: unknown): value is OvsMap {
  return Array.isArray(value) && value.length === 2 && value[0] === 'map' && Array.isArray(value[1]);
}

export function isAtom(value: unknown): value is Atom {
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'boolean' || isUuid(value) || isNamedUuid(value);
}

/** The UUID string of a `["uuid", ...]` atom. */
export function uuidOf(atom: Atom): string {
  if (!isUuid(atom)) throw invalidValue(`expected a ["uuid", ...] value, got ${JSON.stringify(atom)}`, atom);
  return atom[1];
}

/** Always the explicit `["set", ...]` form, which is valid for any column, even a scalar one. */
export function toSet(items: Iterable<Atom>): OvsSet {
  return ['set', [...items]];
}

/** The elements of a set column, whichever of its two forms it arrived in. */
export function fromSet(datum: Datum): Atom[] {
  if (isSet(datum)) return [...datum[1]];
  if (isMap(datum)) throw invalidValue('expected a set, got a map', datum);
  return [datum];
}

/** The value of an optional (0..1) column such as Port.tag, or undefined when it is empty. */
export function fromOptional(datum: Datum): Atom | undefined {
  const items = fromSet(datum);
  if (items.length > 1) throw invalidValue(`expected at most one value, got ${items.length}`, datum);
  return items[0];
}

export function toMap(entries: Record<string, Atom> | ReadonlyMap<Atom, Atom> | Iterable<readonly [Atom, Atom]>): OvsMap {
  const pairs = isIterable(entries) ? [...entries] : Object.entries(entries);
  return ['map', pairs.map(([k, v]) => [k, v] as const)];
}

/** A map column's pairs; keys keep their wire form, so uuid-keyed maps work too. */
export function fromMap(datum: Datum): Map<Atom, Atom> {
  if (!isMap(datum)) throw invalidValue(`expected a map, got ${JSON.stringify(datum)}`, datum);
  return new Map(datum[1]);
}

/** A string-to-string map (external_ids, other_config, options) as a plain object. */
export function fromStringMap(datum: Datum): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of fromMap(datum)) {
    if (typeof k !== 'string' || typeof v !== 'string') throw invalidValue('expected a map of strings to strings', datum);
    out[k] = v;
  }
  return out;
}

function isIterable(value: unknown): value is Iterable<readonly [Atom, Atom]> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value;
}

/** OVSDB's own order of atoms (numbers numerically, strings and UUIDs by their text). */
export function compareAtoms(a: Atom, b: Atom): number {
  const x = typeof a === 'object' ? a[1] : a;
  const y = typeof b === 'object' ? b[1] : b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A string that is equal for equal atoms, for use as a Map key. */
export function atomKey(atom: Atom): string {
  return typeof atom === 'object' ? `${atom[0]}:${atom[1]}` : `${typeof atom}:${String(atom)}`;
}

/** The form the server itself sends: sorted, and a one-element set as its bare element. */
export function canonicalSet(items: readonly Atom[]): Datum {
  const sorted = [...items].sort(compareAtoms);
  return sorted.length === 1 ? sorted[0] : ['set', sorted];
}

export function canonicalMap(pairs: readonly (readonly [Atom, Atom])[]): OvsMap {
  return ['map', [...pairs].sort((p, q) => compareAtoms(p[0], q[0]))];
}

// ---- Conditions and mutations (RFC 7047 5.1) --------------------------------------------

export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';
export type Condition = readonly [column: string, fn: ConditionFunction, value: Datum];
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type Mutation = readonly [column: string, mutator: Mutator, value: Datum];

export const eq = (column: string, value: Datum): Condition => [column, '==', value];
export const ne = (column: string, value: Datum): Condition => [column, '!=', value];
export const lt = (column: string, value: Datum): Condition => [column, '<', value];
export const le = (column: string, value: Datum): Condition => [column, '<=', value];
export const gt = (column: string, value: Datum): Condition => [column, '>', value];
export const ge = (column: string, value: Datum): Condition => [column, '>=', value];
export const includes = (column: string, value: Datum): Condition => [column, 'includes', value];
export const excludes = (column: string, value: Datum): Condition => [column, 'excludes', value];
/** The row with this UUID: `[_uuid == ["uuid", id]]`. */
export const byUuid = (id: string | Uuid | NamedUuid): Condition => ['_uuid', '==', typeof id === 'string' ? uuid(id) : id];

/** Add elements to a set or pairs to a map (existing map keys keep their value). */
export const insertInto = (column: string, value: Datum): Mutation => [column, 'insert', value];
/** Remove elements from a set, or from a map by key (a set of keys) or by pair (a map). */
export const deleteFrom = (column: string, value: Datum): Mutation => [column, 'delete', value];
export const mutation = (column: string, mutator: Mutator, value: Datum): Mutation => [column, mutator, value];

// ---- Operations (RFC 7047 5.2) ----------------------------------------------------------

export interface InsertOp { op: 'insert'; table: string; row: Row; 'uuid-name'?: string }
export interface SelectOp { op: 'select'; table: string; where: readonly Condition[]; columns?: readonly string[] }
export interface UpdateOp { op: 'update'; table: string; where: readonly Condition[]; row: Row }
export interface MutateOp { op: 'mutate'; table: string; where: readonly Condition[]; mutations: readonly Mutation[] }
export interface DeleteOp { op: 'delete'; table: string; where: readonly Condition[] }
export interface WaitOp {
  op: 'wait';
  table: string;
  where: readonly Condition[];
  columns: readonly string[];
  until: '==' | '!=';
  rows: readonly Row[];
  timeout?: number;
}
export interface CommitOp { op: 'commit'; durable: boolean }
export interface AbortOp { op: 'abort' }
export interface CommentOp { op: 'comment'; comment: string }
export interface AssertOp { op: 'assert'; lock: string }
export type Operation = InsertOp | SelectOp | UpdateOp | MutateOp | DeleteOp | WaitOp | CommitOp | AbortOp | CommentOp | AssertOp;

export interface InsertResult { uuid: Uuid }
export interface SelectResult { rows: Row[] }
export interface CountResult { count: number }
export type EmptyResult = Record<string, never>;
export type OperationResult = InsertResult | SelectResult | CountResult | EmptyResult;

/** The result type the server returns for an operation type. */
export type ResultOf<O> = O extends { op: 'insert' }
  ? InsertResult
  : O extends { op: 'select' }
    ? SelectResult
    : O extends { op: 'update' | 'mutate' | 'delete' }
      ? CountResult
      : EmptyResult;
/** Results of a transaction, position for position with its operations. */
export type TransactResults<Ops extends readonly Operation[]> = { -readonly [K in keyof Ops]: ResultOf<Ops[K]> };

/** Insert a row; `uuidName` lets later operations of the transaction refer to it via namedUuid(). */
export function insert(table: string, row: Row, uuidName?: string): InsertOp {
  if (uuidName === undefined) return { op: 'insert', table, row };
  namedUuid(uuidName); // validates the name
  return { op: 'insert', table, row, 'uuid-name': uuidName };
}

export function select(table: string, where: readonly Condition[] = [], columns?: readonly string[]): SelectOp {
  return columns === undefined ? { op: 'select', table, where } : { op: 'select', table, where, columns };
}

export function update(table: string, where: readonly Condition[], row: Row): UpdateOp {
  return { op: 'update', table, where, row };
}

export function mutate(table: string, where: readonly Condition[], mutations: readonly Mutation[]): MutateOp {
  return { op: 'mutate', table, where, mutations };
}

/** `delete` is a reserved word, hence the short name. */
export function del(table: string, where: readonly Condition[]): DeleteOp {
  return { op: 'delete', table, where };
}

/**
 * Make the transaction wait until the `columns` of the rows matching `where` equal (`==`) or
 * differ from (`!=`) `rows`; fails with "timed out" after `timeout` ms (0: check once now;
 * omitted: wait forever, until the transaction is cancelled).
 */
export function wait(
  table: string,
  where: readonly Condition[],
  columns: readonly string[],
  until: '==' | '!=',
  rows: readonly Row[],
  timeout?: number,
): WaitOp {
  const op: WaitOp = { op: 'wait', table, where, columns, until, rows };
  if (timeout !== undefined) op.timeout = timeout;
  return op;
}

export const comment = (text: string): CommentOp => ({ op: 'comment', comment: text });
export const commit = (durable: boolean): CommitOp => ({ op: 'commit', durable });
export const abort = (): AbortOp => ({ op: 'abort' });
/** Fail the transaction unless this session holds the named lock (see OvsdbClient.lock). */
export const assertLock = (lock: string): AssertOp => ({ op: 'assert', lock: requireId(lock, 'lock name') });
