import { describe, expect, it } from 'vitest';
import { timed, type CalloutOutcome } from '../../src/callout/outcome';

describe('timed', () => {
  it('stamps copies of every outcome with start and duration, the excerpt on successes only', () => {
    const retryAt = new Date(5_000);
    const outcomes: CalloutOutcome[] = [
      { kind: 'success', status: 200 },
      { kind: 'permanent', status: 200, error: 'DUPLICATE_VALUE: dup', response: '{"x":1}' },
      { kind: 'retriable', status: 503, error: 'HTTP 503', retryAfterMs: 1_000 },
      { kind: 'deferred', retryAt, error: 'breaker open' },
    ];
    const before = structuredClone(outcomes);
    const startedAt = Date.now() - 20;
    const out = timed(outcomes, startedAt, 'body');
    expect(outcomes).toEqual(before);
    expect(out).toHaveLength(4);
    for (const o of out) {
      expect(o.startedAt).toBe(startedAt);
      expect(o.ms).toBeGreaterThanOrEqual(20);
    }
    const ms = out[0].ms;
    expect(out).toEqual([
      { kind: 'success', status: 200, startedAt, ms, excerpt: 'body' },
      { ...outcomes[1], startedAt, ms },
      { ...outcomes[2], startedAt, ms },
      { kind: 'deferred', retryAt, error: 'breaker open', startedAt, ms },
    ]);
    out.forEach((o, i) => expect(o).not.toBe(outcomes[i]));
  });

  it('adds no excerpt without a body, and one shared outcome gives separate copies', () => {
    const shared: CalloutOutcome = { kind: 'success', status: 204 };
    const out = timed([shared, shared], 1_000);
    expect(out[0]).not.toHaveProperty('excerpt');
    expect(out[0]).not.toBe(out[1]);
    expect(out[0]).toEqual(out[1]);
  });
});
