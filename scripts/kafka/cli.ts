// `npm run kafka:start` runs a local broker in the foreground (Ctrl-C stops it); `kafka:fetch` only caches the jars.
import { join } from 'node:path';
import { ensureKafkaJars } from '../../src/infra/kafka/jars';
import { startBroker } from '../../src/infra/kafka/broker';

async function main() {
  const home = process.env.SLUICE_HOME ?? '.sluice';
  const cmd = process.argv[2];
  if (cmd === 'fetch') {
    const t = Date.now();
    const libs = await ensureKafkaJars(join(home, 'kafka-jars'));
    console.log(`jars in ${libs} (${Date.now() - t} ms)`);
    return;
  }
  if (cmd !== 'start') {
    console.error('usage: tsx scripts/kafka/cli.ts fetch|start');
    process.exit(2);
  }
  const port = Number(process.env.SLUICE_KAFKA_PORT ?? 19092);
  const broker = await startBroker({ home: join(home, 'kafka'), port });
  console.log(`Kafka ready at ${broker.brokers.join(',')} in ${broker.readyMs} ms (log: ${broker.logFile})`);
  const stop = () => broker.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
