/**
 * A counting semaphore: at most `limit` holders at once, FIFO for waiters. The limit may be a function,
 * read at every acquire and release: a lower limit lets holders finish and admits no one until under it.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly max: () => number;
  constructor(limit: number | (() => number)) {
    this.max = typeof limit === 'function' ? limit : () => limit;
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    // A waiter is counted in `active` by the release that wakes it.
    if (this.active >= this.max() || this.waiters.length)
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      while (this.waiters.length && this.active < this.max()) {
        this.active++;
        this.waiters.shift()!();
      }
    }
  }
}
