import { sleep, type LoadFault } from '../lib/harness';

/** The Kafka broker stopped for 60 s (short: 5 s) while pushes go on, then started again on the same data. */
export const kafkaOutage: LoadFault = {
  id: 'kafka-outage',
  processes: 1,
  inject: async (env) => {
    const downMs = env.short ? 5_000 : 60_000;
    await env.infra.stopBroker();
    const before = env.producer.accepted.length;
    await sleep(downMs);
    const started = Date.now();
    await env.infra.startBroker();
    env.notes.push(
      `broker down ${downMs / 1000} s (+${((Date.now() - started) / 1000).toFixed(1)} s to restart); ` +
        `${env.producer.accepted.length - before} events accepted meanwhile`,
    );
  },
};
