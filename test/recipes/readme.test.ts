// Every ```ts example in the README's Recipes section runs as written against a real
// server (only the import and the server address are rewritten).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const RECIPES = README.slice(README.indexOf('\n## Recipes\n'), README.indexOf('\n## ', README.indexOf('\n## Recipes\n') + 1));
const EXAMPLES = [...RECIPES.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

function run(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('README recipes', () => {
  let t: TestServer;
  let dir: string;
  beforeAll(async () => {
    t = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'zook-readme-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.stop();
  });

  test('has an example per recipe', () => {
    expect(EXAMPLES.length).toBe(8);
  });

  test.each(EXAMPLES.map((code, i) => [/import \{ ([^}]+) \}/.exec(code)?.[1] ?? `#${i}`, code]))('the example using %s runs to completion', async (_name, code) => {
    const file = join(dir, `example-${Math.random().toString(36).slice(2)}.mts`);
    const source = code
      .replaceAll("from 'zook'", `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`)
      .replaceAll('ws://127.0.0.1:8181', t.server.url);
    writeFileSync(file, source);
    const { code: exitCode, output } = await run(file);
    expect(exitCode, output).toBe(0);
  });
});
