// The tree's failures carry the protocol's ZooKeeper error codes.
import type { ErrorCode } from '../protocol/error-codes.js';

export { ErrorCode, errorName } from '../protocol/error-codes.js';

/** Every code but Ok: what a failed operation carries. */
export type FailureCode = Exclude<ErrorCode, 0>;
