import { describe, expect, it } from 'vitest';
import type { CalloutOutcome } from '../../src/callout/outcome';
import { disableAfterMs, RouteSchema } from '../../src/config/route-schema';
import type { ClaimedEvent } from '../../src/db/queue/types';
import { attemptRows, errorCodeOf, healthRows } from '../../src/drain/attempt-rows';
import { checkEveryMs } from '../../src/routes/auto-disable';

const route = (extra: Record<string, unknown> = {}) =>
  RouteSchema.parse({
    name: 'crm',
    match: { entity: 'account' },
    connector: 'webhook',
    options: {},
    ...extra,
  });

const event = (id: string, attempts: number, routeName = 'crm'): ClaimedEvent => ({
  id,
  eventId: `00000000-0000-4000-8000-00000000000${id}`,
  route: routeName,
  entity: 'account',
  recordId: `a${id}`,
  op: 'update',
  source: 't',
  payload: null,
  occurredAt: new Date(0),
  attempts,
  mergedCount: 0,
  lane: 0,
});

describe('attemptRows (what the drain adds to the attempt log per settled row)', () => {
  it('gives each row its request start, duration, error code and 2xx body; an unstamped (unsent) one now and 0 ms', () => {
    const pairs: Array<{ event: ClaimedEvent; outcome: CalloutOutcome }> = [
      {
        event: event('1', 1),
        outcome: { kind: 'success', status: 201, startedAt: 1000, ms: 12, excerpt: 'ok' },
      },
      {
        event: event('2', 1),
        outcome: {
          kind: 'retriable',
          status: 500,
          error: 'HTTP 500',
          response: 'boom',
          startedAt: 1100,
          ms: 7,
        },
      },
      { event: event('3', 3), outcome: { kind: 'retriable', status: null, error: 'ECONNREFUSED: refused' } },
      {
        event: event('5', 2),
        outcome: {
          kind: 'deferred',
          retryAt: new Date(5000),
          error: 'breaker open (route crm): deferred until x',
        },
      },
    ];
    expect(attemptRows(pairs, 2000)).toEqual({
      queueIds: ['1', '2', '3', '5'],
      startedMs: [1000, 1100, 2000, 2000],
      durationMs: [12, 7, 0, 0],
      errorCodes: [null, null, 'ECONNREFUSED', 'breaker_open'],
      // A failure's excerpt is already in the settle's `response`: not sent twice.
      bodies: ['ok', null, null, null],
    });
  });

  it('keeps at most 512 characters of a response body', () => {
    const pairs = [
      { event: event('1', 1), outcome: { kind: 'success' as const, status: 200, excerpt: 'x'.repeat(2000) } },
    ];
    expect(attemptRows(pairs).bodies[0]).toHaveLength(512);
  });

  it('errorCodeOf: transport codes, timeouts, connector trouble, probes and unconfigured routes', () => {
    const retriable = (error: string): CalloutOutcome => ({ kind: 'retriable', status: null, error });
    expect(errorCodeOf(retriable('ETIMEDOUT: timed out after 100 ms'))).toBe('ETIMEDOUT');
    expect(errorCodeOf(retriable('timed out after 100 ms'))).toBe('ETIMEDOUT');
    expect(errorCodeOf({ kind: 'permanent', status: null, error: 'connector webhook: bad' })).toBe(
      'connector',
    );
    expect(errorCodeOf({ kind: 'permanent', status: null, error: 'something odd' })).toBe('error');
    const deferred = (error: string): CalloutOutcome => ({ kind: 'deferred', retryAt: new Date(), error });
    expect(errorCodeOf(deferred('probe failed: HTTP 500 (route crm): deferred until x'))).toBe(
      'probe_failed',
    );
    expect(errorCodeOf(deferred('route "crm" is not configured'))).toBe('not_configured');
  });
});

describe('healthRows (what a settle tells the failure clock)', () => {
  const fail = (id: string, at: number, r = 'crm') => ({
    event: event(id, 1, r),
    outcome: { kind: 'retriable', status: 500, error: 'HTTP 500', startedAt: at } as CalloutOutcome,
  });
  const ok = (id: string, at: number, r = 'crm') => ({
    event: event(id, 1, r),
    outcome: { kind: 'success', status: 200, startedAt: at } as CalloutOutcome,
  });

  it('only failures: the clock starts at the first; a success: stopped, or restarted at a failure after it', () => {
    expect(healthRows([fail('1', 300), fail('2', 100)])).toEqual({
      routes: ['crm'],
      ok: [false],
      failFrom: [new Date(100)],
    });
    expect(healthRows([fail('1', 100), ok('2', 200)])).toEqual({
      routes: ['crm'],
      ok: [true],
      failFrom: [null],
    });
    expect(healthRows([fail('1', 100), ok('2', 200), fail('3', 400), fail('4', 300)])).toEqual({
      routes: ['crm'],
      ok: [true],
      failFrom: [new Date(300)],
    });
  });

  it('deferred attempts tell nothing (a route with only deferrals is left out), and routes are kept apart', () => {
    const deferred = {
      event: event('9', 1, 'erp'),
      outcome: { kind: 'deferred', retryAt: new Date(), error: 'breaker open' } as CalloutOutcome,
    };
    expect(healthRows([deferred, fail('1', 100, 'crm'), ok('2', 50, 'wh')])).toEqual({
      routes: ['crm', 'wh'],
      ok: [false, true],
      failFrom: [new Date(100), null],
    });
  });
});

describe('disableAfter (auto-disable option)', () => {
  it('defaults to 24 h; takes durations, ms, or off; refuses nonsense and less than a second', () => {
    expect(disableAfterMs(route())).toBe(86_400_000);
    expect(disableAfterMs(route({ disableAfter: '5d' }))).toBe(5 * 86_400_000);
    expect(disableAfterMs(route({ disableAfter: '90m' }))).toBe(5_400_000);
    expect(disableAfterMs(route({ disableAfter: 2000 }))).toBe(2000);
    expect(disableAfterMs(route({ disableAfter: 'off' }))).toBeNull();
    for (const bad of ['soon', '500ms', 0, '1.5h'])
      expect(() => route({ disableAfter: bad }), String(bad)).toThrow();
  });

  it('the leader checks at a quarter of the shortest disableAfter, between 250 ms and 5 s', () => {
    expect(checkEveryMs([route()])).toBe(5_000);
    expect(checkEveryMs([route({ disableAfter: '2s' }), route()])).toBe(500);
    expect(checkEveryMs([route({ disableAfter: 'off' })])).toBe(5_000);
    expect(checkEveryMs([route({ disableAfter: '1s' })])).toBe(250);
  });
});
