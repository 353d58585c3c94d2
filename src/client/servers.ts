// The server list from a connection string, and the order the client tries them in.

/**
 * Parses 'ws://a:8181,ws://b:8181' (or an array of such strings) into URLs. A
 * bare 'host:port' gets 'ws://'. Throws on an empty list or a non-WebSocket URL.
 */
export function parseServers(servers: string | readonly string[]): string[] {
  const parts = (typeof servers === 'string' ? servers.split(',') : servers.flatMap((s) => s.split(','))).map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new TypeError('no server given: expected "ws://host:port[,ws://host:port...]"');
  return parts.map((part) => {
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(part) ? part : `ws://${part}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`bad server address "${part}"`);
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new TypeError(`server "${part}" is not a ws:// or wss:// URL`);
    return url;
  });
}

/**
 * Cycles through the servers. Shuffled once at the start (as ZooKeeper does) so
 * that many clients with the same list spread over the servers.
 */
export class ServerList {
  private readonly urls: string[];
  private index = -1;

  constructor(urls: readonly string[], shuffle: boolean, random: () => number) {
    this.urls = [...urls];
    if (shuffle) {
      for (let i = this.urls.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [this.urls[i], this.urls[j]] = [this.urls[j], this.urls[i]];
      }
    }
  }

  get size(): number {
    return this.urls.length;
  }

  /** The server to try next: the one after the last one tried. */
  next(): string {
    this.index = (this.index + 1) % this.urls.length;
    return this.urls[this.index];
  }
}
