import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hasJavaAndMaven, startBroker, type RunningBroker } from '../../src/infra/kafka/broker';
import { enqueue } from '../../src/db/queue/enqueue';
import { createKafka, ensureTopic } from '../../src/relay/kafka-client';
import { OutboxRelay, RELAY_BATCH_SIZE } from '../../src/relay/outbox-relay';
import { freePort } from '../../test/helpers/ports';
import type { Scenario } from '../lib/types';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Relay rate: a backlog of committed changes in the outbox, then the relay publishes it to Kafka in
 * batches (acks=all, one request in flight, as in the service) and marks it published. Uses
 * KAFKA_BROKERS, else a broker of its own from the Maven jars; skipped without either.
 */
export const captureRelay: Scenario = {
  id: 'capture-relay',
  title: 'Capture: outbox relay to Kafka',
  run: async (ctx, { quick }) => {
    const rows = quick ? 20_000 : 100_000;
    let broker: RunningBroker | null = null;
    let brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
    if (brokers.length === 0) {
      if (!hasJavaAndMaven()) {
        ctx.log('skipped: no KAFKA_BROKERS and no java/mvn for a local broker');
        return [];
      }
      const port = await freePort();
      broker = await startBroker({
        home: join('.sluice', `bench-kafka-${port}`),
        port,
        controllerPort: await freePort(),
        fresh: true,
        heapMb: 384,
      });
      brokers = broker.brokers;
    }
    const db = await ctx.freshDatabase('bench_relay');
    const kafka = createKafka(brokers, 'sluice-bench-relay', quiet);
    const topic = `sluice.bench.${randomBytes(4).toString('hex')}`;
    try {
      for (let i = 0; i < rows; i += 10_000) {
        const ids = Array.from({ length: Math.min(10_000, rows - i) }, (_, k) => `acc-${i + k}`);
        await enqueue(db.pool, {
          entity: 'account',
          op: 'update',
          source: 'bench',
          ids,
          payloads: ids.map((id) => ({ id, plan: 'gold' })),
        });
      }
      await ensureTopic(kafka, topic);
      await db.pool.query('VACUUM ANALYZE event_log');
      const relay = new OutboxRelay(
        db.pool,
        kafka,
        () => true,
        { topic, batchSize: RELAY_BATCH_SIZE, pollMs: 50 },
        quiet,
      );
      const started = process.hrtime.bigint();
      relay.start();
      for (;;) {
        const { rows: r } = await db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM event_log WHERE published_at IS NULL`,
        );
        if (Number(r[0].n) === 0) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await relay.stop();
      return [
        {
          id: 'relay',
          name: `outbox relay to Kafka, ${rows.toLocaleString('en-US')}-change backlog (fetches of ${RELAY_BATCH_SIZE.toLocaleString('en-US')}, acks=all)`,
          unit: 'messages/s',
          value: Math.round(rows / seconds),
          detail: { rows, seconds: Number(seconds.toFixed(3)), goal: '>= 20,000 messages/s' },
        },
      ];
    } finally {
      await db.drop();
      await broker?.stop();
    }
  },
};
