// connect() options -> the resolved numbers the session runs on, with the
// defaults and the checks in one place.
import type { SessionConfig } from './session.js';
import { parseServers } from './servers.js';
import { defaultTransport } from './transport.js';
import type { ConnectOptions } from './types.js';
import { toBytes } from './ops.js';
import { readFileBytes } from './node-only.js';

export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/** Matches the server's default maxInFlightPerConnection, so a default client is never answered Throttled. */
export const DEFAULT_MAX_IN_FLIGHT = 1000;
export const DEFAULT_MAX_QUEUED_REQUESTS = 100_000;
export const DEFAULT_RECONNECT_BASE_DELAY_MS = 100;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 5_000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Shortest default handshake bound per attempt: below this a healthy but busy server would be given up on. */
const MIN_DEFAULT_HANDSHAKE_TIMEOUT_MS = 1_000;

/** The CA from `ca` and/or `tlsCaFile` (read now, so a missing file fails connect() at once). */
async function caOf(options: ConnectOptions): Promise<(string | Uint8Array)[] | undefined> {
  if (options.ca === undefined && options.tlsCaFile === undefined) return undefined;
  const out: (string | Uint8Array)[] = [];
  if (options.ca !== undefined) out.push(...(typeof options.ca === 'string' || options.ca instanceof Uint8Array ? [options.ca] : options.ca));
  if (options.tlsCaFile !== undefined) {
    try {
      out.push(await readFileBytes(options.tlsCaFile));
    } catch (error) {
      throw new Error(`tlsCaFile ${options.tlsCaFile}: cannot read it (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return out;
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowZero && v === 0)) throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(value)}`);
  return v;
}

export async function resolveConfig(servers: string | readonly string[], options: ConnectOptions): Promise<SessionConfig> {
  const urls = parseServers(servers);
  const sessionTimeoutMs = positive('sessionTimeoutMs', options.sessionTimeoutMs, DEFAULT_SESSION_TIMEOUT_MS);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, sessionTimeoutMs);
  const maxFrameBytes = positive('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  const ca = await caOf(options);
  if (ca !== undefined && options.transport !== undefined) throw new TypeError('ca and tlsCaFile configure the default transport: with your own transport, give it the CA (e.g. wsTransport({ maxFrameBytes, ca }))');
  return {
    servers: urls,
    sessionTimeoutMs,
    connectTimeoutMs,
    handshakeTimeoutMs: positive(
      'handshakeTimeoutMs',
      options.handshakeTimeoutMs,
      Math.min(connectTimeoutMs, Math.max(MIN_DEFAULT_HANDSHAKE_TIMEOUT_MS, Math.floor(connectTimeoutMs / urls.length))),
    ),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, sessionTimeoutMs, true),
    maxInFlight: Math.floor(positive('maxInFlight', options.maxInFlight, DEFAULT_MAX_IN_FLIGHT)),
    maxQueuedRequests: Math.floor(positive('maxQueuedRequests', options.maxQueuedRequests, DEFAULT_MAX_QUEUED_REQUESTS, true)),
    reconnectBaseDelayMs: positive('reconnectBaseDelayMs', options.reconnectBaseDelayMs, DEFAULT_RECONNECT_BASE_DELAY_MS, true),
    reconnectMaxDelayMs: positive('reconnectMaxDelayMs', options.reconnectMaxDelayMs, DEFAULT_RECONNECT_MAX_DELAY_MS, true),
    closeTimeoutMs: positive('closeTimeoutMs', options.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS, true),
    shuffleServers: options.shuffleServers ?? true,
    random: options.random ?? Math.random,
    auth: (options.auth ?? []).map((a) => ({ scheme: a.scheme, auth: toBytes(a.auth) })),
    transport: options.transport ?? (await defaultTransport({ maxFrameBytes, ca })),
    onListenerError: options.onListenerError ?? ((error: unknown) => console.error('zook: a watcher or state listener threw', error)),
  };
}
