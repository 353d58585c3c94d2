// How the README says to add zook to an application (it is not on the npm registry):
// the tarball `npm pack` makes from a clone installs into a new project, whose
// `import { connect } from 'zook'` talks to a real server, whose `zook` command runs, and
// which a bundler builds for the browser from the package's browser build.
// Uses the build `npm test` made (dist/, build/zook.wasm); dependencies come from
// npm's cache when it has them, else from the registry.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServerProcess, type ServerProcess } from '../server/support/server-process.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL_TIMEOUT_MS = 240_000;

describe('adding zook to an application from an npm pack tarball', () => {
  let dir: string;
  let app: string;
  let server: ServerProcess;
  let tarball: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zook-pack-'));
    app = join(dir, 'app');
    server = await startServerProcess({});
    // --ignore-scripts: the build is already there (npm test builds first); packing must not rebuild it under the other tests.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, timeout: INSTALL_TIMEOUT_MS });
    tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'zook-user', version: '1.0.0', private: true, type: 'module' }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeout: INSTALL_TIMEOUT_MS });
  }, INSTALL_TIMEOUT_MS * 2);

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the tarball carries the built JavaScript, its types and the WASM core, not the sources', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/src/index.js',
        'package/dist/src/index.d.ts',
        'package/build/zook.wasm',
        'package/dist/src/cli/main.js',
        // The browser build (tools/build-browser.mjs) and its sourcemaps.
        'package/dist/browser/zook.js',
        'package/dist/browser/zook.js.map',
        'package/dist/browser/client.js',
        'package/dist/browser/client.js.map',
      ]),
    );
    expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);
  });

  test("the installed package's client connects, writes and reads, and its WASM core loads", async () => {
    const program = [
      "import { connect, crc32c } from 'zook';",
      `const zk = await connect(${JSON.stringify(server.url)});`,
      "await zk.create('/from-an-app', 'hello');",
      "const { data } = await zk.getData('/from-an-app');",
      // crc32c runs in the WASM core: the module must load from the installed package.
      "console.log(new TextDecoder().decode(data), crc32c(new TextEncoder().encode('123456789')).toString(16));",
      'await zk.close();',
    ].join('\n');
    writeFileSync(join(app, 'main.js'), program);
    const { stdout } = await run(process.execPath, ['main.js'], { cwd: app, timeout: 30_000 });
    expect(stdout.trim()).toBe('hello e3069283');
  });

  // What a web application's bundler does with the installed package: esbuild for the
  // browser resolves 'zook' through the "browser" export condition to dist/browser/zook.js.
  test("a browser bundle of the installed package's 'zook' and 'zook/client' needs no Node built-in", async () => {
    writeFileSync(join(app, 'page.js'), "import { connect, Lock, LeaderLatch, ServiceRing, crc32c } from 'zook';\nimport { ZookError } from 'zook/client';\nexport { connect, Lock, LeaderLatch, ServiceRing, crc32c, ZookError };\n");
    const result = await build({ absWorkingDir: app, entryPoints: ['page.js'], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(['node_modules/zook/dist/browser/zook.js', 'node_modules/zook/dist/browser/client.js']));
    expect(inputs.filter((i) => /node_modules\/ws\/|^node:/.test(i))).toEqual([]);
    expect(result.outputFiles[0].text).not.toMatch(/\bfrom\s*["']node:|\bimport\(\s*["']/);
  });

  test("the installed package's zook command runs", async () => {
    const { stdout } = await run(join(app, 'node_modules/.bin/zook'), ['help'], { cwd: app, timeout: 30_000 });
    expect(stdout).toContain('usage: zook <command>');
  });
});
