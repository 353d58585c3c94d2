// Crash tests with real processes: a child appends from many concurrent writers and
// prints each acknowledged index; it is kill -9'd at a random point (after a random
// number of acknowledgements), the log is recovered and checked against what was
// acknowledged. ZOOK_CRASH_KILLS sets the total number of WAL kills (default 185);
// a third test kills a process saving snapshots 15 times: 200 kills in all.
// The three tests run concurrently: each kill waits mostly on process start-up.
import { describe, expect, test } from 'vitest';
import { killsFromEnv, runCrashRounds, runSnapshotCrashRounds } from './crash-harness.js';

const APPEND_KILLS = killsFromEnv(100);
const TRUNCATE_KILLS = killsFromEnv(85);
const SNAPSHOT_KILLS = 15;

describe.concurrent('WAL under kill -9', () => {
  test(`every acknowledged append survives kill -9 (${APPEND_KILLS} kills, 32 concurrent writers): in order, no duplicate, no garbage after it`, async () => {
    const result = await runCrashRounds({ mode: 'append', kills: APPEND_KILLS, lanes: 3, writers: 32, seed: 41, maxAcks: 400 });
    expect(result.kills).toBeGreaterThanOrEqual(APPEND_KILLS);
    expect(result.acks).toBeGreaterThan(0);
  }, 600_000);

  test(`with truncateSuffix under kill -9 (${TRUNCATE_KILLS} kills), cut entries never come back and acknowledged ones stay`, async () => {
    const result = await runCrashRounds({ mode: 'truncate', kills: TRUNCATE_KILLS, lanes: 3, writers: 8, seed: 42, maxAcks: 300 });
    expect(result.kills).toBeGreaterThanOrEqual(TRUNCATE_KILLS);
    expect(result.acks).toBeGreaterThan(0);
  }, 600_000);

  test(`a snapshot save killed at any point (${SNAPSHOT_KILLS} kills) leaves the newest acknowledged snapshot, whole`, async () => {
    expect(await runSnapshotCrashRounds(SNAPSHOT_KILLS, 43)).toBe(SNAPSHOT_KILLS);
  }, 600_000);
});
