// A TCP port for a server that is about to listen (local ensembles, benchmarks,
// tests): the OS picks one that is free, then lets it go.
import { createServer } from 'node:net';

/** A port that was free on `host` a moment ago (another process could still take it first). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
