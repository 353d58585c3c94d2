// The server's log: pino JSON lines (time, level, serverId, component, msg, fields),
// or the same records as one readable line each on a terminal.
//
// Written synchronously to stdout (no worker thread, no buffer): a server killed
// with SIGKILL has printed every line it logged, in order with anything else it
// wrote. Library code (ZookNode and what it owns) takes a logger and defaults to
// SILENT_LOG, so in-process tests print nothing.
import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';

export type Log = Logger;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Components each get a child logger with this field (`component`). */
export type LogComponent =
  | 'server'
  | 'recovery'
  | 'raft'
  | 'membership'
  | 'snapshot'
  | 'peer'
  | 'storage'
  | 'sessions'
  | 'ws'
  | 'zk-door'
  | 'forwarding';

/** Logs nothing: the default of every library entry point. */
export const SILENT_LOG: Log = pino({ level: 'silent' });

/** The pino level numbers, named as printed in the readable format. */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Field names the readable format shows in its prefix instead of as `key=value`. */
const PREFIX_FIELDS = new Set(['time', 'level', 'serverId', 'component', 'msg']);

/**
 * One JSON record as one readable line:
 * `2026-12-08T02:00:00.123Z INFO  [1 raft] became leader term=3 votes=2`.
 * Values that are not plain words are JSON-quoted, so a line stays one line.
 */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = typeof record.level === 'string' ? record.level.toUpperCase() : (LEVEL_NAMES[record.level as number] ?? String(record.level));
  const where = [record.serverId, record.component].filter((v) => v !== undefined).join(' ');
  let line = `${String(record.time)} ${level.padEnd(5)} [${where}] ${String(record.msg ?? '')}`;
  for (const [key, value] of Object.entries(record)) {
    if (PREFIX_FIELDS.has(key)) continue;
    const text = typeof value === 'string' && /^[\w./:@+-]+$/.test(value) ? value : JSON.stringify(value);
    line += ` ${key}=${text}`;
  }
  return `${line}\n`;
}

/**
 * Writes each record to a file descriptor at once (writeSync), readable or as the JSON
 * line. A reader that went away (EPIPE: say, `zook cluster` killed while its servers
 * run on) or any other write error ends the log, never the server.
 */
function syncStream(fd: number, format: LogFormat): DestinationStream {
  let broken = false;
  return {
    write(chunk: string): void {
      if (broken) return;
      const text = format === 'pretty' ? prettyLine(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) : chunk;
      const bytes = Buffer.from(text);
      let written = 0;
      // writeSync may write part of a buffer to a pipe: finish it, a line is never cut.
      while (written < bytes.length) {
        try {
          written += writeSync(fd, bytes, written);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue;
          broken = true;
          return;
        }
      }
    },
  };
}

export interface LogOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly serverId: number;
  /** Where lines go (default stdout, fd 1). */
  readonly fd?: number;
}

/**
 * Paths pino blanks in every record (`[redacted]`): the start-up settings line carries
 * the whole config, and none of these may reach a log.
 */
export const REDACTED_PATHS = ['settings.superDigest', 'ensemble.secret', 'settings.adminToken', '*.password', '*.secret', '*.adminToken'];

/** The root logger of a server process; components take `log.child({ component })`. */
export function createLog(options: LogOptions): Log {
  return pino(
    {
      level: options.level,
      base: { serverId: options.serverId },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level as its name in JSON lines (`"level":"info"`), what log shippers expect.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    syncStream(options.fd ?? 1, options.format),
  );
}

/** pretty on a terminal, json otherwise (a pipe, a file, a log shipper). */
export function defaultLogFormat(stdoutIsTty: boolean): LogFormat {
  return stdoutIsTty ? 'pretty' : 'json';
}

/**
 * A log that says a thing at most `perSecond` times a second, then once how many
 * more it swallowed: for events a client can cause in a flood (bad input, refusals).
 */
export class RateLimitedLog {
  private windowStartMs = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Log,
    private readonly perSecond: number,
    /** What the swallowed lines were, for the summary ("3 more <what> in the last second"). */
    private readonly what: string,
  ) {}

  write(level: 'debug' | 'info' | 'warn', fields: Record<string, unknown>, msg: string): void {
    if (!this.log.isLevelEnabled(level)) return;
    const now = Date.now();
    if (now - this.windowStartMs >= 1000) {
      if (this.suppressed > 0) this.log.warn({ suppressed: this.suppressed }, `${this.suppressed} more ${this.what} in the last second (not logged one by one)`);
      this.windowStartMs = now;
      this.inWindow = 0;
      this.suppressed = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    this.log[level](fields, msg);
  }

  warn(fields: Record<string, unknown>, msg: string): void {
    this.write('warn', fields, msg);
  }
}
