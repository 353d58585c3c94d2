// A process that holds a data dir until killed: takes the lock on argv[2] (a
// socket file when argv[3] is "file"), names a port, and prints `held <pid>`. In
// mode "busy" it then blocks its event loop, so it holds the lock but cannot answer.
// Run: node --import tsx test/storage/lock-holder-child.ts <dir> [abstract|file|busy]
import { DataDirLock } from '../../src/storage/data-dir-lock.js';

const [dir, mode] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: lock-holder-child.ts <dir> [abstract|file|busy]');
const lock = await DataDirLock.acquire(dir, 'lock-holder-child', { socketFile: mode === 'file' });
lock.describe({ port: 4321 });
process.stdout.write(`held ${process.pid}\n`, () => {
  if (mode === 'busy') for (;;);
});
// The lock's socket does not keep the process alive; this does, until the kill.
setInterval(() => {}, 60_000);
