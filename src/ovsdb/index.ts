// The OVSDB client's public API: import from here, not from the layers.
export { OvsdbClient } from './client.ts';
export type { ClientEvents, ClientOptions, MonitorOptions, ReconnectOptions, TransactOptions } from './client.ts';
export { Connection, DEFAULT_REQUEST_TIMEOUT_MS, serverError, toOvsdbError } from './connection.ts';
export type { CloseHandler, ConnectionOptions, NotificationHandler, OvsdbErrorObject, RequestOptions } from './connection.ts';
export { DEFAULT_MAX_MESSAGE_BYTES, JsonFramer } from './framer.ts';
export type { FramerOptions } from './framer.ts';
export { Monitor } from './monitor.ts';
export type { ChangeListener, MonitorMethod, MonitorRequest, MonitorRequests, MonitorSelect } from './monitor.ts';
export { Replica } from './replica.ts';
export type { RowChange, TableUpdates, TableUpdates2 } from './replica.ts';
export { columnSchema, defaultDatum, diffKind, normalType, tableSchema } from './schema.ts';
export type { AtomicType, BaseType, ColumnSchema, ColumnType, DatabaseSchema, NormalType, TableSchema } from './schema.ts';
export { DEFAULT_OVSDB_TARGET, openSocket, parseTarget } from './transport.ts';
export type { OvsdbTarget } from './transport.ts';
export {
  abort,
  assertLock,
  atomKey,
  byUuid,
  canonicalMap,
  canonicalSet,
  comment,
  commit,
  compareAtoms,
  del,
  deleteFrom,
  eq,
  excludes,
  fromMap,
  fromOptional,
  fromSet,
  fromStringMap,
  ge,
  gt,
  includes,
  insert,
  insertInto,
  isAtom,
  isMap,
  isNamedUuid,
  isSet,
  isUuid,
  le,
  lt,
  mutate,
  mutation,
  namedUuid,
  ne,
  requireId,
  select,
  toMap,
  toSet,
  update,
  uuid,
  uuidOf,
  wait,
} from './datum.ts';
export type {
  AbortOp,
  AssertOp,
  Atom,
  CommentOp,
  CommitOp,
  Condition,
  ConditionFunction,
  CountResult,
  Datum,
  DeleteOp,
  EmptyResult,
  InsertOp,
  InsertResult,
  MutateOp,
  Mutation,
  Mutator,
  NamedUuid,
  Operation,
  OperationResult,
  OvsMap,
  OvsSet,
  ResultOf,
  Row,
  SelectOp,
  SelectResult,
  TransactResults,
  UpdateOp,
  Uuid,
  WaitOp,
} from './datum.ts';
