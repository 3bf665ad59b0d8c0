import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/drain/backoff';

const retry = { maxAttempts: 10, baseMs: 1000, maxMs: 60_000 };

describe('backoffMs', () => {
  it('doubles per attempt within [half, full] of the exponential step', () => {
    expect(backoffMs(1, retry, undefined, () => 0)).toBe(500);
    expect(backoffMs(1, retry, undefined, () => 1)).toBe(1000);
    expect(backoffMs(3, retry, undefined, () => 0)).toBe(2000);
    expect(backoffMs(3, retry, undefined, () => 1)).toBe(4000);
  });
  it('caps at maxMs', () => {
    expect(backoffMs(30, retry, undefined, () => 1)).toBe(60_000);
  });
  it('honours a longer Retry-After, but not a shorter one', () => {
    expect(backoffMs(1, retry, 30_000, () => 0)).toBe(30_000);
    expect(backoffMs(3, retry, 10, () => 0)).toBe(2000);
  });
});
