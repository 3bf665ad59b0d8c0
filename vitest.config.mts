import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Each run gets a temp folder of its own (the tests and what they spawn see it as TMPDIR); the global
// teardown fails the run if anything is left in it, and removes it.
const runTmp = (process.env.SLUICE_TEST_TMP ??= mkdtempSync(join(tmpdir(), 'sluice-run-')));
// As root, embedded Postgres servers run as `postgres`, which must be able to reach their folders in it.
chmodSync(runTmp, 0o755);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts (or finds) the real Postgres server and Kafka broker once for the whole run.
    globalSetup: ['test/setup/global.ts'],
    // TSX_DISABLE_CACHE: spawned services that load TypeScript handlers through tsx cache nothing in it.
    env: { TMPDIR: runTmp, SLUICE_TEST_TMP: runTmp, TSX_DISABLE_CACHE: '1' },
    pool: 'forks',
    // Two cores: more files at once only adds contention to Postgres and the broker.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
