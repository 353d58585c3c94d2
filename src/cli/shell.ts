// The commands of `zook shell`, in the style of ZooKeeper's zkCli. Each takes its
// words and a client and returns lines to print; errors throw (a ShellError that
// carries the ZookError and its reason in words, or a usage Error), and the caller
// decides how to show them. Watches (get/ls/stat -w, addWatch) all use the
// context's one watcher, which prints each event as formatEvent() words it.
import { type AddWatchMode, type CreateModeName, type Stat, type WatchEvent, type Watcher, type WatcherKind, type ZookClient, type ZookError, isZookError } from '../client/index.js';
import { aclToText, parseAcl } from './acl-text.js';
import { explainError } from './shell-errors.js';

/** What commands share across a shell session. */
export interface ShellContext {
  /** Registered by every watch the shell sets; prints the event. */
  readonly watcher: Watcher;
}

export interface ShellCommand {
  readonly usage: string;
  run(client: ZookClient, args: string[], context: ShellContext): Promise<string[]>;
}

/** A failed call with the reason the shell worked out for it (shell-errors.ts). */
export class ShellError extends Error {
  override name = 'ShellError';
  constructor(
    readonly zook: ZookError,
    readonly reason: string | undefined,
  ) {
    super(zook.message, { cause: zook });
  }
}

const STATES: Record<WatchEvent['state'], string> = { connected: 'SyncConnected', expired: 'Expired', closed: 'Closed' };

/**
 * One watch event as the shell prints it, in zkCli's words on one line:
 * `WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:/x zxid:0x5`.
 */
export function formatEvent(event: WatchEvent): string {
  return `WATCHER:: WatchedEvent state:${STATES[event.state]} type:${event.type} path:${event.path === '' ? 'null' : event.path} zxid:0x${event.zxid.toString(16)}`;
}

const ADD_WATCH_MODES: readonly AddWatchMode[] = ['PERSISTENT', 'PERSISTENT_RECURSIVE'];

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Splits a command line into words; "double" and 'single' quotes group words. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of line.matchAll(pattern)) words.push(match[1]?.replace(/\\(.)/g, '$1') ?? match[2] ?? match[3]);
  return words;
}

/** Flags (-e, -v 3) and positional words; `withValue` lists the flags that take one. */
function parse(args: string[], withValue: string[] = []): { flags: Map<string, string>; rest: string[] } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (/^-[A-Za-z]$/.test(a)) {
      if (withValue.includes(a)) {
        if (i + 1 >= args.length) throw new UsageError(`${a} needs a value`);
        flags.set(a, args[++i]);
      } else flags.set(a, '');
    } else rest.push(a);
  }
  return { flags, rest };
}

