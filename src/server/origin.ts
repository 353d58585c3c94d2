// Which browser pages may open the WebSocket port. Browsers send an Origin header
// with every WebSocket upgrade and let any page open a socket to any host, so
// without a check any web page a user visits could talk to a zook server on their
// network. Non-browser clients (the zook client on Node, tools) send no Origin.

export interface OriginPolicy {
  /** Any origin ('*' in the setting). */
  readonly any: boolean;
  /** Exact origins allowed besides the server's own. */
  readonly origins: ReadonlySet<string>;
}

/** Parses `allowedOrigins` ('' = none, '*' = any, else comma-separated origins); throws naming a bad entry. */
export function parseAllowedOrigins(setting: string): OriginPolicy {
  const entries = setting.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const origins = new Set<string>();
  let any = false;
  for (const entry of entries) {
    if (entry === '*') {
      any = true;
      continue;
    }
    let url: URL | null;
    try {
      url = new URL(entry);
    } catch {
      url = null;
    }
    // An origin is scheme://host[:port], nothing after it: what a browser sends.
    if (url === null || url.origin === 'null' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || /\/./.test(entry.slice(url.protocol.length + 2))) {
      throw new Error(`config: allowedOrigins entry "${entry}" is not an origin (scheme://host[:port], e.g. https://app.example.com)`);
    }
    origins.add(url.origin);
  }
  return { any, origins };
}

/**
 * Whether a WebSocket upgrade may proceed: no Origin header (not a browser), the
 * server's own origin (`scheme://` + the Host header the browser sent), or one the
 * policy allows.
 */
export function originAllowed(policy: OriginPolicy, origin: string, host: string, secure: boolean): boolean {
  if (origin === '' || policy.any) return true;
  const normalized = origin.toLowerCase();
  if (host !== '' && normalized === `${secure ? 'https' : 'http'}://${host.toLowerCase()}`) return true;
  return policy.origins.has(normalized);
}
