// The web console (issue 17) in a real headless Chromium, served by a follower of a real
// 3-server ensemble (the built dist/: `npm run build` first). One ensemble, one page;
// the tests run in order on it, each proving one thing the console does.
//
// With ZOOK_CONSOLE_SCREENSHOTS=<dir> set, it also saves the screenshots the README shows
// (docs/console-*.png): `ZOOK_CONSOLE_SCREENSHOTS=docs npx vitest run test/browser/console.test.ts`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, Perms, type ZookClient } from '../../src/client/index.js';
import { digestId } from '../../src/tree/acl.js';
import { CLUSTER_ID, Cluster, SECRET, until } from '../cluster/support/cluster.js';
import { adminToken } from '../../src/server/admin-http.js';
import { describeInBrowser, launchBrowser, openPage } from '../support/browser.js';

/** The page's document, as the functions run in the page use it (the tests compile without the DOM lib). */
interface PageElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): { readonly length: number } };

const SHOTS = process.env.ZOOK_CONSOLE_SCREENSHOTS;
/** Generous: a shared 2-core machine runs three servers, Chromium and the test. */
const UI_TIMEOUT_MS = 20_000;

describeInBrowser('web console on a 3-server ensemble', () => {
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let client: ZookClient;
  /** The server the page came from: a follower, so it outlives the leader. */
  let served: number;
  let leader: number;

  beforeAll(async () => {
    cluster = await Cluster.start({ size: 3 });
    leader = await cluster.leader(30_000);
    served = cluster.ids.find((id) => id !== leader)!;
    client = await connect(cluster.connectString());
    await client.create('/apps', 'from node');
    browser = await launchBrowser();
    const opened = await openPage(browser, `http://127.0.0.1:${cluster.clientPort.get(served)!}/`);
    page = opened.page;
    errors = opened.errors;
    await page.setViewport({ width: 1280, height: 860 });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await browser?.close();
    await cluster?.stopAll();
  });

  const text = (selector: string): Promise<string> => page.$eval(selector, (e) => e.textContent ?? '');
  const tab = async (name: string): Promise<void> => {
    await page.click(`[data-tab=${name}]`);
  };
  /** Replaces what an input or textarea holds, as a user would (select all, type). */
  const typeInto = async (selector: string, value: string): Promise<void> => {
    await page.click(selector);
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyA');
    await page.keyboard.up('Control');
    await page.keyboard.press('Backspace');
    await page.type(selector, value);
  };
  const open = async (name: string): Promise<void> => {
    await page.waitForSelector(`[data-child="${name}"]`, { timeout: UI_TIMEOUT_MS });
    await page.click(`[data-child="${name}"]`);
    await page.waitForFunction((n: string) => document.querySelector('.node h3')?.textContent?.endsWith(`/${n}`) === true, { timeout: UI_TIMEOUT_MS }, name);
  };
  const goRoot = async (): Promise<void> => {
    await tab('tree');
    await page.click('[data-test=crumbs] a');
    await page.waitForFunction(() => document.querySelector('.node h3')?.textContent === '/', { timeout: UI_TIMEOUT_MS });
    // Nodes made by the Node client since the page last read / show after a refresh.
    await page.click('[data-test=refresh]');
  };
  const shot = async (name: string): Promise<void> => {
    if (SHOTS === undefined) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `console-${name}.png`) });
  };

  it('loads from a follower of the ensemble, connects its own client, and lists the children of /', async () => {
    await page.waitForFunction(() => document.querySelector('[data-test=client-state]')?.textContent === 'connected', { timeout: UI_TIMEOUT_MS });
    await page.waitForSelector('[data-child="apps"]', { timeout: UI_TIMEOUT_MS });
    const children = await page.$$eval('[data-test=children] a', (as) => as.map((a) => a.textContent));
    expect(children).toEqual(expect.arrayContaining(['apps', 'zookeeper']));
    expect(errors).toEqual([]);
  });

  it('creates a node and edits it with a version check; a Node client reads the edit', async () => {
    await typeInto('[data-test=new-name]', 'made-in-browser');
    await typeInto('[data-test=new-data]', '{"v":1}');
    await page.click('[data-test=create]');
    await open('made-in-browser');
    expect(await text('[data-test=data]')).toBe('{"v":1}');
    await page.click('[data-test=edit]');
    await typeInto('[data-test=editor]', '{"v":2,"edited":"in the console"}');
    await page.click('[data-test=save]');
    await page.waitForFunction(() => document.querySelector('[data-test=tree-notice]')?.textContent?.includes('version 1') === true, { timeout: UI_TIMEOUT_MS });
    const { data, stat } = await client.getData('/made-in-browser', { linearizable: true });
    expect(new TextDecoder().decode(data)).toBe('{"v":2,"edited":"in the console"}');
    expect(stat.version).toBe(1);
    await shot('tree');
  });

  it('refuses an edit made against an older version (BadVersion) and leaves the other write in place', async () => {
    await page.click('[data-test=edit]');
    await client.setData('/made-in-browser', 'changed by node');
    await typeInto('[data-test=editor]', 'stale edit');
    await page.click('[data-test=save]');
    await page.waitForSelector('[data-test=tree-error]', { timeout: UI_TIMEOUT_MS });
    expect(await text('[data-test=tree-error]')).toMatch(/BadVersion/);
    expect(new TextDecoder().decode((await client.getData('/made-in-browser', { linearizable: true })).data)).toBe('changed by node');
  });

  it('shows data as text, pretty JSON and hex, with the Stat and the ACL', async () => {
    await client.create('/json-node', '{"a":[1,2]}');
    await goRoot();
    await open('json-node');
    expect(await text('[data-test=data]')).toBe('{"a":[1,2]}');
    await page.click('[data-view=json]');
    expect(await text('[data-test=data]')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
    await page.click('[data-view=hex]');
    expect(await text('[data-test=data]')).toBe('00000000  7b 22 61 22 3a 5b 31 2c 32 5d 7d                 {"a":[1,2]}');
    await page.click('[data-view=text]');
    const stat = await text('[data-test=stat]');
    expect(stat).toContain('dataLength11');
    expect(stat).toContain('version0');
    expect(await text('[data-test=acl]')).toBe('world:anyonecdrwa');
  });

  it('deletes a node only after the confirmation step', async () => {
    await client.create('/to-delete', '');
    await goRoot();
    await open('to-delete');
    await page.click('[data-test=delete]');
    expect(await client.exists('/to-delete')).not.toBeNull();
    await page.click('[data-test=confirm-delete]');
    await until('/to-delete gone', UI_TIMEOUT_MS, async () => ((await client.exists('/to-delete')) === null ? true : undefined), 100);
  });

  it('lists a large parent a page at a time (100 children, then the rest on More)', async () => {
    await client.create('/big', '');
    const names = Array.from({ length: 150 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    await client.multi(names.map((n) => ({ op: 'create' as const, path: `/big/${n}` })));
    await goRoot();
    await open('big');
    await page.waitForFunction(() => document.querySelectorAll('[data-test=children] a').length === 100, { timeout: UI_TIMEOUT_MS });
    await page.click('[data-test=more]');
    await page.waitForFunction(() => document.querySelectorAll('[data-test=children] a').length === 150, { timeout: UI_TIMEOUT_MS });
    expect(await page.$$eval('[data-test=children] a', (as) => as.map((a) => a.textContent))).toEqual(names);
    expect(await page.$('[data-test=more]')).toBeNull();
  });

  it('shows the data of a node readable only by a digest user once signed in as that user', async () => {
    await client.create('/private', 'for alice only', { acl: [{ perms: Perms.ALL, scheme: 'digest', id: digestId('alice', 'alice-pw') }] });
    await goRoot();
    await open('private');
    await page.waitForSelector('[data-test=tree-error]', { timeout: UI_TIMEOUT_MS });
    expect(await text('[data-test=tree-error]')).toMatch(/NoAuth/);
    await page.type('input[name=user]', 'alice');
    await page.type('input[name=password]', 'alice-pw');
    await page.click('.signin button[type=submit]');
    await page.waitForSelector('[data-test=signed-in]', { timeout: UI_TIMEOUT_MS });
    await page.waitForFunction(() => document.querySelector('[data-test=client-state]')?.textContent === 'connected', { timeout: UI_TIMEOUT_MS });
    await page.waitForFunction(() => document.querySelector('[data-test=data]')?.textContent === 'for alice only', { timeout: UI_TIMEOUT_MS });
  });

  it("shows another client's write in the watch panel within a second of the write", async () => {
    await tab('watch');
    await page.click('[data-test=watch-start]');
    await page.waitForSelector('[data-test=watching]', { timeout: UI_TIMEOUT_MS });
    await client.create('/apps/watched', 'x');
    // The page stamps each event with its arrival time (data-at), on the same clock as this process.
    const writtenAtMs = Date.now();
    const handle = await page.waitForSelector('[data-test=events] tr[data-path="/apps/watched"][data-type=NodeCreated]', { timeout: UI_TIMEOUT_MS });
    const arrivedAtMs = Number(await handle!.evaluate((row) => row.getAttribute('data-at')));
    expect(arrivedAtMs - writtenAtMs).toBeLessThan(1000);
    if (SHOTS !== undefined) {
      await client.setData('/apps/watched', 'y');
      await client.create('/apps/more', '');
      await client.delete('/apps/more');
      await page.waitForSelector('[data-test=events] tr[data-path="/apps/more"][data-type=NodeDeleted]', { timeout: UI_TIMEOUT_MS });
    }
    await shot('watch');
  });

  it("with the admin token, lists every session and the console's own ephemeral under its session", async () => {
    await goRoot();
    await typeInto('[data-test=new-name]', 'console-ephemeral');
    await page.select('.create select', 'EPHEMERAL');
    await page.click('[data-test=create]');
    await page.waitForSelector('[data-child="console-ephemeral"]', { timeout: UI_TIMEOUT_MS });
    await typeInto('[data-test=admin-token]', adminToken(SECRET, CLUSTER_ID));
    await tab('sessions');
    const own = await page.waitForSelector('[data-test=own-session]', { timeout: UI_TIMEOUT_MS });
    const id = await own!.evaluate((e) => e.textContent ?? '');
    const row = await page.waitForSelector(`[data-test=sessions] tr[data-session="${id}"]`, { timeout: UI_TIMEOUT_MS });
    expect(await row!.evaluate((e) => e.textContent ?? '')).toContain('/console-ephemeral');
    await shot('sessions');
  });

  it('shows the leader, and the new leader after the old one is killed with SIGKILL', async () => {
    await tab('ensemble');
    await page.waitForSelector(`[data-test=leader][data-leader="${leader}"]`, { timeout: UI_TIMEOUT_MS });
    await page.waitForFunction(() => document.querySelectorAll('[data-test=members] tr[data-member]').length === 3, { timeout: UI_TIMEOUT_MS });
    await shot('ensemble');
    await cluster.kill9(leader);
    const next = await cluster.leader(30_000, [leader]);
    await page.waitForSelector(`[data-test=leader][data-leader="${next}"]`, { timeout: 30_000 });
    await page.waitForSelector(`[data-test=members] tr[data-member="${leader}"][data-role=down]`, { timeout: UI_TIMEOUT_MS });
  });

  it("moves leadership with the admin token: a follower's console names the leader and links to its console, where the transfer is done", async () => {
    const killed = leader;
    const current = await cluster.leader(30_000, [killed]);
    const follower = cluster.live().find((id) => id !== current)!;
    if (follower !== served) await page.goto(`http://127.0.0.1:${cluster.clientPort.get(follower)!}/#ensemble`, { waitUntil: 'load' });
    await typeInto('[data-test=admin-token]', adminToken(SECRET, CLUSTER_ID));
    await tab('ensemble');
    await page.click('[data-test=transfer-leader]');
    await page.waitForSelector('[data-test=admin-result] a', { timeout: UI_TIMEOUT_MS });
    expect(await text('[data-test=admin-result]')).toContain(`server ${current} leads`);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('[data-test=admin-result] a')]);
    expect(page.url()).toBe(`http://127.0.0.1:${cluster.clientPort.get(current)!}/#ensemble`);
    // The token lives in the tab's storage of each origin: the leader's console asks for it again.
    await typeInto('[data-test=admin-token]', adminToken(SECRET, CLUSTER_ID));
    await page.click('[data-test=transfer-leader]');
    await page.waitForSelector(`[data-test=leader][data-leader="${follower}"]`, { timeout: 30_000 });
    expect(await cluster.leader(30_000, [killed, current])).toBe(follower);
  });

  it('removes the killed server from the membership through the leader\'s console', async () => {
    const killed = leader;
    const current = await cluster.leader(30_000, [killed]);
    // The address column links each server's console: open the leader's.
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`[data-test=members] tr[data-member="${current}"] a`)]);
    await typeInto('[data-test=admin-token]', adminToken(SECRET, CLUSTER_ID));
    await tab('ensemble');
    await page.waitForSelector(`[data-test=members] tr[data-member="${killed}"][data-membership=voter]`, { timeout: UI_TIMEOUT_MS });
    await typeInto('[data-test=member-id]', String(killed));
    await page.click('[data-test=remove-member]');
    await page.waitForSelector(`[data-test=members] tr[data-member="${killed}"][data-membership="not a member"]`, { timeout: 30_000 });
    expect((await cluster.status(current))?.voters).toEqual(cluster.live().sort());
    // Back to the console the rest of the tests use.
    await page.goto(`http://127.0.0.1:${cluster.clientPort.get(served)!}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.querySelector('[data-test=client-state]')?.textContent === 'connected', { timeout: UI_TIMEOUT_MS });
  });

  it('draws request rate, latency, fsync and lag charts from successive /metrics scrapes', async () => {
    // Traffic, so the charts have something to show (longer when taking screenshots).
    // Through the page's own server: its /metrics is what the charts read.
    const local = await connect(cluster.url(served));
    const endMs = Date.now() + (SHOTS === undefined ? 3000 : 30_000);
    let i = 0;
    while (Date.now() < endMs) await Promise.all([local.setData('/apps', `write ${i++}`), local.getData('/apps'), local.getData('/apps')]);
    await local.close();
    await tab('charts');
    await page.waitForFunction(() => document.querySelectorAll('[data-test=charts] canvas').length === 4, { timeout: UI_TIMEOUT_MS });
    await page.waitForFunction(() => Number(document.querySelector('[data-test=charts]')?.getAttribute('data-points')) >= 2, { timeout: UI_TIMEOUT_MS });
    await shot('charts');
    // Chromium logs every 4xx answer; the follower's 421 to the transfer was expected.
    expect(errors.filter((e) => !e.includes('status of 421 (Misdirected Request)'))).toEqual([]);
  }, 60_000);
});
