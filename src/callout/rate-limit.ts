export interface RateLimiter {
  schedule<T>(fn: () => Promise<T>): Promise<T>;
  /** Requests waiting for their turn. */
  readonly queued: number;
  stop(): Promise<void>;
}

/**
 * A route's requests-per-second limit: a token bucket refilled continuously at `perSecond`, holding at most
 * a tenth of a second's worth (min 1), so an idle route cannot save up a burst. Waiters go in FIFO order
 * on one timer. Hand-written on purpose: bottleneck 2.19 (installed) spends ~3.5 ms scheduling each job
 * on this machine (a timer per job), which caps a route near 300 requests/s whatever its limit.
 * `perSecond` may be a function, read at every refill (an instance's share of a route's limit moves with
 * the lanes it holds).
 */
export function createRateLimiter(perSecond: number | (() => number)): RateLimiter {
  const rate = typeof perSecond === 'function' ? perSecond : () => perSecond;
  let perMs = rate() / 1000;
  let burst = Math.max(1, rate() / 10);
  let tokens = burst;
  let last = performance.now();
  let timer: NodeJS.Timeout | null = null;
  const waiters: Array<() => void> = [];

  const refill = () => {
    const r = Math.max(rate(), 0.001);
    perMs = r / 1000;
    burst = Math.max(1, r / 10);
    const now = performance.now();
    tokens = Math.min(burst, tokens + (now - last) * perMs);
    last = now;
  };
  const arm = () => {
    if (timer || waiters.length === 0) return;
    refill();
    timer = setTimeout(
      () => {
        timer = null;
        refill();
        while (waiters.length && tokens >= 1) {
          tokens -= 1;
          waiters.shift()!();
        }
        arm();
      },
      Math.max(1, Math.ceil((1 - tokens) / perMs)),
    );
  };
  const take = (): Promise<void> => {
    if (waiters.length === 0) {
      refill();
      if (tokens >= 1) {
        tokens -= 1;
        return Promise.resolve();
      }
    }
    return new Promise((resolve) => {
      waiters.push(resolve);
      arm();
    });
  };

  return {
    schedule: async (fn) => {
      await take();
      return fn();
    },
    get queued() {
      return waiters.length;
    },
    // Waiters go on at once; the caller, shut down by then, defers their events instead of sending.
    stop: async () => {
      if (timer) clearTimeout(timer);
      timer = null;
      waiters.splice(0).forEach((w) => w());
    },
  };
}
