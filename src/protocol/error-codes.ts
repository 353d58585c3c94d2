// ZooKeeper's error codes, by name and by the number its wire protocol uses, so a
// client that knows ZooKeeper reads them without a table. The numbers cross the
// wire, so the table is the protocol's; the client, the server and the tree share it.
export const ErrorCode = {
  Ok: 0,
  SystemError: -1,
  RuntimeInconsistency: -2,
  DataInconsistency: -3,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  NewConfigNoQuorum: -13,
  ReconfigInProgress: -14,
  UnknownSession: -12,
  APIError: -100,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidCallback: -113,
  InvalidACL: -114,
  AuthFailed: -115,
  SessionMoved: -118,
  NotReadOnly: -119,
  EphemeralOnLocalSession: -120,
  NoWatcher: -121,
  RequestTimeout: -122,
  ReconfigDisabled: -123,
  QuotaExceeded: -125,
  Throttled: -127,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** The ZooKeeper name of a code ("NoNode"), for logs and test messages. */
export function errorName(code: number): string {
  return NAMES.get(code) ?? `Unknown(${code})`;
}
