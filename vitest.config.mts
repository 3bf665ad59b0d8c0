import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts (or finds) the real Postgres server and Kafka broker once for the whole run.
    globalSetup: ['test/setup/global.ts'],
    pool: 'forks',
    // Two cores: more files at once only adds contention to Postgres and the broker.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
