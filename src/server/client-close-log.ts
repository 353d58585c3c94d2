// The log level of a client connection the server closed, by why (the DisconnectReason
// of server/connection.ts): the client's own fault or a limit is a warning, the
// server's routine decisions are info, and closes that come by the thousand with one
// summary line of their own (a reset after losing the leader, a shutdown) are debug.

/** Reasons whose every close is logged at debug: the event that caused them has its own line. */
const SUMMARISED = new Set(['reset', 'shutdown']);
/** Reasons that point at a client (bad input, too slow, too early) or an abuse limit. */
const CLIENT_FAULT = new Set(['connect-timeout', 'protocol-error', 'oversized-frame', 'auth-failed', 'backpressure']);

export function clientCloseLevel(reason: string): 'debug' | 'info' | 'warn' {
  if (SUMMARISED.has(reason)) return 'debug';
  return CLIENT_FAULT.has(reason) ? 'warn' : 'info';
}
