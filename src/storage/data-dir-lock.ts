// One owner per data dir. Two processes writing one WAL corrupt it (a second
// `zook cluster` over a running one did: "damaged record with valid records after
// it"), so a server holds an exclusive lock on its data dir for its whole life, and
// so does `zook wal repair`.
//
// The lock is a listening Unix socket in Linux's abstract namespace (a name that
// starts with a NUL byte: no file, nothing to clean up), named after the dir's
// device and inode, so every path to the same dir (symlinks, relative paths, bind
// mounts) maps to one name. bind(2) is atomic and fails with EADDRINUSE while any
// live process holds the name; the kernel frees it when the holder exits, however
// it exits (kill -9 included), so a lock can never go stale. Node 20 has no
// flock(2); pid files go stale after a crash and need guessing (is that pid still
// ours?), and lock packages such as proper-lockfile judge staleness by mtime. The
// holder answers a connection with one JSON line (pid, ports) so a refused start
// can name it. Abstract names are per network namespace: two containers with
// separate network namespaces sharing one data dir do not see each other's lock
// (share the network namespace, or do not share the dir).
//
// Elsewhere than Linux there is no abstract namespace: the socket is a file in the
// data dir (`LOCK.sock`). A leftover file after a crash is recognised by a refused
// connection (nobody listens) and replaced.
//
// `LOCK` beside it says who holds the dir (pid, ports, start time) for operators.
// It is informational only: the socket is the lock.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The informational file a holder writes in the dir it holds. */
export const LOCK_FILE = 'LOCK';
/** The lock socket's file where there is no abstract namespace. */
export const LOCK_SOCKET_FILE = 'LOCK.sock';
/** How long a refused start waits for the holder to say who it is. */
export const HOLDER_ANSWER_TIMEOUT_MS = 2000;
/** Bounds the holder's answer (it is one short JSON line). */
const MAX_ANSWER_BYTES = 4096;

/** Who holds a data dir, as the holder tells it. */
export interface DataDirHolder {
  readonly pid: number;
  /** What holds it: "zook server 1", "zook wal repair". */
  readonly owner: string;
  /** ISO time the lock was taken. */
  readonly startedAt: string;
  readonly host?: string;
  /** zook's WebSocket + HTTP port. */
  readonly port?: number;
  /** ZooKeeper's client-protocol port. */
  readonly zkPort?: number;
  readonly peerPort?: number;
}

export interface DataDirLockOptions {
  /** Use a socket file in the dir instead of the abstract namespace (the non-Linux way; tests use it on Linux). */
  readonly socketFile?: boolean;
  readonly holderAnswerTimeoutMs?: number;
}

/** Thrown when another live process holds the dir. */
export class DataDirLocked extends Error {
  override name = 'DataDirLocked';
  constructor(
    readonly dir: string,
    /** What the holder said, or its LOCK file when it did not answer; null when neither is known. */
    readonly holder: DataDirHolder | null,
    readonly answered: boolean,
  ) {
    super(lockedMessage(dir, holder, answered));
  }
}

/** "zook server 1 (pid 123, ws://127.0.0.1:8181, ZooKeeper port 2181, since ...)". */
export function describeHolder(h: DataDirHolder): string {
  const parts = [`pid ${h.pid}`];
  const host = h.host ?? '127.0.0.1';
  if (h.port !== undefined) parts.push(`ws://${host}:${h.port}`);
  if (h.zkPort !== undefined) parts.push(`ZooKeeper port ${h.zkPort}`);
  if (h.peerPort !== undefined) parts.push(`peer port ${h.peerPort}`);
  parts.push(`since ${h.startedAt}`);
  return `${h.owner} (${parts.join(', ')})`;
}

function lockedMessage(dir: string, holder: DataDirHolder | null, answered: boolean): string {
  const who =
    holder === null
      ? 'another live process (it did not say which, and there is no LOCK file)'
      : answered
        ? describeHolder(holder)
        : `another live process that did not answer; its ${LOCK_FILE} file names ${describeHolder(holder)}`;
  return `data dir ${dir} is in use by ${who}: two processes on one data dir would corrupt its log. Stop that process first, or use another data dir`;
}

/** The abstract socket name for a dir: its device and inode (the dir must exist). */
function abstractName(dir: string): string {
  const st = statSync(dir, { bigint: true });
  if (!st.isDirectory()) throw new Error(`data dir ${dir} is not a directory`);
  return `\0zook-data-dir/${st.dev}/${st.ino}`;
}

function socketPath(dir: string, options: DataDirLockOptions): string {
  const useFile = options.socketFile ?? process.platform !== 'linux';
  return useFile ? join(dir, LOCK_SOCKET_FILE) : abstractName(dir);
}

function parseHolder(text: string): DataDirHolder | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const h = value as Record<string, unknown>;
    if (typeof h.pid !== 'number' || typeof h.owner !== 'string' || typeof h.startedAt !== 'string') return null;
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    return {
      pid: h.pid,
      owner: h.owner,
      startedAt: h.startedAt,
      host: typeof h.host === 'string' ? h.host : undefined,
      port: num(h.port),
      zkPort: num(h.zkPort),
      peerPort: num(h.peerPort),
    };
  } catch {
    return null;
  }
}

