// The headless-browser setup itself (test/support/browser.ts): Debian's Chromium runs a
// page served by the test, and the page's errors reach the test.
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInBrowser, launchBrowser, openPage, serveFiles, type StaticServer } from '../support/browser.js';

describeInBrowser('headless Chromium', () => {
  let browser: Browser;
  let server: StaticServer;

  beforeAll(async () => {
    server = await serveFiles({
      '/index.html': {
        contentType: 'text/html',
        body: '<!doctype html><script type="module">window.answer = 6 * 7; console.error("from the page");</script>',
      },
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs a module script of a served page, and the page console errors reach the test', async () => {
    const { page, errors } = await openPage(browser, `${server.origin}/index.html`);
    await page.waitForFunction(() => (globalThis as unknown as { answer?: number }).answer !== undefined, { timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { answer: number }).answer)).toBe(42);
    expect(errors).toEqual(['console.error: from the page']);
  });
});
