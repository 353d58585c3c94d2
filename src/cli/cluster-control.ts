// The control channel of a running `zook cluster`: `zook cluster restart 2` (and
// stop, start, status) in another terminal asks the run that holds the data dir to
// act on one of its servers. It is a Unix domain socket speaking newline-delimited
// JSON, one request and one reply per connection:
//
//   -> {"command":"restart","id":2}
//   <- {"ok":true,"message":"server 2 restarted (pid 4242, was pid 4100), listening"}
//
// Only the owner may use it: the socket file is created with mode 0600 (connecting
// to a Unix socket needs write permission on its file), so another user gets
// EACCES. The socket is `<data-dir>/control.sock` when that path fits in sun_path
// (108 bytes on Linux, NUL included; 104 on macOS); a longer data dir gets its
// socket in /tmp/zook-<uid>/ (created 0700, refused when it is not ours or is open
// to others), named after the data dir's device and inode, so every path to the
// dir finds the same socket. A socket file left behind by a run killed -9 is
// replaced by the next run (it holds the data dir's lock, so nobody else uses it).
// Not an abstract socket (as the data dir lock is): those have no permissions,
// anyone on the machine could connect.
import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export const CONTROL_SOCKET_FILE = 'control.sock';
/** sun_path's size minus the NUL: 108 bytes on Linux, 104 on the BSDs and macOS. */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;
/** Bounds one request or reply line (requests are tiny; a status reply is a few hundred bytes). */
export const MAX_CONTROL_LINE_BYTES = 16_384;
/** A request that does not arrive within this is dropped (a stuck client holds no slot). */
const REQUEST_TIMEOUT_MS = 5000;

export type ControlRequest = { readonly command: 'restart' | 'stop' | 'start'; readonly id: number } | { readonly command: 'status' };

export interface ControlReply {
  readonly ok: boolean;
  /** What happened, for a person: printed by `zook cluster <command>` as it is. */
  readonly message: string;
}

/** Where the control socket of the cluster on `dir` lives (see above). `dir` must exist when it is long. */
export function controlSocketPath(dir: string): string {
  const inDir = join(dir, CONTROL_SOCKET_FILE);
  if (Buffer.byteLength(inDir) <= MAX_SOCKET_PATH_BYTES) return inDir;
  const st = statSync(dir, { bigint: true });
  return join(privateDir(), `cluster-${st.dev}-${st.ino}.sock`);
}

function privateDir(): string {
  const uid = process.getuid?.() ?? 0;
  return `/tmp/zook-${uid}`;
}

/** Checks that the private dir is ours and closed to others (someone could have made it first). */
function checkPrivateDir(path: string): void {
  const st = lstatSync(path);
  const uid = process.getuid?.();
  if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`${path} is not a directory: remove it, or use a shorter --data-dir`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`${path} belongs to uid ${st.uid}, not to you (uid ${uid}): remove it, or use a shorter --data-dir`);
  if ((st.mode & 0o077) !== 0) throw new Error(`${path} is open to other users (mode ${(st.mode & 0o777).toString(8)}): chmod 700 it, or use a shorter --data-dir`);
}

