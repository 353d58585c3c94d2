// The browser build (dist/browser/zook.js, made by `npm run build`) in a real headless
// Chromium against a real zook server process: a page served over HTTP imports the
// file, connects to ws://127.0.0.1:<port>, and runs a Lock and a LeaderLatch. The page
// is another origin than the WebSocket port, so the server is started with that origin
// in allowedOrigins (by default only the server's own origin may connect).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInBrowser, launchBrowser, openPage, serveFiles, type OpenedPage, type StaticServer } from '../support/browser.js';
import { startServerProcess, type ServerProcess } from '../server/support/server-process.js';
import { connect, Lock } from '../../src/index.js';
import { until } from '../support/until.js';

// The page's view of the module it imported: the package's own types.
type Zook = typeof import('../../src/index.js');
interface PageGlobals {
  zook: Zook;
}

const BUNDLE = fileURLToPath(new URL('../../dist/browser/zook.js', import.meta.url));
const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** The README's page: the html example of its "In the browser" section. */
function readmePage(): string {
  const start = README.indexOf('\n### In the browser\n');
  if (start < 0) throw new Error('README.md has no "### In the browser" section');
  const section = README.slice(start, README.indexOf('\n#', start + 1));
  const page = /```html\n([\s\S]*?)```/.exec(section);
  if (page === null) throw new Error('the "In the browser" section has no html example');
  return page[1];
}
const PAGE = `<!doctype html>
<title>zook in a page</title>
<script type="module">
  import * as zook from './zook.js';
  window.zook = zook;
</script>`;