function statLines(stat: Stat): string[] {
  return [
    `cZxid = ${stat.czxid}`,
    `ctime = ${new Date(stat.ctime).toISOString()}`,
    `mZxid = ${stat.mzxid}`,
    `mtime = ${new Date(stat.mtime).toISOString()}`,
    `pZxid = ${stat.pzxid}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = 0x${stat.ephemeralOwner.toString(16)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ];
}

/** The watch option of a read: the shell's watcher with -w, none without. */
function watchOf(flags: Map<string, string>, context: ShellContext): { watch?: Watcher } {
  return flags.has('-w') ? { watch: context.watcher } : {};
}

function need(rest: string[], count: number, usage: string): void {
  if (rest.length < count) throw new UsageError(`usage: ${usage}`);
}

function versionOf(flags: Map<string, string>): number {
  const v = flags.get('-v');
  if (v === undefined) return -1;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`-v takes an integer version, got "${v}"`);
  return n;
}

const text = (data: Uint8Array): string => new TextDecoder().decode(data);

async function listRecursive(client: ZookClient, path: string, out: string[]): Promise<void> {
  out.push(path);
  const children = (await client.getChildren(path)).sort();
  for (const child of children) await listRecursive(client, path === '/' ? `/${child}` : `${path}/${child}`, out);
}

async function deleteAll(client: ZookClient, path: string): Promise<void> {
  for (const child of await client.getChildren(path)) await deleteAll(client, path === '/' ? `/${child}` : `${path}/${child}`);
  if (path !== '/') {
    try {
      await client.delete(path);
    } catch (error) {
      if (!isZookError(error, 'NoNode')) throw error;
    }
  }
}

export const COMMANDS: Record<string, ShellCommand> = {
  ls: {
    usage: 'ls [-s] [-w] [-R] path',
    async run(client, args, context) {
      const { flags, rest } = parse(args);
      need(rest, 1, this.usage);
      if (flags.has('-R')) {
        if (flags.has('-w')) throw new UsageError('-w cannot go with -R');
        const out: string[] = [];
        await listRecursive(client, rest[0], out);
        return out;
      }
      const { children, stat } = await client.getChildren2(rest[0], watchOf(flags, context));
      const list = `[${children.sort().join(', ')}]`;
      return flags.has('-s') ? [list, ...statLines(stat)] : [list];
    },
  },
  get: {
    usage: 'get [-s] [-w] path',
    async run(client, args, context) {
      const { flags, rest } = parse(args);
      need(rest, 1, this.usage);
      const { data, stat } = await client.getData(rest[0], watchOf(flags, context));
      return flags.has('-s') ? [text(data), ...statLines(stat)] : [text(data)];
    },
  },
  set: {
    usage: 'set [-s] [-v version] path data',
    async run(client, args) {
      const { flags, rest } = parse(args, ['-v']);
      need(rest, 2, this.usage);
      const stat = await client.setData(rest[0], rest[1], { version: versionOf(flags) });
      return flags.has('-s') ? statLines(stat) : [];
    },
  },
  create: {
    usage: 'create [-e] [-s] [-c] [-t ttl] path [data] [acl]',
    async run(client, args) {
      const { flags, rest } = parse(args, ['-t']);
      need(rest, 1, this.usage);
      const ephemeral = flags.has('-e');
      const sequential = flags.has('-s');
      const ttl = flags.get('-t');
      if (ephemeral && (ttl !== undefined || flags.has('-c'))) throw new UsageError('-e cannot go with -t or -c');
      let mode: CreateModeName;
      if (flags.has('-c')) mode = 'CONTAINER';
      else if (ttl !== undefined) mode = sequential ? 'PERSISTENT_SEQUENTIAL_WITH_TTL' : 'PERSISTENT_WITH_TTL';
      else if (ephemeral) mode = sequential ? 'EPHEMERAL_SEQUENTIAL' : 'EPHEMERAL';
      else mode = sequential ? 'PERSISTENT_SEQUENTIAL' : 'PERSISTENT';
      const created = await client.create(rest[0], rest[1] ?? '', {
        mode,
        ...(ttl === undefined ? {} : { ttlMs: Number(ttl) }),
        ...(rest[2] === undefined ? {} : { acl: parseAcl(rest[2]) }),
      });
      return [`Created ${created}`];
    },
  },
  delete: {
    usage: 'delete [-v version] path',
    async run(client, args) {
      const { flags, rest } = parse(args, ['-v']);
      need(rest, 1, this.usage);
      await client.delete(rest[0], { version: versionOf(flags) });
      return [];
    },
  },
  deleteall: {
    usage: 'deleteall path',
    async run(client, args) {
      need(args, 1, this.usage);
      await deleteAll(client, args[0]);
      return [];
    },
  },
  stat: {
    usage: 'stat [-w] path',
    async run(client, args, context) {
      const { flags, rest } = parse(args);
      need(rest, 1, this.usage);
      const stat = await client.exists(rest[0], watchOf(flags, context));
      // With -w the watch stays, waiting for the node's creation (as zkCli).
      if (stat === null) throw new UsageError(`Node does not exist: ${rest[0]}${flags.has('-w') ? ' (watching for its creation)' : ''}`);
      return statLines(stat);
    },
  },
  addWatch: {
    usage: 'addWatch [-m PERSISTENT|PERSISTENT_RECURSIVE] path',
    async run(client, args, context) {
      const { flags, rest } = parse(args, ['-m']);
      need(rest, 1, this.usage);
      // zkCli's default (AddWatchCommand): PERSISTENT_RECURSIVE.
      const mode = (flags.get('-m') ?? 'PERSISTENT_RECURSIVE').toUpperCase();
      const known = ADD_WATCH_MODES.find((m) => m === mode);
      if (known === undefined) throw new UsageError(`-m takes ${ADD_WATCH_MODES.join(' or ')}, got "${flags.get('-m')}"`);
      await client.addWatch(rest[0], context.watcher, { mode: known });
      return [];
    },
  },
  removewatches: {
    usage: 'removewatches path [-c|-d|-a] [-l]',
    async run(client, args) {
      const { flags, rest } = parse(args);
      need(rest, 1, this.usage);
      // As zkCli: -c child watches, -d data (and exist) watches, -a (the default) every kind, persistent ones too; -l only here, not on the server.
      const type: WatcherKind = flags.has('-c') ? 'children' : flags.has('-d') ? 'data' : 'any';
      await client.removeWatches(rest[0], { type, ...(flags.has('-l') ? { local: true } : {}) });
      return [];
    },
  },
  getAcl: {
    usage: 'getAcl path',
    async run(client, args) {
      need(args, 1, this.usage);
      const { acl } = await client.getACL(args[0]);
      return aclToText(acl).split('\n');
    },
  },
  setAcl: {
    usage: 'setAcl [-v version] path acl',
    async run(client, args) {
      const { flags, rest } = parse(args, ['-v']);
      need(rest, 2, this.usage);
      await client.setACL(rest[0], parseAcl(rest[1]), { version: versionOf(flags) });
      return [];
    },
  },
  addauth: {
    usage: 'addauth scheme auth',
    async run(client, args) {
      need(args, 2, this.usage);
      await client.addAuth(args[0], args[1]);
      return [];
    },
  },
  sync: {
    usage: 'sync path',
    async run(client, args) {
      need(args, 1, this.usage);
      await client.sync(args[0]);
      return [`Sync is OK`];
    },
  },
  whoami: {
    usage: 'whoami',
    async run(client) {
      return (await client.whoAmI()).map((id) => `${id.scheme}: ${id.id}`);
    },
  },
};

export const HELP_LINES: string[] = ['zook shell commands:', ...Object.values(COMMANDS).map((c) => `  ${c.usage}`), '  help', '  quit'];

/**
 * Runs one command line; returns the lines to print. Throws UsageError on usage
 * errors, and a ShellError (the ZookError and its reason) on errors from the server.
 */
export async function runCommand(client: ZookClient, line: string, context: ShellContext): Promise<string[]> {
  const [name, ...args] = splitWords(line);
  if (name === undefined) return [];
  if (name === 'help') return HELP_LINES;
  const command = COMMANDS[name];
  if (command === undefined) throw new UsageError(`unknown command "${name}" (try help)`);
  try {
    return await command.run(client, args, context);
  } catch (error) {
    if (!isZookError(error)) throw error;
    const { flags, rest } = parse(args, ['-v', '-t', '-m']);
    throw new ShellError(error, await explainError(client, { name, flags, rest }, error));
  }
}

/**
 * One line describing a failure, as the shell prints it: the ZooKeeper error name
 * first (scripts match on it), the path, then the reason when the shell knows it:
 * `Error: BadVersion for /v: expected version 5, the node is at version 0`.
 */
export function describeError(error: unknown): string {
  if (error instanceof ShellError) {
    const z = error.zook;
    return `Error: ${z.code}${z.path === undefined ? '' : ` for ${z.path}`}${error.reason === undefined ? '' : `: ${error.reason}`}`;
  }
  if (isZookError(error)) return `Error: ${error.code}${error.path === undefined ? '' : ` for ${error.path}`}`;
  return `Error: ${error instanceof Error ? error.message : String(error)}`;
}
