// A real, small filesystem for full-disk tests: a tmpfs of a chosen size mounted
// on a temp dir (needs root, as CI has), and a filler file to take its free space.
// Where mounting is not allowed (a developer's unprivileged machine) the tests that
// need it are skipped with a visible reason; under CI they fail instead.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFs {
  readonly dir: string;
  /** Bytes free right now. */
  free(): number;
  /** Writes a filler file until only `leaveBytes` are free (or the disk is full when 0). */
  fill(leaveBytes: number): void;
  /** Deletes the filler: its space is free again. */
  unfill(): void;
  unmount(): void;
}

function tryMount(sizeBytes: number): SmallFs | string {
  const dir = mkdtempSync(join(tmpdir(), 'zook-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a ${sizeBytes}-byte tmpfs (needs root): ${String((error as Error).message).split('\n')[0]}`;
  }
  const filler = join(dir, 'filler');
  const free = (): number => {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  };
  return {
    dir,
    free,
    fill(leaveBytes: number): void {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      try {
        for (let want = free() - leaveBytes; want > 0; want = free() - leaveBytes) {
          try {
            writeSync(fd, chunk, 0, Math.min(chunk.length, want));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
            throw error;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    unfill(): void {
      try {
        unlinkSync(filler);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    },
    unmount(): void {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Probed once per test file: whether this machine lets the tests mount a tmpfs. */
export const smallFsUnavailable: string | null = (() => {
  const probe = tryMount(1024 * 1024);
  if (typeof probe === 'string') return probe;
  probe.unmount();
  return null;
})();

/** Under CI a missing capability is a failure, never a silent skip. */
export const skipSmallFs = smallFsUnavailable !== null && process.env.CI === undefined;
if (skipSmallFs) console.warn(`full-disk tests skipped: ${smallFsUnavailable}`);

export function mountSmallFs(sizeBytes: number): SmallFs {
  const fs = tryMount(sizeBytes);
  if (typeof fs === 'string') throw new Error(fs);
  return fs;
}
