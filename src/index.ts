// The zook package entry. The client arrives with the server; for now the core.
export * from './core/index.js';
export * from './client/index.js';
export * from './recipes/index.js';
