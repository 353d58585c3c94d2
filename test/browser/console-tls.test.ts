// The web console over TLS: a server with tlsCertFile serves the console on https://,
// and the page's own client connects over wss:// to the same host:port (the browser's
// trust decides; here Chromium is told to accept the test CA's certificate).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveConfig } from '../../src/server/config.js';
import { type RunningServer, startServer } from '../../src/server/ws-server.js';
import { describeInBrowser, launchBrowser, openPage } from '../support/browser.js';
import { TestPki } from '../support/tls-certs.js';

interface PageElement {
  readonly textContent: string | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement> };

describeInBrowser('web console over TLS', () => {
  const pki = new TestPki();
  const dataDir = mkdtempSync(join(tmpdir(), 'zook-console-tls-'));
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    const ca = pki.ca('console-ca');
    const cert = pki.issue(ca, 'server');
    server = await startServer(resolveConfig({ dataDir, port: 0, zkPort: 0, tlsCertFile: cert.certFile, tlsKeyFile: cert.keyFile }));
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
    pki.cleanup();
  });

  it('served over https://, the console connects its client over wss:// and lists the tree', async () => {
    // The test CA is not in Chromium's trust store: this browser accepts its certificate.
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Security.setIgnoreCertificateErrors', { ignore: true });
    const { page: console, errors } = await openPage(browser, `https://127.0.0.1:${server.port}/`);
    await console.waitForFunction(() => document.querySelector('[data-test=client-state]')?.textContent === 'connected', { timeout: 20_000 });
    expect(await console.$eval('.server', (e) => e.textContent ?? '')).toContain(`wss://127.0.0.1:${server.port}`);
    await console.waitForSelector('[data-child="zookeeper"]', { timeout: 20_000 });
    expect(errors).toEqual([]);
  });
});
