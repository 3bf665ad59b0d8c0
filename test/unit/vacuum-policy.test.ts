import { describe, expect, it } from 'vitest';
import { dueForVacuum } from '../../src/drain/vacuum-duty';

const t = (dead: number, live: number, sinceVacuumMs: number | null) => ({
  table: 'event_queue',
  dead,
  live,
  sinceVacuumMs,
});

describe('vacuum policy: a churn table is vacuumed when its dead rows pile up, not more often than every 30 s', () => {
  it('needs at least 50,000 dead rows and 20% of the live ones', () => {
    expect(dueForVacuum([t(49_999, 0, null)])).toEqual([]);
    expect(dueForVacuum([t(50_000, 0, null)])).toHaveLength(1);
    expect(dueForVacuum([t(150_000, 1_000_000, null)])).toEqual([]);
    expect(dueForVacuum([t(200_000, 1_000_000, null)])).toHaveLength(1);
  });

  it('skips a table vacuumed (by anyone) less than 30 s ago', () => {
    expect(dueForVacuum([t(500_000, 0, 29_999)])).toEqual([]);
    expect(dueForVacuum([t(500_000, 0, 30_000)])).toHaveLength(1);
  });
});
