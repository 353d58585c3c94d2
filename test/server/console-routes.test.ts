// The web console's HTTP side on the client port (src/server/console-files.ts): GET /
// and the built files with their types, nothing else from disk, /ensemble, and
// /admin/sessions behind admin rights. A real server in this process; the console is
// the one `npm run build` wrote to dist/console.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../src/client/index.js';
import { resolveConfig } from '../../src/server/config.js';
import { consoleDir, loadConsoleFiles } from '../../src/server/console-files.js';
import { type RunningServer, startServer } from '../../src/server/ws-server.js';
import { digestId } from '../../src/tree/acl.js';

const dirs: string[] = [];
let server: RunningServer;
let client: ZookClient;

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  server = await startServer(resolveConfig({ dataDir: tempDir('zook-console-'), port: 0, zkPort: 0, superDigest: digestId('super', 'sekret') }));
  client = await connect(`ws://127.0.0.1:${server.port}`);
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const base = (): string => `http://127.0.0.1:${server.port}`;

/** A GET with the path sent exactly as given (fetch would normalize '..'). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console files', () => {
  test('the console is built into dist/console (npm run build)', () => {
    expect(consoleDir()).toMatch(/dist\/console\/$/);
  });

  test('GET / is the console page; its script and style come with their content types', async () => {
    const page = await fetch(`${base()}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    const js = await fetch(`${base()}/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect((await fetch(`${base()}/app.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  test('an unknown file, and any path that climbs out of the console directory, is a 404', async () => {
    expect((await fetch(`${base()}/nope.js`)).status).toBe(404);
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '//etc/passwd', '/app.js/../../package.json']) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('"name"');
    }
  });

  test('only the directory\'s own regular files of known types are loaded: no subdirectories, symlinks or other files', () => {
    const dir = tempDir('zook-console-files-');
    writeFileSync(join(dir, 'index.html'), '<p>hi</p>');
    writeFileSync(join(dir, 'app.js'), 'x');
    writeFileSync(join(dir, 'secret.txt'), 'no');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'inner.js'), 'no');
    symlinkSync('/etc/hostname', join(dir, 'link.css'));
    const files = loadConsoleFiles(dir);
    expect([...files.keys()].sort()).toEqual(['/', '/app.js', '/index.html']);
    expect(files.get('/')?.body.toString()).toBe('<p>hi</p>');
  });
});

describe('console data endpoints', () => {
  test('GET /ensemble of a standalone server lists itself with its status', async () => {
    const body = (await (await fetch(`${base()}/ensemble`)).json()) as { self: number; members: Array<{ id: number; url: string; status: { role: string } | null }> };
    expect(body.self).toBe(1);
    expect(body.members).toHaveLength(1);
    expect(body.members[0]).toMatchObject({ id: 1, url: base(), status: { role: 'standalone' } });
  });

  test('GET /admin/sessions is refused without admin rights', async () => {
    const res = await fetch(`${base()}/admin/sessions`);
    expect(res.status).toBe(403);
    const wrong = await fetch(`${base()}/admin/sessions`, { headers: { authorization: `Basic ${Buffer.from('super:wrong').toString('base64')}` } });
    expect(wrong.status).toBe(403);
  });

  test('GET /admin/sessions with the superDigest user lists every session with its ephemerals', async () => {
    await client.create('/console-eph', 'x', { mode: 'EPHEMERAL' });
    const res = await fetch(`${base()}/admin/sessions`, { headers: { authorization: `Basic ${Buffer.from('super:sekret').toString('base64')}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sessions: Array<{ id: string; connectedHere: boolean; ephemerals: string[] }> };
    const mine = body.sessions.find((s) => s.id === `0x${client.sessionId.toString(16)}`);
    expect(mine).toMatchObject({ connectedHere: true, ephemerals: ['/console-eph'] });
  });
});
