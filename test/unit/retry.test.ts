import { describe, expect, it } from 'vitest';
import { Backoff, retry } from '../../src/lib/retry';

describe('the retry helper', () => {
  it('Backoff grows by the factor up to the cap, jittered within ±jitter, and starts over on reset', () => {
    const fixed = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0, random: () => 0.5 });
    expect([1, 2, 3, 4, 5, 6].map(() => fixed.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    fixed.reset();
    expect(fixed.next()).toBe(100);
    const low = new Backoff({ initialMs: 100, jitter: 0.2, random: () => 0 });
    const high = new Backoff({ initialMs: 100, jitter: 0.2, random: () => 1 });
    expect([low.next(), low.next()]).toEqual([80, 160]);
    expect([high.next(), high.next()]).toEqual([120, 240]);
  });

  it('retries until success, with the attempt number', async () => {
    const seen: number[] = [];
    const out = await retry(
      async (_bail, attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error('not yet');
        return 'ok';
      },
      { initialMs: 1, retries: 5 },
    );
    expect(out).toBe('ok');
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('throws the last error after `retries` failures, and bail() ends it at once', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error(`failure ${calls}`);
        },
        { initialMs: 1, retries: 2 },
      ),
    ).rejects.toThrow('failure 3');
    calls = 0;
    await expect(
      retry(
        async (bail) => {
          calls++;
          bail(new Error('refused for good'));
        },
        { initialMs: 1, retries: 5 },
      ),
    ).rejects.toThrow('refused for good');
    expect(calls).toBe(1);
  });

  it('an abort ends the wait between attempts and throws the last error', async () => {
    const abort = new AbortController();
    const began = Date.now();
    const run = retry(
      async () => {
        throw new Error('down');
      },
      { initialMs: 60_000, retries: Infinity, signal: abort.signal },
    );
    setTimeout(() => abort.abort(), 20);
    await expect(run).rejects.toThrow('down');
    expect(Date.now() - began).toBeLessThan(5_000);
  });
});