/** Parses and checks one request line; a string is what is wrong with it. */
export function parseControlRequest(line: string): ControlRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'the request is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'the request is not a JSON object';
  const { command, id } = value as Record<string, unknown>;
  if (command === 'status') return { command };
  if (command !== 'restart' && command !== 'stop' && command !== 'start') return `unknown command ${JSON.stringify(command)}: restart, stop, start or status`;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1) return `${command} needs a server id (an integer >= 1), got ${JSON.stringify(id)}`;
  return { command, id };
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Serves the control socket of a running cluster; `handle` answers each request. */
export async function listenControl(dir: string, handle: (request: ControlRequest) => Promise<ControlReply>): Promise<ControlServer> {
  const path = controlSocketPath(dir);
  if (path !== join(dir, CONTROL_SOCKET_FILE)) {
    mkdirSync(privateDir(), { recursive: true, mode: 0o700 });
    checkPrivateDir(privateDir());
  }
  // The caller holds the data dir's lock: a socket file here is a leftover of a run killed -9.
  rmSync(path, { force: true });
  const server: Server = createServer((socket) => serve(socket, handle));
  // bind(2) creates the file with the mode the umask leaves: 0600 from the start, no window.
  // listen() binds synchronously for a path, so the umask is back before anything else runs.
  const umask = process.umask(0o177);
  const listening = new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen({ path }, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  process.umask(umask);
  try {
    await listening;
  } catch (error) {
    throw new Error(`cluster: cannot listen on the control socket ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  chmodSync(path, 0o600);
  // The control socket must not keep the process alive by itself.
  server.unref();
  return {
    path,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => {
          rmSync(path, { force: true });
          resolveClose();
        });
      }),
  };
}

function serve(socket: Socket, handle: (request: ControlRequest) => Promise<ControlReply>): void {
  let text = '';
  let answered = false;
  const reply = (r: ControlReply): void => {
    if (socket.destroyed) return;
    socket.end(`${JSON.stringify(r)}\n`);
  };
  socket.setEncoding('utf8');
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
    if (!answered) socket.destroy();
  });
  socket.on('error', () => {});
  socket.on('data', (chunk: string) => {
    if (answered) return;
    text += chunk;
    const end = text.indexOf('\n');
    if (end < 0) {
      if (text.length > MAX_CONTROL_LINE_BYTES) {
        answered = true;
        reply({ ok: false, message: `request longer than ${MAX_CONTROL_LINE_BYTES} bytes` });
      }
      return;
    }
    answered = true;
    // The work (a restart) may take longer than the request timeout: the clock was for the request.
    socket.setTimeout(0);
    const request = parseControlRequest(text.slice(0, end));
    if (typeof request === 'string') return reply({ ok: false, message: request });
    handle(request).then(reply, (error: unknown) => reply({ ok: false, message: error instanceof Error ? error.message : String(error) }));
  });
}

/** Why the control socket could not be reached: no socket, nobody listening, not allowed. */
export class ControlUnreachable extends Error {
  override name = 'ControlUnreachable';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Sends one request to the cluster on `dir` and waits up to `timeoutMs` for its reply. */
export async function sendControl(dir: string, request: ControlRequest, timeoutMs: number): Promise<ControlReply> {
  if (!existsSync(dir)) throw new ControlUnreachable(join(dir, CONTROL_SOCKET_FILE), 'ENOENT', `${dir} does not exist`);
  const path = controlSocketPath(dir);
  if (path !== join(dir, CONTROL_SOCKET_FILE)) {
    if (!existsSync(privateDir())) throw new ControlUnreachable(path, 'ENOENT', `${privateDir()} does not exist`);
    checkPrivateDir(privateDir());
  }
  return new Promise<ControlReply>((resolveReply, rejectReply) => {
    let text = '';
    let connected = false;
    let settled = false;
    const socket = connect({ path });
    const finish = (result: ControlReply | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (result instanceof Error) rejectReply(result);
      else resolveReply(result);
    };
    const timer = setTimeout(() => finish(new Error(`no reply from the cluster on ${path} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_CONTROL_LINE_BYTES) finish(new Error(`reply longer than ${MAX_CONTROL_LINE_BYTES} bytes from ${path}`));
      else if (text.includes('\n')) finish(parseReply(text.slice(0, text.indexOf('\n')), path));
    });
    socket.on('end', () => finish(text === '' ? new Error(`the cluster on ${path} closed the connection without a reply`) : parseReply(text, path)));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (connected) finish(new Error(`control socket ${path}: ${error.message}`));
      else finish(new ControlUnreachable(path, error.code, `cannot connect to ${path}: ${error.code ?? error.message}`));
    });
  });
}

function parseReply(line: string, path: string): ControlReply | Error {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    if (typeof value.ok === 'boolean' && typeof value.message === 'string') return { ok: value.ok, message: value.message };
  } catch {
    // below
  }
  return new Error(`unreadable reply from ${path}: ${line.slice(0, 200)}`);
}
