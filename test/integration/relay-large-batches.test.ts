import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/db/queue/enqueue';
import { createKafka, ensureTopic } from '../../src/relay/kafka-client';
import { OutboxRelay } from '../../src/relay/outbox-relay';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { readTopic } from '../helpers/kafka';
import { waitFor } from '../helpers/wait';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

describe('relay: a fetch bigger than the broker accepts in one request goes out in several, in order', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('4,000 changes of 1 KiB into a one-partition topic (4 MiB, past message.max.bytes): all published, in id order', async () => {
    const kafka = createKafka(inject('kafkaBrokers'), 'relay-large', quiet);
    const topic = `sluice.test.large.${randomBytes(4).toString('hex')}`;
    await ensureTopic(kafka, topic, 1);
    const ids = Array.from({ length: 4000 }, (_, i) => `acc-${i}`);
    await enqueue(db.pool, {
      entity: 'account',
      op: 'update',
      source: 'test',
      ids,
      payloads: ids.map((id) => ({ id, note: 'n'.repeat(1024) })),
    });
    const relay = new OutboxRelay(db.pool, kafka, () => true, { topic, batchSize: 4000, pollMs: 50 }, quiet);
    relay.start();
    try {
      await waitFor(
        async () =>
          (await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE published_at IS NULL`)) === 0,
        'every change published',
      );
    } finally {
      await relay.stop();
    }
    expect(relay.stats.lastError).toBeNull();
    const messages = await readTopic(topic, 4000);
    expect(messages).toHaveLength(4000);
    // One partition: its order is the relay's send order, which is id (commit) order.
    expect(messages.map((m) => JSON.parse(m.value!.toString()).recordId)).toEqual(ids);
  });
});
