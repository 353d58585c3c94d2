// `zook shell`: an interactive shell with history and path completion, or one
// command with -c for scripts (prints its output; on error one line and exit 1).
// Watch events print as they arrive (shell.ts formatEvent). On a terminal the line
// being typed is cleared, the event printed, and the prompt redrawn with what was
// typed; with stdin piped (scripts, tests) there is no prompt and an event is
// just printed as a line.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import { connect, type WatchEvent, type ZookClient } from '../client/index.js';
import { COMMANDS, describeError, formatEvent, runCommand, type ShellContext } from './shell.js';

export const SHELL_USAGE = `zook shell [--server ws://host:port[,ws://host:port...]] [--tls-ca <file>] [-c "command"]
  interactive zkCli-style shell; -c runs one command and exits (non-zero on error)
  watches: get -w, ls -w, stat -w, addWatch [-m PERSISTENT|PERSISTENT_RECURSIVE], removewatches;
  each event prints as "WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:/x zxid:0x5"
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
    // A watch set by -c is set, but the shell exits before an event could come.
    const context: ShellContext = { watcher: (event) => printEvent(event, (line) => console.log(line)) };
    try {
      for (const line of await runCommand(client, values.c, context)) console.log(line);
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

/** Prints a watch event, but not the 'closed' one every watcher gets when the shell itself closes. */
function printEvent(event: WatchEvent, print: (line: string) => void): void {
  if (event.state !== 'closed') print(formatEvent(event));
}

/**
 * A printer for lines that arrive while the user may be typing. On a terminal,
 * while the prompt is shown: clear the line, print, redraw the prompt and the
 * typed text (readline's prompt(true) keeps the cursor). Otherwise a plain line.
 */
function asyncPrinter(rl: Interface, terminal: boolean, prompting: () => boolean): (line: string) => void {
  return (line) => {
    if (!terminal || !prompting()) {
      console.log(line);
      return;
    }
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    process.stdout.write(`${line}\n`);
    rl.prompt(true);
  };
}

async function interactive(client: ZookClient, server: string): Promise<void> {
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  let prompting = false;
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
    // No prompt when stdin or stdout is not a terminal: piped output is the commands' lines and events only.
    prompt: terminal ? `[zook: ${server}] ` : '',
  });
  const print = asyncPrinter(rl, terminal, () => prompting);
  client.on('state', (state) => print(`[${state}]`));
  const context: ShellContext = { watcher: (event) => printEvent(event, print) };
  const showPrompt = (): void => {
    rl.prompt();
    prompting = true;
  };
  showPrompt();
  for await (const line of rl) {
    prompting = false;
    const trimmed = line.trim();
    if (trimmed === 'quit' || trimmed === 'exit') break;
    if (trimmed !== '') {
      appendFileSync(HISTORY_FILE, `${trimmed}\n`);
      try {
        for (const out of await runCommand(client, trimmed, context)) console.log(out);
      } catch (error) {
        console.log(describeError(error));
      }
    }
    showPrompt();
  }
  rl.close();
  await client.close();
}
