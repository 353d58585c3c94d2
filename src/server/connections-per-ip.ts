// Client connections per remote IP address, both front doors together, against
// maxConnectionsPerIp (ZooKeeper's maxClientCnxns, which it checks at accept and
// answers by closing the socket at once). One table for the WebSocket and the
// ZooKeeper-protocol ports, so a client cannot take twice the limit by using both.

/** `::ffff:1.2.3.4` (an IPv4 client on an IPv6 socket) is `1.2.3.4`: one address, one count. */
export function normalizeIp(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped === null ? address : mapped[1];
}

/** A uWebSockets.js remote address (4 or 16 raw bytes) as text, IPv4-mapped IPv6 as IPv4. */
export function ipOfRawAddress(raw: ArrayBuffer, text: string): string {
  const b = new Uint8Array(raw);
  if (b.length === 4) return b.join('.');
  if (b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.subarray(12).join('.');
  return normalizeIp(text);
}

export class ConnectionsPerIp {
  private readonly counts = new Map<string, number>();

  constructor(readonly maxPerIp: number) {}

  /** Counts one more connection from `ip`; false (nothing counted) when it already holds maxPerIp. */
  tryAdd(ip: string): boolean {
    const n = this.counts.get(ip) ?? 0;
    if (n >= this.maxPerIp) return false;
    this.counts.set(ip, n + 1);
    return true;
  }

  /** One connection from `ip` ended (call once per successful tryAdd). */
  remove(ip: string): void {
    const n = this.counts.get(ip) ?? 0;
    if (n <= 1) this.counts.delete(ip);
    else this.counts.set(ip, n - 1);
  }

  count(ip: string): number {
    return this.counts.get(ip) ?? 0;
  }

  /** The refusal both doors give (logs, the WebSocket close reason). */
  refusal(ip: string): string {
    return `too many connections from ${ip}: this server takes at most ${this.maxPerIp} from one address (maxConnectionsPerIp)`;
  }
}
