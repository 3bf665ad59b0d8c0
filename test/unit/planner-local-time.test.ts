import { describe, expect, it } from 'vitest';
import { canonicalZone } from '../../src/lib/time-zone';
import { formatLocal, windowEnd } from '../../src/planner/local-time';
import { plan } from '../../src/planner/plan';
import { type PlanProcess } from '../../src/planner/rank';
import { nextDue, notBeforePassed, parseNotBefore, parseSchedule } from '../../src/planner/schedule';

const at = (s: string) => new Date(s);
const PARIS = 'Europe/Paris'; // 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00Z
const NEW_YORK = 'America/New_York'; // 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z

describe('local times across daylight-saving changes', () => {
  it('spring forward: a 02:30 run on a day without 02:30 runs at 03:30 CEST (the offset before the change), cron and "every day at" alike', () => {
    for (const text of ['every day at 02:30', '30 2 * * *']) {
      const s = parseSchedule(text);
      const before = nextDue(s, at('2026-03-28T02:00:00Z'), PARIS);
      expect(before).toEqual(at('2026-03-29T01:30:00Z')); // 03:30 CEST
      expect(nextDue(s, before, PARIS)).toEqual(at('2026-03-30T00:30:00Z')); // 02:30 CEST the day after
      expect(nextDue(s, at('2026-03-27T00:00:00Z'), PARIS)).toEqual(at('2026-03-27T01:30:00Z')); // 02:30 CET
    }
  });

  it('fall back: a 01:30 run on a day with two 01:30s runs once, at the first (EDT)', () => {
    for (const text of ['every day at 01:30', '30 1 * * *']) {
      const s = parseSchedule(text);
      const first = nextDue(s, at('2026-10-31T12:00:00Z'), NEW_YORK);
      expect(first).toEqual(at('2026-11-01T05:30:00Z')); // 01:30 EDT
      expect(nextDue(s, first, NEW_YORK)).toEqual(at('2026-11-02T06:30:00Z')); // not 06:30Z the same day
    }
  });

  it('notBefore HH:MM opens by the same rule, and stays open through the repeated fall-back hour', () => {
    const nb = parseNotBefore('02:30');
    expect(notBeforePassed(nb, at('2026-03-29T01:10:00Z'), PARIS)).toBe(false); // 03:10 CEST
    expect(notBeforePassed(nb, at('2026-03-29T01:30:00Z'), PARIS)).toBe(true); // 03:30 CEST
    expect(notBeforePassed(nb, at('2026-03-28T01:29:00Z'), PARIS)).toBe(false); // 02:29 CET
    expect(notBeforePassed(nb, at('2026-03-28T01:30:00Z'), PARIS)).toBe(true); // 02:30 CET

    const late = parseNotBefore('01:30');
    expect(notBeforePassed(late, at('2026-11-01T05:29:00Z'), NEW_YORK)).toBe(false); // 01:29 EDT
    expect(notBeforePassed(late, at('2026-11-01T05:30:00Z'), NEW_YORK)).toBe(true); // 01:30 EDT
    expect(notBeforePassed(late, at('2026-11-01T06:10:00Z'), NEW_YORK)).toBe(true); // 01:10 EST, same day
    expect(notBeforePassed(late, at('2026-11-02T06:29:00Z'), NEW_YORK)).toBe(false); // 01:29 EST next day
  });

  it('a notBefore date-time without an offset is read on the process clock; one with an offset is absolute', () => {
    const local = parseNotBefore('2026-03-29T02:30');
    expect(notBeforePassed(local, at('2026-03-29T01:29:00Z'), PARIS)).toBe(false);
    expect(notBeforePassed(local, at('2026-03-29T01:30:00Z'), PARIS)).toBe(true);
    expect(notBeforePassed(local, at('2026-03-29T02:29:00Z'), 'UTC')).toBe(false);
    const fixed = parseNotBefore('2026-03-29T02:30:00+01:00');
    expect(notBeforePassed(fixed, at('2026-03-29T01:30:00Z'), NEW_YORK)).toBe(true);
  });

  it('a 24 h refresh window closes at the same local time on the 23-hour day, and a fall-back never holds a window longer', () => {
    // Daily 03:00 Paris: last success 03:00 CET on the 28th, next run 03:00 CEST on the 29th, 23 h later.
    expect(windowEnd(at('2026-03-28T02:00:00Z').getTime(), 1440, PARIS)).toBe(
      at('2026-03-29T01:00:00Z').getTime(),
    );
    expect(windowEnd(at('2026-03-28T02:00:00Z').getTime(), 1440, 'UTC')).toBe(
      at('2026-03-29T02:00:00Z').getTime(),
    );
    // 30 min from 01:10 EDT: elapsed time ends it at 01:40 EDT, not the wall clock's second 01:40.
    expect(windowEnd(at('2026-11-01T05:10:00Z').getTime(), 30, NEW_YORK)).toBe(
      at('2026-11-01T05:40:00Z').getTime(),
    );
  });

  it('plan() starts the daily run with a 24 h window on the spring-forward day in Paris, and holds it in UTC', () => {
    const daily = (timeZone: string): PlanProcess => ({
      name: 'nightly',
      handler: 'h',
      kind: 'recurrent',
      schedule: parseSchedule('every day at 03:00'),
      notBefore: null,
      timeZone,
      dependsOn: [],
      priority: 0,
      refreshWindowMinutes: 1440,
      alarmed: false,
      nextDueAt: at('2026-03-29T01:00:00Z'),
      lastStartedAt: at('2026-03-28T02:00:00Z'),
      lastSucceededAt: at('2026-03-28T02:00:00Z'),
      expectedMs: null,
      queued: null,
      active: false,
    });
    const decide = (zone: string) =>
      plan({
        now: at('2026-03-29T01:00:00Z'),
        freeSlots: 1,
        maxActive: 1,
        candidates: [daily(zone)],
        succeededAt: new Map(),
        canRun: () => true,
      })[0];
    expect(decide(PARIS)).toMatchObject({ action: 'start' });
    expect(decide('UTC')).toMatchObject({
      action: 'wait',
      reason: 'refreshed 1380 min ago (refresh window 1440 min)',
    });
  });

  it('names zones canonically, refuses unknown ones, and formats local times for reasons', () => {
    expect(canonicalZone('europe/paris')).toBe(PARIS);
    expect(canonicalZone('UTC')).toBe('UTC');
    expect(canonicalZone('Mars/Olympus_Mons')).toBeNull();
    expect(canonicalZone('+02:00')).toBeNull();
    expect(formatLocal(at('2026-03-29T01:30:00Z').getTime(), PARIS)).toBe('03:30 Europe/Paris');
    expect(formatLocal(at('2026-03-29T01:30:00Z').getTime(), 'UTC')).toBe('01:30');
  });
});
