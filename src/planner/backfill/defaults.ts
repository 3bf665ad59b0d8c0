// Kept apart from run-backfill.ts so the CLI can show them in --help without loading the backfill itself.
export const BACKFILL_DEFAULTS = {
  page: 500,
  threads: 8,
  warnAfterMs: 20 * 60_000,
  stopAfterMs: 60 * 60_000,
};
