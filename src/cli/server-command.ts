// `zook server`: one node, configured by file, environment and flags (flags win).
import { parseArgs } from 'node:util';
import { ensembleServer, isEnsembleFile, parseEnsemble, type Ensemble } from '../server/cluster/ensemble.js';
import { configFromEnv, readConfigFile, resolveConfig, type ServerConfig } from '../server/config.js';
import type { ZookNode } from '../server/node.js';
import { startServer } from '../server/ws-server.js';
import { createLog, defaultLogFormat, type LogFormat, type LogLevel } from '../util/log.js';

export const SERVER_USAGE = `zook server [options]
  --config <file>        JSON file with any server setting, or an ensemble file
                         (servers, clusterId, secret: see README) with --id
  --id <n>               this server's id in the ensemble file
  --data-dir <dir>       where the WAL and snapshots live (default ./zook-data)
  --host <addr>          address to listen on (default 127.0.0.1)
  --port <n>             zook's WebSocket + HTTP port (/health, /status, /metrics)
                         (default 8181; 0 picks a free port)
  --zk-port <n>          ZooKeeper's client protocol port, for any ZooKeeper client
                         (default 2181; 0 picks a free port)
  --server-id <n>        1..127 (default 1)
  --tick-ms <n>          session clock tick (default 1000; timeouts 2..20 ticks)
  --tls-cert <file>      PEM certificate: with --tls-key, both client ports and the
                         peer links speak TLS only (wss://, https://, TLS ZooKeeper port)
  --tls-key <file>       PEM private key of --tls-cert
  --tls-ca <file>        PEM CA that signs the servers' certificates (mutual TLS
                         between servers; required for an ensemble with TLS)
  --allow-slow-websockets  run even if uWebSockets.js fell back to its JS emulation
  --log-level <level>    trace, debug, info (default), warn, error, fatal or silent
  --log-format <format>  pretty (one readable line per event) or json (one JSON
                         object per line); default pretty on a terminal, json otherwise`;

/**
 * What the data dir held, without reading as lost data: a member of an ensemble
 * applies its recovered log only once it hears the commit index from a leader,
 * so right after start its tree can still be the snapshot's.
 */
function dataSummary(node: ZookNode): string {
  const applied = node.lastApplied;
  const logged = node.raft.lastIndex;
  const tree = `${node.tree.nodeCount} znodes at zxid ${applied}`;
  return logged > applied ? `${tree}; the log holds through ${logged}, applied as the leader confirms it` : tree;
}

export async function serverCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      id: { type: 'string' },
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'zk-port': { type: 'string' },
      'server-id': { type: 'string' },
      'tick-ms': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'allow-slow-websockets': { type: 'boolean' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(SERVER_USAGE);
    return;
  }
  const flags: Partial<Record<keyof ServerConfig, unknown>> = {
    dataDir: values['data-dir'],
    host: values.host,
    port: values.port,
    zkPort: values['zk-port'],
    serverId: values['server-id'],
    tickMs: values['tick-ms'],
    tlsCertFile: values['tls-cert'],
    tlsKeyFile: values['tls-key'],
    tlsCaFile: values['tls-ca'],
    allowSlowWebSockets: values['allow-slow-websockets'],
    logLevel: values['log-level'],
    logFormat: values['log-format'],
  };
  const file = values.config === undefined ? {} : readConfigFile(values.config);
  let ensemble: Ensemble | null = null;
  let fromFile: Partial<Record<keyof ServerConfig, unknown>> = file;
  if (isEnsembleFile(file)) {
    ensemble = parseEnsemble(file);
    if (values.id === undefined) throw new Error(`zook server: ${values.config} is an ensemble file: say which server this is with --id <n>`);
    const me = ensembleServer(ensemble, Number(values.id));
    fromFile = {
      ...(ensemble.settings as Partial<Record<keyof ServerConfig, unknown>>),
      serverId: me.id,
      host: me.host,
      port: me.clientPort,
      zkPort: me.zkPort,
      dataDir: me.dataDir ?? `./zook-data-${me.id}`,
    };
  } else if (values.id !== undefined) flags.serverId = values.id;
  const config = resolveConfig({
    ...fromFile,
    ...configFromEnv(process.env),
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
  });
  const format: LogFormat = config.logFormat === 'auto' ? defaultLogFormat(process.stdout.isTTY === true) : (config.logFormat as LogFormat);
  const log = createLog({ level: config.logLevel as LogLevel, format, serverId: config.serverId });
  const serverLog = log.child({ component: 'server' });
  // Every setting in force, once: secrets are blanked by the logger's redact paths (REDACTED_PATHS).
  serverLog.info(
    {
      node: process.version,
      pid: process.pid,
      settings: config,
      ...(ensemble === null ? {} : { ensemble: { clusterId: ensemble.clusterId, secret: ensemble.secret, servers: ensemble.servers } }),
    },
    `starting zook server ${config.serverId}`,
  );
  const server = await startServer(config, ensemble, log);
  const role = ensemble === null ? 'standalone' : `member of ${ensemble.clusterId} (${ensemble.servers.length} servers listed)`;
  // Tools and tests wait for this line (its text is part of zook's interface: keep it).
  serverLog.info(
    { port: server.port, zkPort: server.zkPort, tls: server.secure, role: ensemble === null ? 'standalone' : 'member', znodes: server.node.tree.nodeCount, zxid: server.node.lastApplied },
    `zook: server ${config.serverId} listening on ${server.secure ? 'wss' : 'ws'}://${config.host}:${server.port} (ZooKeeper clients: ${config.host}:${server.zkPort}${server.secure ? ' over TLS' : ''}), ${role} (data in ${config.dataDir}: ${dataSummary(server.node)})`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    serverLog.info({ signal }, `${signal}: finishing in-flight writes and closing the log`);
    server.close().then(
      () => {
        serverLog.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        serverLog.fatal({ err: error }, `shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
