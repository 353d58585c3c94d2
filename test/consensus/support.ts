// Re-exports for the unit tests, including the internal message constructor.
export * from '../../src/consensus/index.js';
export { message } from '../../src/consensus/types.js';
