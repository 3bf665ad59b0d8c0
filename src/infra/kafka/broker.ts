import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { FolderLock } from '../folder-lock';
import { pidsWithCommandLine, stopPid } from '../processes';
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
  /** Run java in its own process group, so a Ctrl-C on the terminal reaches Sluice only (which stops it in order). */
  detached?: boolean;
  /** Aborts a start in progress (the service is stopping). */
  signal?: AbortSignal;
  log?: { warn(o: object, m: string): void };
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

/**
 * Why a broker that exited at start did, from its log: the first ERROR or FATAL line and, when the next line
 * is the exception it logged, that line too (e.g. "Socket server failed to bind to 127.0.0.1:19093: Address
 * already in use"); nothing when the log has none.
 */
export function logReason(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => / (ERROR|FATAL) /.test(l));
    if (at < 0) return '';
    const next = lines[at + 1]?.trim() ?? '';
    const cause = /^[\w.$]+(Exception|Error)\b/.test(next) ? ` (${next})` : '';
    return `: ${`${lines[at].trim()}${cause}`.slice(0, 600)}`;
  } catch {
    return '';
  }
}

/** Polls kafkajs describeCluster until a broker answers; an open port alone is not ready. */
export async function waitForKafka(
  brokers: string[],
  timeoutMs: number,
  isDead: () => string | null = () => null,
  clusterId?: string,
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
      // Another broker on our port (not the one we formatted) must not pass for ours.
      if (clusterId && cluster.clusterId !== clusterId)
        throw new Error(
          `port ${brokers[0]} answers for Kafka cluster ${cluster.clusterId}, not ours (${clusterId})`,
        );
      if (cluster.brokers.length > 0) return;
    } catch (err) {
      if ((err as Error).message.includes('not ours')) throw err;
      // not up yet
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline)
      throw new Error(`Kafka at ${brokers.join(',')} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * Fetches the jars if needed, formats a KRaft single node and starts it; resolves once it serves.
 * `<home>/sluice.lock` gives the folder to one Sluice process: a second start on it is refused while
 * the first lives, and a broker left running by one that was killed (kill -9) is stopped first.
 */
export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const home = resolve(opts.home);
  const o = {
    port: opts.port,
    controllerPort: opts.controllerPort ?? opts.port + 1,
    partitions: opts.partitions ?? 4,
  };
  mkdirSync(home, { recursive: true });
  const props = join(home, 'server.properties');
  const lock = FolderLock.acquire(join(home, 'sluice.lock'), `the Kafka broker folder ${home}`, props);
  try {
    // Ours by the properties file in its command line; a missing or stale pid file still finds it.
    const leftovers = new Set([...(lock.leftover ? [lock.leftover] : []), ...pidsWithCommandLine(props)]);
    for (const pid of leftovers) {
      opts.log?.warn(
        { leftoverPid: pid, home },
        'stopping a Kafka broker left running by a Sluice that did not stop',
      );
      await stopPid(pid, 'SIGTERM', 15_000);
    }
    const listeners: Array<[number, string]> = [
      [o.port, ''],
      [
        o.controllerPort,
        ` (the broker's controller listener${opts.controllerPort === undefined ? ', SLUICE_KAFKA_PORT + 1' : ''})`,
      ],
    ];
    for (const [port, what] of listeners)
      if (await portAnswers(port))
        throw new Error(
          `port ${port}${what} is already in use by another process; set SLUICE_KAFKA_PORT (or KAFKA_BROKERS to use a running broker)`,
        );
    const libs = await ensureKafkaJars(join(home, '..', 'kafka-jars'));
    const dataDir = join(home, 'data');
    if (opts.fresh) await run('rm', ['-rf', dataDir]);
    mkdirSync(dataDir, { recursive: true });
    const log4j = join(home, 'log4j.properties');
    writeFileSync(props, serverProperties(o, dataDir));
    writeFileSync(log4j, LOG4J);
    const cp = `${libs}/*`;
    const cluster = existingClusterId(dataDir) ?? clusterId();
    await run('java', [
      '-cp',
      cp,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      cluster,
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
      { stdio: ['ignore', out, out], detached: opts.detached ?? false },
    );
    closeSync(out);
    lock.setChild(child.pid!);
    let exited: string | null = null;
    child.once(
      'exit',
      (code, signal) =>
        (exited = `Kafka broker exited (${code ?? signal})${logReason(logFile)}; see ${logFile}`),
    );
    const brokers = [`127.0.0.1:${o.port}`];
    const stop = async () => {
      await stopChild(child);
      lock.release();
    };
    try {
      await waitForKafka(
        brokers,
        opts.readyTimeoutMs ?? 90_000,
        () => exited ?? (opts.signal?.aborted ? 'Kafka broker start aborted' : null),
        cluster,
      );
    } catch (err) {
      await stop();
      throw err;
    }
    return { brokers, process: child, logFile, readyMs: Date.now() - started, stop };
  } catch (err) {
    lock.release();
    throw err;
  }
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
