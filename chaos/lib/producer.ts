import { CHAOS_KEY } from './sluice';

export interface ProducerOptions {
  /** Where to push; called per request so a fault can change the targets (round-robin over them). */
  targets: () => string[];
  /** Unique prefix of record ids: one record id per event, so coalescing never merges two. */
  prefix: string;
  idsPerPush?: number;
  intervalMs?: number;
}

/**
 * Pushes fresh record ids through POST /v1/events at a steady pace, like a client that does not retry.
 * `accepted` are ids that got a 202 (Sluice promised them); anything else is `refused` (not promised).
 */
export class Producer {
  readonly accepted: string[] = [];
  refused = 0;
  private seq = 0;
  private turn = 0;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly o: ProducerOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** One push of `n` ids now; resolves with whether it was accepted. */
  async pushOnce(n = this.o.idsPerPush ?? 5): Promise<boolean> {
    const targets = this.o.targets();
    const ids = Array.from({ length: n }, () => `${this.o.prefix}-${++this.seq}`);
    const url = targets[this.turn++ % Math.max(1, targets.length)];
    try {
      if (!url) throw new Error('no target');
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CHAOS_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ entity: 'chaos', op: 'update', ids, source: 'chaos' }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (res.status === 202) {
        this.accepted.push(...ids);
        return true;
      }
    } catch {
      // refused: connection refused, reset or timed out
    }
    this.refused += n;
    return false;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await this.pushOnce();
      await new Promise((r) =>
        setTimeout(r, Math.max(0, (this.o.intervalMs ?? 100) - (Date.now() - started))),
      );
    }
  }
}
