// Self time per function from a V8 .cpuprofile (node --cpu-prof), top N:
//   node dist/bench/e2e/profile-summary.js <file.cpuprofile> [--top 25] [--by function|url] [--callers name]
// A function is keyed by name + url:line (so two `write`s in different files
// stay apart); `--by url` sums per script instead. (program), (idle) and
// (garbage collector) are V8's own buckets: idle is time the event loop
// waited for I/O. Also prints the share of non-idle time per category of url
// (zook's src/ by folder, node:internal, node_modules, native/VM).
// --timeline: the busy (non-idle) share of each second of the profile, to tell
// the measured window from start-up and shut-down.
// --callers <name>: where the self time of functions called <name> comes from
// (the 4 nearest callers, summed per distinct stack).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { markdownTable } from '../support.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, by: { type: 'string', default: 'function' }, callers: { type: 'string' }, timeline: { type: 'boolean' } },
});
const file = positionals[0];
if (file === undefined) {
  console.error('usage: profile-summary.js <file.cpuprofile> [--top N] [--by function|url]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);

function shortUrl(url: string): string {
  if (url === '') return '';
  const m = /\/(?:dist\/)?(src\/.*|bench\/.*|node_modules\/.*)$/.exec(url);
  if (m) return m[1].replace(/^node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, 'node_modules/');
  return url.replace(/^file:\/\//, '');
}

function category(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : 'native / VM builtins';
  if (url.startsWith('node:')) return 'node: internals';
  const short = shortUrl(url);
  if (short.startsWith('node_modules/')) return short.split('/').slice(0, 2).join('/');
  const m = /^src\/([^/]+(?:\/[^/.]+(?=\/))?)/.exec(short);
  return m ? `src/${m[1]}` : short;
}

// Self time of a sample = the delta to the next sample (what V8's DevTools does).
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
const perKey = new Map<string, number>();
const perCategory = new Map<string, number>();
let idleUs = 0;
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (name === '(idle)') idleUs += us;
  const key = values.by === 'url' ? shortUrl(url) || name : `${name} ${shortUrl(url)}${url === '' ? '' : `:${lineNumber + 1}`}`;
  perKey.set(key, (perKey.get(key) ?? 0) + us);
  if (name !== '(idle)') {
    const c = category(url, name);
    perCategory.set(c, (perCategory.get(c) ?? 0) + us);
  }
}
const busyUs = totalUs - idleUs;
const pct = (us: number, of: number): string => `${((100 * us) / of).toFixed(1)}%`;
const top = Number(values.top);
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${pct(idleUs, totalUs)} idle, ${(busyUs / 1e6).toFixed(1)} s busy\n`);
console.log(
  markdownTable(
    ['#', values.by === 'url' ? 'script' : 'function (url:line)', 'self ms', '% of busy', '% of all'],
    [...perKey]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us], i) => [String(i + 1), k, (us / 1000).toFixed(0), pct(us, busyUs), pct(us, totalUs)]),
  ),
);
console.log('\nBusy time by category\n');
console.log(
  markdownTable(
    ['category', 'self ms', '% of busy'],
    [...perCategory].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([c, us]) => [c, (us / 1000).toFixed(0), pct(us, busyUs)]),
  ),
);

if (values.callers !== undefined) {
  const stacks = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (byId.get(id)!.callFrame.functionName !== values.callers) continue;
    const chain: string[] = [];
    for (let p = parentOf.get(id); p !== undefined && chain.length < 4; p = parentOf.get(p)) {
      const f = byId.get(p)!.callFrame;
      chain.push(`${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`);
    }
    const key = chain.join(' <- ');
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  console.log(`\nCallers of ${values.callers}\n`);
  console.log(markdownTable(['self ms', 'callers (nearest first)'], [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, us]) => [(us / 1000).toFixed(0), k])));
}

if (values.timeline === true) {
  const busyPerSecond: number[] = [];
  const allPerSecond: number[] = [];
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const second = Math.floor(t / 1e6);
    allPerSecond[second] = (allPerSecond[second] ?? 0) + delta;
    if (byId.get(profile.samples[i])!.callFrame.functionName !== '(idle)') busyPerSecond[second] = (busyPerSecond[second] ?? 0) + delta;
  }
  console.log('\nBusy share per second of the profile\n');
  console.log(allPerSecond.map((all, s) => `${s}s ${Math.round((100 * (busyPerSecond[s] ?? 0)) / (all || 1))}%`).join(', '));
}
