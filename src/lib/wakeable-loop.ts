import { WakeSignal } from './wake-signal';

/**
 * A background loop that sleeps between rounds until woken (NOTIFY, a local event) or its poll interval
 * passes: start() runs it, wake() cuts its sleep short, stop() ends it after the round in progress.
 */
export abstract class WakeableLoop {
  protected readonly signal = new WakeSignal();
  protected stopping = false;
  /** Aborted by stop(): waits that a wake must not cut short (a backoff) still end at a stop. */
  protected readonly stopped = new AbortController();
  private loop: Promise<void> | null = null;

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    this.signal.wake();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    this.wake();
    await this.loop;
    await this.afterStop();
  }

  /** Loops until `this.stopping`, sleeping on `this.signal` between rounds. */
  protected abstract run(): Promise<void>;

  /** Release what the loop held, once it has ended. */
  protected abstract afterStop(): Promise<void>;
}
