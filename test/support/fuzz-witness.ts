// What a fuzz run checks besides "still up": a writer that keeps creating
// /acked/N for as long as the run lasts (each acknowledged N must be there after
// a restart), and the server's RSS sampled every 100 ms (its growth is bounded).
import { readFileSync } from 'node:fs';

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export interface AckedWriter {
  /** Every N whose create of /acked/N was acknowledged. */
  readonly acked: number[];
  /** Every failed create, as text (a fuzz run expects none). */
  readonly failures: string[];
  /** Stops after the create in flight. */
  stop(): Promise<void>;
}

/** Loops `create(path, value)` over /acked/0, /acked/1, ... until stopped. */
export function startAckedWriter(create: (path: string, value: string) => Promise<unknown>): AckedWriter {
  const acked: number[] = [];
  const failures: string[] = [];
  let stopped = false;
  const writing = (async () => {
    for (let n = 0; !stopped; n++) {
      try {
        await create(`/acked/${n}`, `value ${n}`);
        acked.push(n);
      } catch (error) {
        failures.push(String(error));
      }
    }
  })();
  return {
    acked,
    failures,
    async stop() {
      stopped = true;
      await writing;
    },
  };
}

export interface RssSampler {
  /** The highest RSS seen minus the RSS at start, bytes. */
  grownBytes(): number;
  stop(): void;
}

export function sampleRss(pid: number): RssSampler {
  const before = rssBytes(pid);
  let max = before;
  const timer = setInterval(() => (max = Math.max(max, rssBytes(pid))), 100);
  return {
    grownBytes: () => max - before,
    stop: () => clearInterval(timer),
  };
}
