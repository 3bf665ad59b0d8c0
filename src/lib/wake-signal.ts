/**
 * A sleep that a wake() cuts short. A wake that arrives while the owner is busy is remembered, so the
 * next sleep returns at once: no notification is lost between "checked the queue" and "went to sleep".
 */
export class WakeSignal {
  private pending = false;
  private resolveSleep: (() => void) | null = null;

  wake(): void {
    this.pending = true;
    this.resolveSleep?.();
  }

  /** Forget wakes seen so far (call right before looking for work). */
  reset(): void {
    this.pending = false;
  }

  get woken(): boolean {
    return this.pending;
  }

  sleep(ms: number): Promise<void> {
    if (this.pending) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.resolveSleep = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.resolveSleep = done;
    });
  }
}