function files(serverUrl = ''): Record<string, { contentType: string; body: string }> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build (npm test does)`);
  return {
    '/index.html': { contentType: 'text/html', body: PAGE },
    '/readme.html': { contentType: 'text/html', body: readmePage().replaceAll('ws://127.0.0.1:8181', serverUrl) },
    '/zook.js': { contentType: 'text/javascript', body: readFileSync(BUNDLE, 'utf8') },
    '/zook.js.map': { contentType: 'application/json', body: readFileSync(`${BUNDLE}.map`, 'utf8') },
  };
}

/** Opens the page and waits until its module imported the build. */
async function openZookPage(browser: Browser, origin: string): Promise<OpenedPage> {
  const opened = await openPage(browser, `${origin}/index.html`);
  await opened.page
    .waitForFunction(() => (globalThis as unknown as Partial<PageGlobals>).zook !== undefined, { timeout: 30_000 })
    .catch((error: Error) => {
      throw new Error(`the page did not load the build: ${error.message}; page errors: ${opened.errors.join('; ')}`);
    });
  return opened;
}

describeInBrowser('the browser build in headless Chromium', () => {
  let browser: Browser;
  let site: StaticServer;
  let otherSite: StaticServer;
  let server: ServerProcess;
  let configDir: string;
  let opened: OpenedPage;
  let page: Page;

  beforeAll(async () => {
    // The page's origin goes into the server's config, and the server's URL into the
    // README page: the files are served from a fixed map, so the port is picked first.
    const pageFiles = files();
    site = await serveFiles(pageFiles);
    otherSite = await serveFiles(files());
    configDir = mkdtempSync(join(tmpdir(), 'zook-browser-'));
    const config = join(configDir, 'zook.json');
    writeFileSync(config, JSON.stringify({ allowedOrigins: site.origin }));
    server = await startServerProcess({ extraArgs: ['--config', config] });
    Object.assign(pageFiles, files(server.url));
    browser = await launchBrowser();
    opened = await openZookPage(browser, site.origin);
    page = opened.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
    await site?.close();
    await otherSite?.close();
    if (configDir !== undefined) rmSync(configDir, { recursive: true, force: true });
  });

  it('imports no Node built-in and no ws', () => {
    const code = readFileSync(BUNDLE, 'utf8');
    expect(code.match(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["'][^"']+["']/g) ?? []).toEqual([]);
    expect(code).not.toMatch(/\bBuffer\.|\bprocess\.(env|nextTick|versions)/);
  });

  it('loads, and its WebAssembly core runs in the page', async () => {
    const crc = await page.evaluate(() => {
      const { crc32c } = (globalThis as unknown as PageGlobals).zook;
      return crc32c(new TextEncoder().encode('123456789')).toString(16);
    });
    expect(crc).toBe('e3069283');
    expect(opened.errors).toEqual([]);
  });

  it('connects over the browser WebSocket, creates a node and reads it back', async () => {
    const read = await page.evaluate(async (url: string) => {
      const { connect } = (globalThis as unknown as PageGlobals).zook;
      const zk = await connect(url);
      try {
        await zk.create('/from-a-page', 'hello from Chromium');
        const { data } = await zk.getData('/from-a-page');
        return new TextDecoder().decode(data);
      } finally {
        await zk.close();
      }
    }, server.url);
    expect(read).toBe('hello from Chromium');
    expect(opened.errors).toEqual([]);
  });

  it('Lock: of two contenders on two connections, the second waits until the first releases', async () => {
    const steps = await page.evaluate(async (url: string) => {
      const { connect, Lock } = (globalThis as unknown as PageGlobals).zook;
      const steps: string[] = [];
      const [zk1, zk2] = await Promise.all([connect(url), connect(url)]);
      try {
        const first = new Lock(zk1, '/locks/page');
        const second = new Lock(zk2, '/locks/page');
        if (await first.acquire({ timeoutMs: 30_000 })) steps.push('first holds');
        const secondAcquired = second.acquire({ timeoutMs: 60_000 }).then((held) => {
          steps.push(held ? 'second holds' : 'second timed out');
          return held;
        });
        // The second is in line once its node is there: two contenders' nodes under the lock.
        const deadline = Date.now() + 30_000;
        while ((await zk1.getChildren('/locks/page')).length < 2) {
          if (Date.now() > deadline) throw new Error('the second contender never queued');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        steps.push(`second queued, held: ${second.isHeld()}`);
        await first.release();
        steps.push('first released');
        await secondAcquired;
        steps.push(`second isHeld: ${second.isHeld()}`);
        await second.release();
        steps.push(`nodes left: ${(await zk1.getChildren('/locks/page')).length}`);
        return steps;
      } finally {
        await Promise.all([zk1.close(), zk2.close()]);
      }
    }, server.url);
    expect(steps).toEqual(['first holds', 'second queued, held: false', 'first released', 'second holds', 'second isHeld: true', 'nodes left: 0']);
    expect(opened.errors).toEqual([]);
  });

  it('LeaderLatch: of two participants exactly one leads, and the other leads once it closes', async () => {
    const result = await page.evaluate(async (url: string) => {
      const { connect, LeaderLatch } = (globalThis as unknown as PageGlobals).zook;
      const [zk1, zk2] = await Promise.all([connect(url), connect(url)]);
      try {
        const a = new LeaderLatch(zk1, '/election/page', { id: 'a' });
        const b = new LeaderLatch(zk2, '/election/page', { id: 'b' });
        await Promise.all([a.start(), b.start()]);
        const deadline = Date.now() + 30_000;
        while (!a.isLeader() && !b.isLeader()) {
          if (Date.now() > deadline) throw new Error('no leader within 30 s');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const leaders = [a, b].filter((l) => l.isLeader()).map((l) => l.id);
        const participants = (await a.participants()).map((p) => `${p.id}${p.leader ? ' (leader)' : ''}`).sort();
        const [leader, other] = a.isLeader() ? [a, b] : [b, a];
        await leader.close();
        const otherLeads = await other.waitForLeadership({ timeoutMs: 30_000 });
        const after = (await other.participants()).map((p) => `${p.id}${p.leader ? ' (leader)' : ''}`);
        await other.close();
        return { leaders, participants, first: leader.id, otherLeads, after, expected: other.id };
      } finally {
        await Promise.all([zk1.close(), zk2.close()]);
      }
    }, server.url);
    expect(result.leaders).toEqual([result.first]);
    expect(result.participants).toEqual(result.first === 'a' ? ['a (leader)', 'b'] : ['a', 'b (leader)']);
    expect(result.otherLeads).toBe(true);
    expect(result.after).toEqual([`${result.expected} (leader)`]);
    expect(opened.errors).toEqual([]);
  });

  it("the README's page waits for the lock a Node process holds, then holds and releases it", async () => {
    const zk = await connect(server.url);
    const held = new Lock(zk, '/locks/report');
    expect(await held.acquire({ timeoutMs: 30_000 })).toBe(true);
    const readme = await openPage(browser, `${site.origin}/readme.html`);
    try {
      const statusIs = (text: string): Promise<unknown> =>
        readme.page.waitForFunction(`document.getElementById('status')?.textContent === ${JSON.stringify(text)}`, { timeout: 30_000 });
      // The page reached 'waiting for the lock' and its contender node is in line behind ours.
      await statusIs('waiting for the lock');
      await until('the page to queue for /locks/report', async () => ((await zk.getChildren('/locks/report')).length === 2 ? true : undefined), 30_000);
      expect(await readme.page.evaluate("document.getElementById('status').textContent")).toBe('waiting for the lock');
      await held.release();
      await statusIs('done: lock released');
      expect(await zk.getChildren('/locks/report')).toEqual([]);
      expect(readme.errors).toEqual([]);
    } finally {
      await readme.page.close();
      await zk.close();
    }
  });

  it('a page from an origin not in allowedOrigins cannot connect', async () => {
    const other = await openZookPage(browser, otherSite.origin);
    try {
      const outcome = await other.page.evaluate(async (url: string) => {
        const { connect } = (globalThis as unknown as PageGlobals).zook;
        try {
          const zk = await connect(url, { connectTimeoutMs: 3_000 });
          await zk.close();
          return 'connected';
        } catch (error) {
          return `refused: ${error instanceof Error ? error.message : String(error)}`;
        }
      }, server.url);
      // The browser reports the server's 403 only as a close (1006), so connect() times out.
      expect(outcome).toMatch(/^refused: /);
    } finally {
      await other.page.close();
    }
  });
});
