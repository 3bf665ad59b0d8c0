import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

function kafka(brokers: string[]) {
  return new Kafka({ clientId: 'sluice-chaos', brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

/** Messages on the topic so far (sum of high watermarks); 0 while the topic or broker is not there. */
export async function topicSize(brokers: string[], topic: string): Promise<number> {
  const admin = kafka(brokers).admin();
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((a, p) => a + Number(p.high), 0);
  } catch {
    return 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Reads the whole topic (fresh group, from the beginning): recordId -> event ids, and duplicate messages. */
export async function readTopic(brokers: string[], topic: string, timeoutMs = 60_000) {
  const size = await topicSize(brokers, topic);
  const byRecord = new Map<string, Set<string>>();
  const seen = new Set<string>();
  let messages = 0;
  let duplicates = 0;
  if (size === 0) return { byRecord, messages, duplicates };
  const consumer = kafka(brokers).consumer({ groupId: `sluice-chaos-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages++;
        const v = JSON.parse(message.value!.toString()) as { eventId: string; recordId: string };
        if (seen.has(v.eventId)) duplicates++;
        seen.add(v.eventId);
        const set = byRecord.get(v.recordId) ?? new Set<string>();
        set.add(v.eventId);
        byRecord.set(v.recordId, set);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (messages < size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await consumer.disconnect();
  }
  return { byRecord, messages, duplicates };
}
