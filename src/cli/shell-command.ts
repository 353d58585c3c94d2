// `zook shell`: an interactive shell with history and path completion, or one
// command with -c for scripts (prints its output; on error one line and exit 1).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { connect, type ZookClient } from '../client/index.js';
import { COMMANDS, describeError, runCommand } from './shell.js';

export const SHELL_USAGE = `zook shell [--server ws://host:port[,ws://host:port...]] [--tls-ca <file>] [-c "command"]
  interactive zkCli-style shell; -c runs one command and exits (non-zero on error)
  --tls-ca <file>   PEM CA the servers' certificates must chain to (wss:// servers)`;

const HISTORY_FILE = join(homedir(), '.zook_history');
const MAX_HISTORY_LINES = 1000;

function loadHistory(): string[] {
  if (!existsSync(HISTORY_FILE)) return [];
  return readFileSync(HISTORY_FILE, 'utf8').split('\n').filter(Boolean).slice(-MAX_HISTORY_LINES).reverse();
}

/** Completes a command name, or the last word as a path from the server's children. */
export async function complete(client: ZookClient, line: string): Promise<[string[], string]> {
  const words = line.split(/\s+/);
  const last = words[words.length - 1];
  if (words.length === 1) return [Object.keys(COMMANDS).filter((c) => c.startsWith(last)), last];
  if (!last.startsWith('/')) return [[], last];
  const slash = last.lastIndexOf('/');
  const parent = slash === 0 ? '/' : last.slice(0, slash);
  const prefix = last.slice(slash + 1);
  try {
    const children = await client.getChildren(parent, { timeoutMs: 2000 });
    const base = parent === '/' ? '/' : `${parent}/`;
    return [children.filter((c) => c.startsWith(prefix)).sort().map((c) => base + c), last];
  } catch {
    return [[], last];
  }
}

export async function shellCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string', default: 'ws://127.0.0.1:8181' },
      'tls-ca': { type: 'string' },
      c: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(SHELL_USAGE);
    return;
  }
  const tlsCaFile = values['tls-ca'];
  const client = await connect(values.server!.split(','), { sessionTimeoutMs: 10_000, connectTimeoutMs: 5000, ...(tlsCaFile === undefined ? {} : { tlsCaFile }) });
  if (values.c !== undefined) {
    try {
      for (const line of await runCommand(client, values.c)) console.log(line);
    } catch (error) {
      console.error(describeError(error));
      process.exitCode = 1;
    } finally {
      await client.close();
    }
    return;
  }
  await interactive(client, values.server!);
}

async function interactive(client: ZookClient, server: string): Promise<void> {
  client.on('state', (state) => console.log(`\n[${state}]`));
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    history: loadHistory(),
    historySize: MAX_HISTORY_LINES,
    completer: (line: string, callback: (error: Error | null, result: [string[], string]) => void) => {
      complete(client, line).then(
        (result) => callback(null, result),
        () => callback(null, [[], line]),
      );
    },
    prompt: `[zook: ${server}] `,
  });
  rl.prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (trimmed === 'quit' || trimmed === 'exit') break;
    if (trimmed !== '') {
      appendFileSync(HISTORY_FILE, `${trimmed}\n`);
      try {
        for (const out of await runCommand(client, trimmed)) console.log(out);
      } catch (error) {
        console.log(describeError(error));
      }
    }
    rl.prompt();
  }
  rl.close();
  await client.close();
}
