import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars } from './jars';

const run = promisify(execFile);

export interface BrokerOptions {
  /** Folder for the jar cache, data and logs; kept between runs unless `fresh`. */
  home: string;
  port: number;
  controllerPort?: number;
  partitions?: number;
  /** Wipe the data dir first (tests). */
  fresh?: boolean;
  /** Deadline for readiness, ms. */
  readyTimeoutMs?: number;
  heapMb?: number;
}

export interface RunningBroker {
  brokers: string[];
  process: ChildProcess;
  logFile: string;
  /** ms from spawning java until kafkajs saw the broker. */
  readyMs: number;
  stop(): Promise<void>;
}

export function hasJavaAndMaven(): boolean {
  const onPath = (bin: string) =>
    (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, bin)));
  return onPath('java') && onPath('mvn');
}

function clusterId(): string {
  let id: string;
  do id = randomBytes(16).toString('base64url');
  while (id.startsWith('-'));
  return id;
}

/** A restart on kept data must format with the id the data was made with (Kafka refuses another one). */
function existingClusterId(dataDir: string): string | null {
  const meta = join(dataDir, 'meta.properties');
  if (!existsSync(meta)) return null;
  return /^cluster\.id=(.+)$/m.exec(readFileSync(meta, 'utf8'))?.[1].trim() ?? null;
}

function serverProperties(
  o: Required<Pick<BrokerOptions, 'port' | 'controllerPort' | 'partitions'>>,
  dataDir: string,
) {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    `num.partitions=${o.partitions}`,
    'auto.create.topics.enable=true',
    // Without these a single node never gets a group coordinator.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=24',
  ].join('\n');
}

const LOG4J = [
  'log4j.rootLogger=WARN, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
].join('\n');

/** Polls kafkajs describeCluster until a broker answers; an open port alone is not ready. */
export async function waitForKafka(
  brokers: string[],
  timeoutMs: number,
  isDead: () => string | null = () => null,
) {
  const kafka = new Kafka({
    clientId: 'sluice-ready',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = isDead();
    if (dead) throw new Error(dead);
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
    } catch {
      // not up yet
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline)
      throw new Error(`Kafka at ${brokers.join(',')} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Fetches the jars if needed, formats a KRaft single node and starts it; resolves once it serves. */
export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const home = resolve(opts.home);
  const o = {
    port: opts.port,
    controllerPort: opts.controllerPort ?? opts.port + 1,
    partitions: opts.partitions ?? 4,
  };
  const libs = await ensureKafkaJars(join(home, '..', 'kafka-jars'));
  const dataDir = join(home, 'data');
  if (opts.fresh) await run('rm', ['-rf', dataDir]);
  mkdirSync(dataDir, { recursive: true });
  const props = join(home, 'server.properties');
  const log4j = join(home, 'log4j.properties');
  writeFileSync(props, serverProperties(o, dataDir));
  writeFileSync(log4j, LOG4J);
  const cp = `${libs}/*`;
  await run('java', [
    '-cp',
    cp,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    existingClusterId(dataDir) ?? clusterId(),
    '-c',
    props,
    '--ignore-formatted',
  ]);

  const logFile = join(home, 'broker.log');
  const out = openSync(logFile, 'a');
  const started = Date.now();
  const heap = `${opts.heapMb ?? 512}m`;
  const child = spawn(
    'java',
    [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      '-XX:+UseSerialGC',
      `-Dlog4j.configuration=file:${log4j}`,
      '-cp',
      cp,
      'kafka.Kafka',
      props,
    ],
    { stdio: ['ignore', out, out] },
  );
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `Kafka broker exited (${code ?? signal}); see ${logFile}`));
  const brokers = [`127.0.0.1:${o.port}`];
  try {
    await waitForKafka(brokers, opts.readyTimeoutMs ?? 90_000, () => exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const readyMs = Date.now() - started;
  return {
    brokers,
    process: child,
    logFile,
    readyMs,
    stop: () => stopChild(child),
  };
}

/** SIGTERM lets the broker flush and close its logs; SIGKILL only if it hangs. */
export function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}
