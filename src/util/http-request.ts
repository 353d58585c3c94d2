// One HTTP or HTTPS request: the CLI's admin and snapshot calls, and a server asking
// the other members for their /status. Node's fetch cannot be given a CA;
// node:https can, so a server whose certificate a private CA signed is verified
// against that CA (and its name against the URL's host).
import { request as httpRequestRaw } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

export interface HttpResult {
  readonly status: number;
  readonly text: string;
}

export interface HttpRequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  /** The whole exchange (connect, TLS, answer) must finish in this time. */
  readonly timeoutMs: number;
  /** https: PEM CA the server's certificate must chain to (default: Node's trusted roots). */
  readonly ca?: Buffer;
  /** Largest answer read; a longer one fails the request (default MAX_RESPONSE_BYTES). */
  readonly maxResponseBytes?: number;
}

/** Largest answer read (the admin endpoints answer a few KiB). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Resolves with the status and body; rejects on network, TLS or timeout errors (a timeout's error is named TimeoutError). */
export function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpResult> {
  const secure = new URL(url).protocol === 'https:';
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const init = { method: options.method ?? 'GET', headers: { ...options.headers }, signal, ...(secure && options.ca !== undefined ? { ca: options.ca } : {}) };
    const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    const req = (secure ? httpsRequestRaw : httpRequestRaw)(url, init, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) req.destroy(new Error(`answer over ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (error) => reject(signal.aborted ? Object.assign(new Error('timed out'), { name: 'TimeoutError' }) : error));
    req.end();
  });
}

export interface DownloadResult {
  readonly status: number;
  /** The answer's headers (lower-case names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** A 2xx answer's body went to the file; any other answer's body (at most MAX_RESPONSE_BYTES), as text. */
  readonly errorText: string;
  readonly bytes: number;
}

/**
 * GET into a file: a 2xx answer's body is streamed to `path` (created or truncated;
 * fsynced before this resolves), whatever its size. Rejects as httpRequest does.
 */
export function httpDownload(url: string, path: string, options: HttpRequestOptions): Promise<DownloadResult> {
  const secure = new URL(url).protocol === 'https:';
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const init = { method: 'GET', headers: { ...options.headers }, signal, ...(secure && options.ca !== undefined ? { ca: options.ca } : {}) };
    const req = (secure ? httpsRequestRaw : httpRequestRaw)(url, init, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status, headers: res.headers, errorText: Buffer.concat(chunks).toString('utf8'), bytes }));
        res.on('error', reject);
        return;
      }
      const file = createWriteStream(path, { flush: true });
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      pipeline(res, file).then(
        () => resolve({ status, headers: res.headers, errorText: '', bytes }),
        (error: unknown) => reject(signal.aborted ? Object.assign(new Error('timed out'), { name: 'TimeoutError' }) : error),
      );
    });
    req.on('error', (error) => reject(signal.aborted ? Object.assign(new Error('timed out'), { name: 'TimeoutError' }) : error));
    req.end();
  });
}
