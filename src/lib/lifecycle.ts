/** A part of the service: started once, stopped once (River's startstop.Service). */
export interface Component {
  /** `signal` aborts when a stop is requested while this start is still in progress. */
  start(signal: AbortSignal): void | Promise<void>;
  stop(): void | Promise<void>;
}

type Log = {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  debug(o: object, m: string): void;
};

/** Thrown by start() once a stop was requested: the service was stopped while it was starting. */
export class StoppedDuringStart extends Error {
  override name = 'StoppedDuringStart';
}

/**
 * The service as a list of components, started in order and stopped in reverse. A stop requested
 * while a component is starting aborts that start, waits for it, then stops everything started so
 * far; a later start() throws StoppedDuringStart. Each stop has a deadline so one hung component
 * cannot keep the others (the broker, the embedded Postgres) running.
 */
export class Lifecycle {
  private readonly started: { name: string; component: Component }[] = [];
  private readonly abort = new AbortController();
  private starting: Promise<unknown> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly log: Log,
    private readonly stopTimeoutMs = 30_000,
  ) {}

  get stopRequested(): boolean {
    return this.abort.signal.aborted;
  }

  /** Starts `component` and adds it to the list; returns it for chaining. */
  async start<C extends Component>(name: string, component: C): Promise<C> {
    if (this.stopRequested) throw new StoppedDuringStart(`stopped before ${name} started`);
    const began = Date.now();
    const run = Promise.resolve(component.start(this.abort.signal));
    this.starting = run.catch(() => undefined);
    try {
      await run;
    } catch (err) {
      // A start that failed because a stop aborted it is the stop, not a failure of its own.
      if (this.stopRequested)
        throw new StoppedDuringStart(`stopped while ${name} was starting`, { cause: err });
      throw err;
    } finally {
      this.starting = null;
    }
    // Started, but a stop came meanwhile: stop it with the rest (it is last in line, so first to stop).
    this.started.push({ name, component });
    if (this.stopRequested) throw new StoppedDuringStart(`stopped while ${name} was starting`);
    this.log.debug({ component: name, ms: Date.now() - began }, 'started');
    return component;
  }

  /** Stops every started component in reverse order, once; later calls wait for the same stop. */
  stop(): Promise<void> {
    this.abort.abort();
    return (this.stopping ??= this.stopAll());
  }

  private async stopAll(): Promise<void> {
    await this.starting;
    while (this.started.length > 0) {
      const { name, component } = this.started.pop()!;
      const began = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((res) => {
        timer = setTimeout(() => res('timeout'), this.stopTimeoutMs);
      });
      try {
        const r = await Promise.race([Promise.resolve(component.stop()).then(() => 'ok' as const), deadline]);
        if (r === 'timeout')
          this.log.warn(
            { component: name, ms: this.stopTimeoutMs },
            'component did not stop in time; going on',
          );
        else this.log.debug({ component: name, ms: Date.now() - began }, 'stopped');
      } catch (err) {
        this.log.warn({ component: name, err: (err as Error).message }, 'component stop failed; going on');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** A component from two functions, for parts that are not classes of their own. */
export function component(start: Component['start'], stop: Component['stop']): Component {
  return { start, stop };
}
