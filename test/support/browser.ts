// Tests in a real headless browser: Debian's Chromium (/usr/bin/chromium, installed by
// `bash test/zookeeper/external/install-deps.sh`) driven over the DevTools protocol by
// puppeteer-core, which downloads no browser of its own.
//
// When Chromium is missing the suite is skipped with a printed reason locally, and fails
// on CI (CI set, as .ci/run does): the same rule as test/zookeeper/external/support.ts.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { describe, it } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
export const BROWSER_INSTALL_COMMAND = 'bash test/zookeeper/external/install-deps.sh';

function onCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Why no browser test can run here, or null when Chromium is installed. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `missing ${CHROMIUM} (Debian package chromium): install with \`${BROWSER_INSTALL_COMMAND}\` (as root)`;
}

/**
 * A describe block whose tests need Chromium. Without it: on CI it is one failing test
 * saying what to install; elsewhere the block is skipped with a console warning.
 * Never silently skipped.
 */
export function describeInBrowser(name: string, body: () => void): void {
  const missing = chromiumMissing();
  if (missing === null) {
    describe(name, body);
  } else if (onCi()) {
    // One failing test rather than the body with a failing hook: the body's beforeAll
    // (which launches the browser) would fail first and leave its tests merely skipped.
    describe(name, () => {
      it('has Chromium to run in (required on CI)', () => {
        throw new Error(missing);
      });
    });
  } else {
    console.warn(`SKIPPED "${name}": ${missing}`);
    describe.skip(`${name} [skipped: ${missing}]`, body);
  }
}

/**
 * Headless Chromium. --no-sandbox because CI runs as root, where Chromium's sandbox
 * refuses to start; the pages it opens are the tests' own.
 */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    // Chromium starts slowly on a loaded 2-core machine.
    timeout: 60_000,
    protocolTimeout: 60_000,
  });
}

export interface OpenedPage {
  readonly page: Page;
  /** console.error lines, uncaught exceptions and failed requests, in the order they happened. */
  readonly errors: string[];
  /** Every console line (any level), as `level: text`. */
  readonly console: string[];
}

/** Opens `url` in a new page of `browser`, collecting its errors from the start. */
export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const lines: string[] = [];
  page.on('console', (message) => {
    lines.push(`${message.type()}: ${message.text()}`);
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`));
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  return { page, errors, console: lines };
}

export interface StaticFile {
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

export interface StaticServer {
  /** http://127.0.0.1:<port> (no trailing slash): the pages' origin. */
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves `files` (path -> content, e.g. '/index.html') on 127.0.0.1 at a free port; anything else is a 404 (/favicon.ico: an empty 204). */
export async function serveFiles(files: Readonly<Record<string, StaticFile>>): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = files[path];
    if (file === undefined && path === '/favicon.ico') {
      // Browsers ask for it unprompted; a 404 would show as a console error.
      response.writeHead(204).end();
      return;
    }
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    response.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
