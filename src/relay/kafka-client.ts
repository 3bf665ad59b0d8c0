import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';

type Log = {
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
  debug(o: object, m: string): void;
};

/** kafkajs logs routed into pino; its noisy INFO chatter dropped. */
export function createKafka(brokers: string[], clientId: string, log: Log): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        if (level <= logLevel.ERROR) log.error({ kafka: rest }, message);
        else if (level === logLevel.WARN) log.warn({ kafka: rest }, message);
        else log.debug({ kafka: rest }, message);
      },
  });
}

/** One in-flight request per connection so a retried batch cannot overtake the next: order per key holds. */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: true,
    maxInFlightRequests: 1,
    idempotent: false,
  });
}

/** Creates the topic if missing (auto-created topics can briefly refuse writes). */
export async function ensureTopic(kafka: Kafka, topic: string, partitions = 4): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
}
