// The zook package entry: the client, the recipes built on it, and the WASM core
// (CRC-32C, hashing, the member ring); `zook/client` is the client alone. Both run on
// Node and in browsers: nothing here reaches the server, the CLI or storage, and the
// two Node-only modules (core/wasm-bytes.ts, client/node-only.ts) have browser
// stand-ins in the browser build (tools/build-browser.mjs -> dist/browser/).
export * from './core/index.js';
export * from './client/index.js';
export * from './recipes/index.js';
