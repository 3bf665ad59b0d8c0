import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { inject } from 'vitest';
import { waitFor } from './wait';

/** Reads `topic` from the beginning with a fresh group until `expected` messages arrived (or times out). */
export async function readTopic(
  topic: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const kafka = new Kafka({
    clientId: 'sluice-test-reader',
    brokers: inject('kafkaBrokers'),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `sluice-test-${randomBytes(4).toString('hex')}` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await waitFor(
      () => messages.length >= expected,
      `${expected} messages on ${topic} (got ${messages.length})`,
      {
        timeoutMs,
        intervalMs: 100,
      },
    );
    return messages;
  } finally {
    await consumer.disconnect();
  }
}
