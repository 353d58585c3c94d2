#!/usr/bin/env node
// The `zook` command: dispatches to one subcommand; the subcommands hold no logic
// that belongs in the modules they call.
import { ADMIN_USAGE, adminCommand } from './admin-command.js';
import { CLUSTER_USAGE, clusterCommand } from './cluster-command.js';
import { SERVER_USAGE, serverCommand } from './server-command.js';
import { SHELL_USAGE, shellCommand } from './shell-command.js';
import { SNAPSHOT_USAGE, snapshotCommand } from './snapshot-command.js';
import { main as walTool } from '../storage/wal-tool.js';

const USAGE = `usage: zook <command> [options]

commands:
  server     run a server node
  cluster    a local ensemble of 1..7 servers on 127.0.0.1, to try zook out
  admin      status of an ensemble, move its leader, add or remove servers
  shell      a zkCli-style shell against a server
  snapshot   back up a running server or ensemble, restore into a new one:
               zook snapshot save|restore|status <file> ...
  wal        inspect or repair a stopped server's log:
               zook wal verify <data-dir>
               zook wal repair <data-dir> --truncate-after <index>
  help       this text

${SERVER_USAGE}

${CLUSTER_USAGE}

${ADMIN_USAGE}

${SHELL_USAGE}

${SNAPSHOT_USAGE}`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      await serverCommand(rest);
      return;
    case 'cluster':
      await clusterCommand(rest);
      return;
    case 'admin':
      await adminCommand(rest);
      return;
    case 'shell':
      await shellCommand(rest);
      return;
    case 'snapshot':
      await snapshotCommand(rest);
      return;
    case 'wal':
      process.exitCode = await walTool(rest);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`zook: unknown command "${command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`zook: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
