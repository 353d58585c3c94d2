// Builds the web console into dist/console (index.html, app.js, app.css): one ESM bundle
// for browsers with esbuild. Run by `npm run build:console` (part of `npm run build`).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = here('../dist/console/');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: here('src/main.ts') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  outdir: out,
  // The client's Node-only transport imports 'ws' lazily; a browser uses its own WebSocket.
  external: ['ws', 'node:*'],
  logLevel: 'warning',
  legalComments: 'none',
});
copyFileSync(here('index.html'), `${out}index.html`);
