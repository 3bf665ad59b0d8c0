import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress-line';

describe('the backfill progress line', () => {
  const f = { table: 'public.accounts', done: 6450, total: 30000, rate: 1234 };

  it('keeps percent, rows, rate and ETA within 80 columns', () => {
    const line = progressLine(f, 80);
    expect(line.length).toBeLessThan(80);
    expect(line).toContain('21% 6450/30000 1234/s ETA 20s');
    expect(line).toMatch(/^public\.accounts \[=+ +\]/);
  });

  it('drops the bar, then the name, before any figure on a narrow terminal', () => {
    const big = {
      table: 'a_rather_long_schema.a_rather_long_table',
      done: 123456789,
      total: 987654321,
      rate: 98765,
    };
    for (const columns of [50, 60, 80]) {
      const line = progressLine(big, columns);
      expect(line.length, `${columns} columns`).toBeLessThan(columns);
      expect(line, `${columns} columns`).toContain('/s ETA 2h25m');
    }
  });

  it('says 0s when done and ? before the first rate', () => {
    expect(progressLine({ ...f, done: 30000 }, 80)).toContain('100% 30000/30000 1234/s ETA 0s');
    expect(progressLine({ ...f, rate: 0 }, 80)).toContain('ETA ?');
  });
});
