// ZookError: what every failed client call throws. It carries ZooKeeper's error
// name (`code`) and number (`errno`) so code written against ZooKeeper's
// KeeperException codes reads the same; client-side conditions (ConnectionLoss,
// SessionExpired, OperationTimeout) use ZooKeeper's own names too.
import { ErrorCode, errorName } from '../protocol/error-codes.js';

/** ZooKeeper's error names ('NoNode', 'BadVersion', ...), or `Unknown(n)` for a number this client does not know. */
export type ZookErrorCode = Exclude<keyof typeof ErrorCode, 'Ok'> | `Unknown(${number})`;

/** One op's outcome in a failed multi, as ZooKeeper reports it: Ok before the failing op, its error, RuntimeInconsistency after. */
export interface MultiOpOutcome {
  readonly op: 'create' | 'delete' | 'setData' | 'check';
  readonly path: string;
  readonly code: ZookErrorCode | 'Ok';
  readonly errno: number;
}

export class ZookError extends Error {
  override name = 'ZookError';
  /** ZooKeeper's name for the error. */
  readonly code: ZookErrorCode;
  /** ZooKeeper's number for the error (NoNode = -101, ...). */
  readonly errno: number;
  /** The path of the operation that failed, when it had one. */
  readonly path: string | undefined;
  /** For a failed multi: every op's outcome, in order. */
  readonly results: readonly MultiOpOutcome[] | undefined;

  constructor(errno: number, message?: string, details: { path?: string; results?: readonly MultiOpOutcome[]; cause?: unknown } = {}) {
    const code = errorName(errno) as ZookErrorCode;
    const where = details.path === undefined ? '' : ` (${details.path})`;
    super(message === undefined ? `${code}${where}` : `${code}${where}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.errno = errno;
    this.path = details.path;
    this.results = details.results;
  }
}

/** True when `error` is a ZookError, and (if given) has this code. */
export function isZookError(error: unknown, code?: ZookErrorCode): error is ZookError {
  return error instanceof ZookError && (code === undefined || error.code === code);
}

export const connectionLoss = (message: string, path?: string): ZookError =>
  new ZookError(ErrorCode.ConnectionLoss, message, path === undefined ? {} : { path });
export const sessionExpired = (message: string, path?: string): ZookError =>
  new ZookError(ErrorCode.SessionExpired, message, path === undefined ? {} : { path });
export const operationTimeout = (message: string, path?: string): ZookError =>
  new ZookError(ErrorCode.OperationTimeout, message, path === undefined ? {} : { path });
