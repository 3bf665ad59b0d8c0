import { describe, expect, it } from 'vitest';
import { RouteSchema } from '../../src/config/route-schema';
import { routeQuotas } from '../../src/drain/fairness';
import { stallReason, type WatchedDrain } from '../../src/drain/watchdog';

const route = (name: string, extra: Record<string, unknown> = {}) =>
  RouteSchema.parse({ name, match: { entity: 'account' }, connector: 'webhook', options: {}, ...extra });

describe('routeQuotas (the claim window fairness policy)', () => {
  it('a lone route may fill the whole window', () => {
    expect(routeQuotas([route('a')], new Map([['a', 600]]), 500, 1000)).toEqual([
      { route: 'a', quota: 400, bulk: false },
    ]);
  });

  it('with other routes configured, one route holds at most 3/4 of the window, and never more than the claim limit', () => {
    const q = routeQuotas([route('a'), route('b', { priority: 'bulk' })], new Map([['a', 700]]), 500, 1000);
    expect(q).toEqual([
      { route: 'a', quota: 50, bulk: false },
      { route: 'b', quota: 500, bulk: true },
    ]);
  });

  it('a route at or over its share gets no quota (never a negative one)', () => {
    expect(routeQuotas([route('a'), route('b')], new Map([['a', 900]]), 500, 1000)[0].quota).toBe(0);
  });
});

describe('stallReason (the watchdog verdict)', () => {
  const base = (
    over: Partial<WatchedDrain> = {},
    p: Partial<WatchedDrain['progress']> = {},
  ): WatchedDrain => ({
    holdsLanes: true,
    inFlight: 0,
    settleStartedAt: null,
    ...over,
    progress: { lastProgressAt: 0, claimStartedAt: null, lastError: null, failures: 0, backlog: true, ...p },
  });

  it('names a claim query that has run for longer than the limit', () => {
    expect(stallReason(base({}, { claimStartedAt: 1000 }), 30_000, 40_000)).toBe(
      'claim query running for 39.0 s',
    );
  });

  it('names a settle query, failing claims, and callouts in flight', () => {
    expect(stallReason(base({ settleStartedAt: 0, inFlight: 3 }), 30_000, 31_000)).toBe(
      'settle query running for 31.0 s',
    );
    expect(
      stallReason(
        base({}, { lastError: 'canceling statement due to statement timeout', failures: 7 }),
        30_000,
        31_000,
      ),
    ).toBe('claim failing (7 in a row); nothing claimed for 31.0 s');
    expect(stallReason(base({ inFlight: 5 }, { backlog: false }), 30_000, 31_000)).toBe(
      '5 rows in flight and none settled for 31.0 s',
    );
  });

  it('is silent for a standby, an idle queue, and a drain that moved within the limit', () => {
    expect(stallReason(base({ holdsLanes: false }), 30_000, 99_000)).toBeNull();
    expect(stallReason(base({}, { backlog: false }), 30_000, 99_000)).toBeNull();
    expect(stallReason(base({}, { lastProgressAt: 80_000 }), 30_000, 99_000)).toBeNull();
  });
});
