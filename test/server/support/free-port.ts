// Tests take the one implementation the CLI and the benchmarks use.
export { distinctFreePorts, freePort } from '../../../src/util/free-port.js';
