// The zook package entry: the client, the recipes built on it, and the WASM core
// (CRC-32C, hashing, the member ring). `zook/client` is the client alone, for
// browser bundles (the core's loader reads a file with node:fs).
export * from './core/index.js';
export * from './client/index.js';
export * from './recipes/index.js';
