// Why a shell command failed, in words. zook's WebSocket replies carry an error
// code and no text (src/protocol/types.ts: a reply is xid, zxid, error, response),
// so the shell works the reason out from what it sent (the path, the data's size,
// the expected version) and, where one more read tells it, from the server (the
// node's actual version, its number of children). The server's own limits are not
// published to clients: for data over the limit the shell names the setting and
// its default, not the server's value.
import { type ZookClient, type ZookError } from '../client/index.js';
import { DEFAULT_TREE_OPTIONS } from '../tree/options.js';

/** The command that failed: its name, flags and positional words as the shell parsed them. */
export interface FailedCommand {
  readonly name: string;
  readonly flags: ReadonlyMap<string, string>;
  readonly rest: readonly string[];
}

const utf8 = new TextEncoder();

/** Which of ZooKeeper's path rules (PathUtils.validatePath; src/tree/paths.ts) `path` breaks, or undefined. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'a path must not be empty';
  if (path[0] !== '/') return "a path must start with '/'";
  if (path.length === 1) return undefined;
  if (path.endsWith('/')) return "a path must not end with '/'";
  const names = path.slice(1).split('/');
  if (names.includes('')) return "a path must not have an empty name ('//')";
  if (names.some((n) => n === '.' || n === '..')) return "'.' and '..' are reserved: not allowed as a name (paths are absolute)";
  for (const ch of path) {
    const c = ch.codePointAt(0)!;
    if (c === 0) return 'a path must not contain the null character';
    if ((c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f)) return `a path must not contain control characters (U+${hex(c)})`;
    if (c > 0xffff || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      return `a path must not contain U+${hex(c)} (characters outside the Basic Multilingual Plane, such as emoji, private-use and U+FFF0-U+FFFF are not allowed)`;
    }
  }
  return undefined;
}

const hex = (c: number): string => c.toString(16).toUpperCase().padStart(4, '0');

/** The permission a command needs, and on which node. */
function neededPermission(command: FailedCommand): string | undefined {
  switch (command.name) {
    case 'get':
    case 'ls':
      return 'READ on the node';
    case 'getAcl':
      return 'READ or ADMIN on the node';
    case 'set':
      return 'WRITE on the node';
    case 'setAcl':
      return 'ADMIN on the node';
    case 'create':
      return 'CREATE on the parent';
    case 'delete':
    case 'deleteall':
      return 'DELETE on the parent';
    default:
      return undefined;
  }
}

function badArguments(command: FailedCommand, path: string | undefined): string | undefined {
  if (path !== undefined) {
    // A sequential create's name gets 10 digits: ZooKeeper checks `path + "1"`, so "/p/" is fine there.
    const sequential = command.name === 'create' && command.flags.has('-s');
    const problem = pathProblem(sequential ? `${path}1` : path);
    if (problem !== undefined) return `invalid path: ${problem}`;
  }
  const dataBytes = (command.name === 'set' || command.name === 'create') && command.rest[1] !== undefined ? utf8.encode(command.rest[1]).length : 0;
  const pathBytes = path === undefined ? 0 : utf8.encode(path).length;
  const dataRule = `data is ${dataBytes} bytes; the server's limit is lower (its maxDataBytes setting, ${DEFAULT_TREE_OPTIONS.maxDataBytes} bytes by default)`;
  if (dataBytes > DEFAULT_TREE_OPTIONS.maxDataBytes) return dataRule;
  if (pathBytes > DEFAULT_TREE_OPTIONS.maxPathBytes) return `path is ${pathBytes} bytes; the server's limit is lower (its maxPathBytes setting, ${DEFAULT_TREE_OPTIONS.maxPathBytes} bytes by default)`;
  const ttl = command.name === 'create' ? command.flags.get('-t') : undefined;
  if (ttl !== undefined) {
    const n = Number(ttl);
    if (!Number.isSafeInteger(n) || n <= 0 || n > DEFAULT_TREE_OPTIONS.maxTtlMs) return `-t takes a TTL in milliseconds from 1 to ${DEFAULT_TREE_OPTIONS.maxTtlMs}, got "${ttl}"`;
  }
  if (dataBytes > 0) return dataRule;
  return undefined;
}

async function badVersion(client: ZookClient, command: FailedCommand, path: string | undefined): Promise<string | undefined> {
  const expected = command.flags.get('-v');
  if (expected === undefined || path === undefined) return undefined;
  const acl = command.name === 'setAcl';
  const what = acl ? 'ACL version' : 'version';
  try {
    const stat = await client.exists(path, { timeoutMs: 2000 });
    if (stat !== null) return `expected ${what} ${expected}, the node is at ${what} ${acl ? stat.aversion : stat.version}`;
  } catch {
    // The reason stays without the actual version.
  }
  return `expected ${what} ${expected}, the node is at another`;
}

async function notEmpty(client: ZookClient, path: string | undefined): Promise<string> {
  const hint = 'delete them first, or use deleteall';
  if (path === undefined) return `the node has children; ${hint}`;
  try {
    const n = (await client.exists(path, { timeoutMs: 2000 }))?.numChildren ?? 0;
    if (n > 0) return `the node has ${n} child${n === 1 ? '' : 'ren'}; ${hint}`;
  } catch {
    // The reason stays without the count.
  }
  return `the node has children; ${hint}`;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** The reason for `error`, in words, or undefined when the shell cannot tell more than the code. */
export async function explainError(client: ZookClient, command: FailedCommand, error: ZookError): Promise<string | undefined> {
  const path = error.path;
  switch (error.code) {
    case 'BadArguments':
      return badArguments(command, path) ?? clientText(error);
    case 'BadVersion':
      return badVersion(client, command, path);
    case 'NoNode':
      return command.name === 'create' && path !== undefined ? `the parent ${parentOf(path)} does not exist` : 'the node does not exist';
    case 'NodeExists':
      return 'the node already exists';
    case 'NotEmpty':
      return notEmpty(client, path);
    case 'NoAuth': {
      const needed = neededPermission(command);
      return `the ACL does not give this session ${needed ?? 'the permission this needs'} (whoami lists the session's identities; addauth adds one)`;
    }
    case 'NoChildrenForEphemerals':
      return 'the parent is ephemeral: ephemeral nodes cannot have children';
    case 'InvalidACL':
      return 'the ACL is not valid (an empty list, an unknown scheme, or an id its scheme rejects)';
    case 'NoWatcher':
      return 'this shell has no watch of that kind on the path';
    default:
      return clientText(error);
  }
}

/** The text the client put after the code (connection loss, timeouts, ...), if any. */
function clientText(error: ZookError): string | undefined {
  const prefix = `${error.code}${error.path === undefined ? '' : ` (${error.path})`}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : undefined;
}
