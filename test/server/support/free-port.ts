// Tests take the one implementation the CLI and the benchmarks use.
export { freePort } from '../../../src/util/free-port.js';
