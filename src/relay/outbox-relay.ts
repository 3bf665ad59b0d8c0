import type { Kafka, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { WakeableLoop } from '../lib/wakeable-loop';
import { fetchUnpublished } from '../db/outbox/fetch-unpublished';
import { markPublished } from '../db/outbox/mark-published';
import { Backoff } from '../lib/retry';
import { sleep } from '../lib/sleep';
import { createProducer, ensureTopic } from './kafka-client';
import { chunkByBytes } from './chunk';
import { BROKER_SAFE_BYTES, toKafkaMessage } from './message';

/** Changes per fetch: fewer round trips than 1,000 (about 1.2x the rate here); requests are split by bytes. */
export const RELAY_BATCH_SIZE = 4000;

export interface RelayOptions {
  topic: string;
  batchSize: number;
  pollMs: number;
  /** Bytes per produce request (default 900 KiB); a fetched batch goes out in as many requests as needed. */
  maxRequestBytes?: number;
}

export interface RelayStats {
  state: 'off' | 'standby' | 'idle' | 'publishing' | 'kafka-down' | 'stopped';
  published: number;
  lastError: string | null;
}

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/**
 * Publishes committed changes from event_log to Kafka in id order, then marks them published. Runs
 * only while this process leads (one publisher keeps per-key order). At-least-once: a crash between
 * send and mark publishes the batch again. With Kafka down it backs off and catches up later; the
 * queue and the drain do not wait for it.
 */
export class OutboxRelay extends WakeableLoop {
  private producer: Producer | null = null;
  private connected = false;
  private readonly s: RelayStats = { state: 'standby', published: 0, lastError: null };

  constructor(
    private readonly pool: Pool,
    private readonly kafka: Kafka,
    private readonly isLeader: () => boolean,
    private readonly opts: RelayOptions,
    private readonly log: Log,
  ) {
    super();
  }

  get stats(): RelayStats {
    return { ...this.s };
  }

  protected async afterStop(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.s.state = 'stopped';
  }

  /**
   * Fetch, send, mark, with the mark of one batch overlapping the fetch and send of the next: the next
   * fetch starts after the last id sent. Once a cursor fetch finds nothing, a fetch from the start picks
   * up rows that committed late with lower ids. A batch is marked only after its send succeeded.
   */
  protected async run(): Promise<void> {
    // Kafka away: retry after 0.5 s, growing to 10 s; NOTIFY wakes do not cut it short, a stop does.
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 });
    let after: string | null = null;
    // Resolves to the mark's error instead of rejecting, so a failure waits for settleMark to surface it.
    let marking: Promise<Error | void> | null = null;
    const settleMark = async () => {
      const m = marking;
      marking = null;
      const failed = await m;
      if (failed) throw failed;
    };
    while (!this.stopping) {
      if (!this.isLeader()) {
        await settleMark().catch(() => undefined);
        after = null;
        this.s.state = 'standby';
        this.signal.reset();
        await this.signal.sleep(this.opts.pollMs);
        continue;
      }
      try {
        await this.connect();
        this.signal.reset();
        const batch = await fetchUnpublished(this.pool, this.opts.batchSize, after);
        if (batch.length === 0) {
          await settleMark();
          if (after !== null) {
            after = null;
            continue;
          }
          this.s.state = 'idle';
          await this.signal.sleep(this.opts.pollMs);
          continue;
        }
        this.s.state = 'publishing';
        // In order, one request at a time: per-key order holds across the chunks.
        for (const messages of chunkByBytes(
          batch.map((r) => toKafkaMessage(r)),
          this.opts.maxRequestBytes ?? BROKER_SAFE_BYTES,
        ))
          await this.producer!.send({ topic: this.opts.topic, acks: -1, messages });
        await settleMark();
        const ids = batch.map((r) => r.id);
        marking = markPublished(this.pool, ids).then(
          (n) => {
            this.s.published += n;
          },
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        );
        after = ids[ids.length - 1];
        this.s.lastError = null;
        backoff.reset();
      } catch (err) {
        await settleMark().catch(() => undefined);
        after = null;
        const message = (err as Error).message;
        if (this.s.state !== 'kafka-down')
          this.log.warn({ err: message }, 'relay cannot publish; will retry');
        this.s.state = 'kafka-down';
        this.s.lastError = message;
        await this.dropProducer();
        await sleep(backoff.next(), this.stopped.signal);
      }
    }
    await settleMark().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.connected) return;
    await ensureTopic(this.kafka, this.opts.topic);
    this.producer = createProducer(this.kafka);
    await this.producer.connect();
    this.connected = true;
    this.log.info({ topic: this.opts.topic }, 'relay connected to Kafka');
  }

  private async dropProducer(): Promise<void> {
    this.connected = false;
    const p = this.producer;
    this.producer = null;
    await p?.disconnect().catch(() => undefined);
  }
}
