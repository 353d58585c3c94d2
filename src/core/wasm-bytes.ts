// The WebAssembly core's bytes, on Node: read from build/zook.wasm at the package root.
// The browser build (tools/build-browser.mjs) replaces this module with one that
// carries the same bytes inline (base64), so a page needs no second request and the
// core still loads synchronously at import, as it does here.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// This file runs both from src/core/ (tests, tsx) and from dist/src/core/ (compiled).
function wasmPath(): string {
  const candidates = ['../../build/zook.wasm', '../../../build/zook.wasm'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(`zook: WebAssembly core not built (looked for ${candidates.join(', ')}); run npm run build:wasm`);
  }
  return found;
}

/** The compiled core (build/zook.wasm). */
export function wasmBytes(): Uint8Array {
  return readFileSync(wasmPath());
}
