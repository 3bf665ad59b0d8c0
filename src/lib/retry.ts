import { sleep } from './sleep';

export interface RetryOptions {
  /** First wait, ms. */
  initialMs?: number;
  /** Longest wait, ms. */
  maxMs?: number;
  /** Growth of the wait per failure. */
  factor?: number;
  /** Each wait is drawn from ±jitter of its nominal value, so failures together do not retry together. */
  jitter?: number;
  /** Failures retried before giving up (retry() only; Infinity: until it succeeds, bails or is aborted). */
  retries?: number;
  random?: () => number;
}

export const RETRY_DEFAULTS = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.2, retries: 5 };

/**
 * Waits for a loop that retries in its own shape (reconnect, poll again): next() after each failure
 * gives the next jittered, exponentially growing wait; reset() after a success starts over.
 */
export class Backoff {
  private nominal: number;
  private readonly o: Required<Omit<RetryOptions, 'retries'>>;

  constructor(o: RetryOptions = {}) {
    this.o = {
      initialMs: o.initialMs ?? RETRY_DEFAULTS.initialMs,
      maxMs: o.maxMs ?? RETRY_DEFAULTS.maxMs,
      factor: o.factor ?? RETRY_DEFAULTS.factor,
      jitter: o.jitter ?? RETRY_DEFAULTS.jitter,
      random: o.random ?? Math.random,
    };
    this.nominal = this.o.initialMs;
  }

  next(): number {
    const wait = this.nominal * (1 + this.o.jitter * (2 * this.o.random() - 1));
    this.nominal = Math.min(this.o.maxMs, this.nominal * this.o.factor);
    return Math.max(0, Math.round(Math.min(this.o.maxMs, wait)));
  }

  reset(): void {
    this.nominal = this.o.initialMs;
  }
}

/** Thrown through retry() by bail(): the failure is final, no further attempt is made. */
class Bailed extends Error {
  constructor(readonly reason: unknown) {
    super('bailed');
  }
}

/**
 * Runs `fn` until it resolves, waiting a Backoff between failures (kafkajs' retrier, in one function).
 * `bail(err)` inside `fn` ends it with `err` at once; after `retries` failures the last error is thrown;
 * an aborted `signal` stops the waiting and throws the last error.
 */
export async function retry<T>(
  fn: (bail: (err: unknown) => never, attempt: number) => Promise<T>,
  o: RetryOptions & { signal?: AbortSignal } = {},
): Promise<T> {
  const backoff = new Backoff(o);
  const retries = o.retries ?? RETRY_DEFAULTS.retries;
  const bail = (err: unknown): never => {
    throw new Bailed(err);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(bail, attempt);
    } catch (err) {
      if (err instanceof Bailed) throw err.reason;
      if (attempt >= retries || o.signal?.aborted) throw err;
      await sleep(backoff.next(), o.signal);
      if (o.signal?.aborted) throw err;
    }
  }
}
