// Every ```ts example in the README's client and Recipes sections runs as written
// against a real server (only the import and the server address are rewritten) and
// prints the lines its `// prints:` comments promise.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The text of the README's `## title` section, up to the next `## `. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  return README.slice(start, README.indexOf('\n## ', start + 1));
}
const examplesOf = (text: string): string[] => [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const RECIPE_EXAMPLES = examplesOf(section('Recipes'));
const EXAMPLES = [...examplesOf(section('Using the client')), ...RECIPE_EXAMPLES];

/**
 * What an example says it prints: each `// prints: X` comment, in order, without a
 * trailing "(explanation)". The output must hold these lines in this order.
 */
function promisedLines(code: string): string[] {
  return [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1].replace(/\s+\([^()]*\)$/, '').trim());
}

/** The promised lines not found in `output`, in order (each after the previous one's line). */
function unkeptPromises(promised: readonly string[], output: string): string[] {
  const lines = output.split('\n').map((l) => l.trim());
  let at = 0;
  const missing: string[] = [];
  for (const want of promised) {
    const found = lines.indexOf(want, at);
    if (found < 0) missing.push(want);
    else at = found + 1;
  }
  return missing;
}

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
    expect(RECIPE_EXAMPLES.length).toBe(8);
  });

  test('the promise check fails on a missing or out-of-order line', () => {
    expect(promisedLines("log(1); // prints: v1 0 (a note)\nlog(2); // prints: [ 'a' ]")).toEqual(['v1 0', "[ 'a' ]"]);
    expect(unkeptPromises(['a', 'b'], 'a\nb\n')).toEqual([]);
    expect(unkeptPromises(['a', 'b'], 'b\na\n')).toEqual(['b']);
    expect(unkeptPromises(['a', 'c'], 'a\nb\n')).toEqual(['c']);
  });

  test.each(EXAMPLES.map((code, i) => [/import \{ ([^}]+) \}/.exec(code)?.[1] ?? `#${i}`, code]))('the example using %s runs to completion and prints what it says', async (_name, code) => {
    const file = join(dir, `example-${Math.random().toString(36).slice(2)}.mts`);
    const source = code
      .replaceAll("from 'zook'", `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`)
      .replaceAll('ws://127.0.0.1:8181', t.server.url);
    writeFileSync(file, source);
    const { code: exitCode, output } = await run(file);
    expect(exitCode, output).toBe(0);
    expect(unkeptPromises(promisedLines(code), output), output).toEqual([]);
  });
});
