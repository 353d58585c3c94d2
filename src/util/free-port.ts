// A TCP port for a server that is about to listen (local ensembles, benchmarks,
// tests). Chosen below Linux's ephemeral range (32768-60999 by default): a port the
// OS hands out for listen(0) is one it also hands to outgoing connections, so
// between choosing it and listening on it, a client socket (peer links dial all
// the time) may take it. Ports below that range are only ever taken on purpose.
import { createServer } from 'node:net';

const LOW_PORT = 20_000;
const HIGH_PORT = 32_000;
const ATTEMPTS = 50;

function tryListen(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(null));
    probe.listen(port, host, () => {
      const address = probe.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(bound));
    });
  });
}

/** A port that was free on `host` a moment ago (another process could still take it first). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = await tryListen(host, LOW_PORT + Math.floor(Math.random() * (HIGH_PORT - LOW_PORT)));
    if (port !== null) return port;
  }
  // Crowded: let the OS pick (an ephemeral port; the race above is then possible).
  const port = await tryListen(host, 0);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}

/**
 * A source of free ports that never hands out the same one twice (the ports of one
 * ensemble are chosen before any of them listens, so freePort alone could repeat).
 */
export function distinctFreePorts(host = '127.0.0.1'): () => Promise<number> {
  const given = new Set<number>();
  return async () => {
    for (;;) {
      const port = await freePort(host);
      if (!given.has(port)) {
        given.add(port);
        return port;
      }
    }
  };
}