function readLockFile(dir: string): DataDirHolder | null {
  try {
    return parseHolder(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  } catch {
    return null;
  }
}

type Asked = { kind: 'free' } | { kind: 'held'; holder: DataDirHolder | null };

/** Connects to the lock socket: refused or absent means nobody holds it; otherwise reads the holder's line. */
function ask(path: string, timeoutMs: number): Promise<Asked> {
  return new Promise((resolvePromise) => {
    let text = '';
    let connected = false;
    let settled = false;
    const socket: Socket = connect({ path });
    const finish = (result: Asked): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolvePromise(result);
    };
    const timer = setTimeout(() => finish({ kind: 'held', holder: connected ? parseHolder(text) : null }), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => (connected = true));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_ANSWER_BYTES) finish({ kind: 'held', holder: null });
      else if (text.includes('\n')) finish({ kind: 'held', holder: parseHolder(text.slice(0, text.indexOf('\n'))) });
    });
    socket.on('end', () => finish({ kind: 'held', holder: parseHolder(text) }));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected && (error.code === 'ECONNREFUSED' || error.code === 'ENOENT')) finish({ kind: 'free' });
      else finish({ kind: 'held', holder: parseHolder(text) });
    });
  });
}

function listen(server: Server, path: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolvePromise) => {
    const onError = (error: NodeJS.ErrnoException): void => resolvePromise(error);
    server.once('error', onError);
    server.listen({ path }, () => {
      server.off('error', onError);
      resolvePromise(null);
    });
  });
}

/**
 * Who holds `dir` right now, without taking it (null: nobody). For tools that only
 * read (`zook wal verify`) and for `zook cluster`'s check before it starts servers.
 */
export async function dataDirHolder(dir: string, options: DataDirLockOptions = {}): Promise<{ holder: DataDirHolder | null } | null> {
  if (!existsSync(dir)) return null;
  const asked = await ask(socketPath(dir, options), options.holderAnswerTimeoutMs ?? HOLDER_ANSWER_TIMEOUT_MS);
  if (asked.kind === 'free') return null;
  return { holder: asked.holder ?? readLockFile(dir) };
}

/** An exclusive hold on a data dir, from acquire until release (or the process's end). */
export class DataDirLock {
  private info: DataDirHolder;
  private released = false;

  private constructor(
    readonly dir: string,
    private readonly server: Server,
    private readonly path: string,
    info: DataDirHolder,
  ) {
    this.info = info;
  }

  /**
   * Takes `dir` (created if missing) for this process, or throws DataDirLocked
   * naming the live process that holds it.
   */
  static async acquire(dir: string, owner: string, options: DataDirLockOptions = {}): Promise<DataDirLock> {
    const absolute = resolve(dir);
    mkdirSync(absolute, { recursive: true });
    const path = socketPath(absolute, options);
    const timeoutMs = options.holderAnswerTimeoutMs ?? HOLDER_ANSWER_TIMEOUT_MS;
    const info: DataDirHolder = { pid: process.pid, owner, startedAt: new Date().toISOString() };
    let lock: DataDirLock | null = null;
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.end(`${JSON.stringify(lock?.info ?? info)}\n`);
    });
    // The lock must not keep a process alive that has nothing else to do.
    server.unref();
    let error = await listen(server, path);
    if (error?.code === 'EADDRINUSE' && path === join(absolute, LOCK_SOCKET_FILE)) {
      // A socket file outlives a crashed holder: replace it when nobody answers on it.
      const asked = await ask(path, timeoutMs);
      if (asked.kind === 'free') {
        unlinkSync(path);
        error = await listen(server, path);
      }
    }
    if (error !== null) {
      server.close();
      if (error.code !== 'EADDRINUSE') throw new Error(`cannot lock data dir ${absolute}: ${error.message}`);
      const asked = await ask(path, timeoutMs);
      const answered = asked.kind === 'held' && asked.holder !== null;
      throw new DataDirLocked(absolute, answered ? asked.holder : readLockFile(absolute), answered);
    }
    lock = new DataDirLock(absolute, server, path, info);
    lock.writeLockFile();
    return lock;
  }

  /** What this holder tells others (pid, owner, start time, ports once known). */
  get holder(): DataDirHolder {
    return this.info;
  }

  /** Adds the ports once they are bound: refusals and the LOCK file then name them. */
  describe(ports: { host?: string; port?: number; zkPort?: number; peerPort?: number }): void {
    this.info = { ...this.info, ...Object.fromEntries(Object.entries(ports).filter(([, v]) => v !== undefined)) };
    if (!this.released) this.writeLockFile();
  }

  private writeLockFile(): void {
    writeFileSync(join(this.dir, LOCK_FILE), `${JSON.stringify(this.info, null, 2)}\n`);
  }

  /** Lets the dir go; the LOCK file goes with it. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    rmSync(join(this.dir, LOCK_FILE), { force: true });
    await new Promise<void>((resolvePromise) => this.server.close(() => resolvePromise()));
    if (this.path === join(this.dir, LOCK_SOCKET_FILE)) rmSync(this.path, { force: true });
  }
}
