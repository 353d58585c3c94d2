// `npm run bench [-- filter...]`: runs every bench/*.bench.js suite (or those whose
// name contains one of the filters) and prints their Markdown tables.
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './support.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => /\.bench\.(js|ts)$/.test(f) && !f.endsWith('.d.ts'))
  .sort();

console.log(`# zook micro benchmarks, ${new Date().toISOString().slice(0, 10)}`);
console.log(`${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}\n`);
for (const file of files) {
  const suite = (await import(new URL(file, import.meta.url).href)).default as BenchSuite;
  if (filters.length > 0 && !filters.some((f) => suite.name.includes(f))) continue;
  console.log(`## ${suite.name}\n`);
  await suite.run();
  console.log();
}
