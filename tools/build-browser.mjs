// The browser build: dist/browser/zook.js (the whole `zook` entry: client, recipes and
// the WebAssembly core) and dist/browser/client.js (`zook/client` alone), each one ESM
// file with a sourcemap, no Node built-ins and no `ws`. package.json's "browser"
// export condition points bundlers (Vite, esbuild, webpack) at them; a page can also
// import the file directly. Run by `npm run build` after the WASM core is built.
//
// Two modules are swapped for their browser stand-ins:
//   src/core/wasm-bytes.ts  -> the bytes of build/zook.wasm inline (base64): the core
//                              loads synchronously at import, as on Node, with no second
//                              request and no URL to configure (5 kB, so inlining is cheap);
//   src/client/node-only.ts -> src/client/node-only.browser.ts (no `ws`, no node:fs).
// Any other import of a Node built-in or of `ws` fails the build, naming the importer.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WASM = join(ROOT, 'build/zook.wasm');
const NODE_ONLY = join(ROOT, 'src/client/node-only.ts');
const WASM_BYTES = join(ROOT, 'src/core/wasm-bytes.ts');

/** @type {import('esbuild').Plugin} */
const browserSubstitutes = {
  name: 'zook-browser-substitutes',
  setup(b) {
    b.onResolve({ filter: /^(node:.*|ws|fs|path|url|crypto|net|tls|os|child_process)$/ }, (args) => ({
      errors: [{ text: `${args.path} is Node-only and must not be reachable from the browser build (imported by ${args.importer})` }],
    }));
    b.onResolve({ filter: /\/(wasm-bytes|node-only)\.js$/ }, (args) => {
      const path = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      if (path === WASM_BYTES) return { path: WASM, namespace: 'zook-wasm-bytes' };
      if (path === NODE_ONLY) return { path: join(ROOT, 'src/client/node-only.browser.ts') };
      return undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'zook-wasm-bytes' }, (args) => {
      const base64 = readFileSync(args.path).toString('base64');
      return {
        loader: 'js',
        contents: [
          '// build/zook.wasm, inlined by tools/build-browser.mjs',
          `const BASE64 = ${JSON.stringify(base64)};`,
          'export function wasmBytes() {',
          '  const text = atob(BASE64);',
          '  const bytes = new Uint8Array(text.length);',
          '  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);',
          '  return bytes;',
          '}',
        ].join('\n'),
        watchFiles: [args.path],
      };
    });
  },
};

const entries = [
  { in: 'src/index.ts', out: 'dist/browser/zook.js' },
  { in: 'src/client/index.ts', out: 'dist/browser/client.js' },
];

for (const entry of entries) {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry.in],
    outfile: entry.out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // What every current browser runs (top-level code uses BigInt, class fields, ??=).
    target: 'es2022',
    sourcemap: true,
    minify: false,
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
    plugins: [browserSubstitutes],
  });
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0;
  console.log(`build-browser: ${entry.out} (${Math.round(bytes / 1024)} kB)`);
}
