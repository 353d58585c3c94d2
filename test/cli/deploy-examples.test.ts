// The files under deploy/ are what an operator copies to a machine: the ensemble
// example must be a file `zook server --config` accepts, and the environment
// example must set exactly what the systemd unit and the server read.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { initialMembership, isEnsembleFile, parseEnsemble } from '../../src/server/cluster/ensemble.js';
import { configFromEnv } from '../../src/server/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');

const unitText = readFileSync(join(DEPLOY, 'zook.service'), 'utf8');
const envText = readFileSync(join(DEPLOY, 'zook.env.example'), 'utf8');
const ensembleJson: unknown = JSON.parse(readFileSync(join(DEPLOY, 'ensemble.example.json'), 'utf8'));

/** `NAME=value` lines of an EnvironmentFile, comments and blank lines skipped. */
function envAssignments(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(trimmed);
    if (match === null) throw new Error(`not an assignment: ${line}`);
    out.set(match[1], match[2]);
  }
  return out;
}

/** Lines `Key=value` of the unit (a key may repeat). */
function unitValues(key: string): string[] {
  return unitText
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** Variables the unit expands: `${NAME}` or `$NAME`. */
function unitVariables(): Set<string> {
  const names = new Set<string>();
  for (const line of unitText.split('\n')) {
    if (line.trimStart().startsWith('#')) continue;
    for (const m of line.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g)) names.add(m[1]);
  }
  return names;
}

describe('deploy/ensemble.example.json', () => {
  test('is an ensemble file that parseEnsemble accepts, with three voters in the first configuration', () => {
    expect(isEnsembleFile(ensembleJson)).toBe(true);
    const ensemble = parseEnsemble(ensembleJson);
    expect(ensemble.servers.map((s) => s.id)).toEqual([1, 2, 3]);
    expect(initialMembership(ensemble)).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(ensemble.settings).toEqual({});
  });

  test('gives every server its own host and the three ports the README names', () => {
    const ensemble = parseEnsemble(ensembleJson);
    expect(new Set(ensemble.servers.map((s) => s.host)).size).toBe(ensemble.servers.length);
    for (const s of ensemble.servers) expect({ zkPort: s.zkPort, clientPort: s.clientPort, peerPort: s.peerPort, dataDir: s.dataDir }).toEqual({ zkPort: 2181, clientPort: 8181, peerPort: 2888, dataDir: null });
  });
});

describe('deploy/zook.service and deploy/zook.env.example', () => {
  const env = envAssignments(envText);

  test('every variable the unit expands is set in the environment example', () => {
    const used = unitVariables();
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(env.has(name), `${name} is used by the unit`).toBe(true);
  });

  test('every variable the environment example sets is used by the unit or read by the server', () => {
    const used = unitVariables();
    for (const [name, value] of env) {
      const readByServer = Object.keys(configFromEnv({ [name]: value })).length === 1;
      expect(used.has(name) || readByServer, `${name} is neither expanded by the unit nor a ZOOK_* server setting`).toBe(true);
    }
  });

  test("the example's ZOOK_ID is a server of the example ensemble", () => {
    const ids = parseEnsemble(ensembleJson).servers.map((s) => s.id);
    expect(ids).toContain(Number(env.get('ZOOK_ID')));
  });

  test('the unit reads that environment file and runs the built CLI as zook server --config ... --id ${ZOOK_ID}', () => {
    expect(unitValues('EnvironmentFile')).toEqual(['/etc/zook/zook.env']);
    const [execStart] = unitValues('ExecStart');
    const args = execStart.split(/\s+/);
    expect(args[0]).toBe('/usr/bin/node');
    expect(args[1]).toBe('/opt/zook/dist/src/cli/main.js');
    // /opt/zook is a built clone: dist/src/cli/main.js is what src/cli/main.ts compiles to.
    expect(existsSync(join(ROOT, 'src/cli/main.ts'))).toBe(true);
    expect(args.slice(2)).toEqual(['server', '--config', '/etc/zook/ensemble.json', '--id', '${ZOOK_ID}']);
  });

  test('the data dir the environment sets is under the state directory the unit owns', () => {
    expect(unitValues('StateDirectory')).toEqual(['zook']);
    expect(env.get('ZOOK_DATA_DIR')?.startsWith('/var/lib/zook/')).toBe(true);
  });

  test('a stop is SIGTERM (the graceful hand-over) with time for it before SIGKILL', () => {
    expect(unitValues('KillSignal')).toEqual(['SIGTERM']);
    const [timeout] = unitValues('TimeoutStopSec');
    expect(Number.parseInt(timeout, 10)).toBeGreaterThanOrEqual(10);
    expect(unitValues('Restart')).toEqual(['on-failure']);
  });
});
