import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { isAlive, pidsWithCommandLine } from '../../src/infra/processes';
import { sessionOptions } from '../../src/db/schema-name';
import { freeKafkaPort, freePort } from './ports';
import { startSink, type Sink } from './sink';
import { waitFor } from './wait';

/** How one round's service is stopped: a signal to the innermost node process, or to `npm start` itself. */
export interface StopRound {
  signal: 'SIGINT' | 'SIGTERM';
  target: 'node' | 'npm';
}

export interface RoundResult extends StopRound {
  exit: number | string;
  stopMs: number;
  /** Error-level log lines (pino level >= 50) and anything written to stderr. */
  errors: string[];
  /** Processes still running on the service's folder (java, postgres) after the stop. */
  leftovers: number[];
  locksLeft: string[];
}

export interface StopRunResult {
  rounds: RoundResult[];
  /** Java and postgres processes orphaned by the kill -9 of the node process, before the restart. */
  orphanedByKill9: number;
  /** The restart after kill -9 stopped those leftovers and ran exactly one broker. */
  restartCleanedUp: boolean;
  brokersAfterRestart: number;
  pushed: number;
  published: number;
  missingFromTopic: number;
  corruption: boolean;
  /** Leftovers after the final stop. */
  finalLeftovers: number[];
}

const TEST_KEY = 'stop-test-key-0123456789';
/** The checkout whose `npm start` runs (STOPS_ROOT: another checkout, e.g. an older release to compare). */
const ROOT = process.env.STOPS_ROOT ?? resolve(__dirname, '..', '..');

/** One `npm start` of Sluice with the embedded Postgres and the local broker, on the run's own home and ports. */
function npmStart(env: NodeJS.ProcessEnv) {
  const npm = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((res) => npm.once('exit', (c, s) => res(c ?? s ?? -1)));
  return { npm, exited, out: () => out, err: () => err };
}

const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

/** The innermost node process under `npm start` (npm -> node when the script execs it; npm -> sh -> node ... otherwise). */
function innermostNode(p: ChildProcess): number | undefined {
  let found: number | undefined;
  const walk = (pid: number) => {
    for (const c of childrenOf(pid)) {
      if (readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'node') found = c;
      walk(c);
    }
  };
  walk(p.pid!);
  return found;
}

const errorLines = (out: string, err: string) => [
  ...out.split('\n').filter((l) => /^\{.*"level":(5|6)\d/.test(l)),
  ...err.split('\n').filter((l) => l.trim()),
];

/**
 * Starts, loads and stops a real Sluice once per round (2,000 ids to a slow sink, stopped while
 * delivering), then kills one with -9 and restarts it, then checks the topic against the change log.
 */
export async function runStopRounds(o: {
  rounds: StopRound[];
  ids?: number;
  log?: (m: string) => void;
  ports?: { http: number; pg: number; kafka: number };
}): Promise<StopRunResult> {
  const log = o.log ?? (() => undefined);
  const ids = o.ids ?? 2000;
  const home = mkdtempSync(join(tmpdir(), 'sluice-stops-'));
  // The broker's jars come from the project's cache instead of Maven Central each run.
  mkdirSync(resolve(ROOT, '.sluice', 'kafka-jars'), { recursive: true });
  symlinkSync(resolve(ROOT, '.sluice', 'kafka-jars'), join(home, 'kafka-jars'));
  const sink: Sink = await startSink(() => ({ delayMs: 100 }));
  const config = join(home, 'sluice.config.json');
  const route = {
    name: 'slow',
    match: { entity: 'account' },
    connector: 'webhook',
    options: { url: sink.url },
  };
  writeFileSync(config, JSON.stringify({ routes: [route] }));
  const ports = o.ports ?? { http: await freePort(), pg: await freePort(), kafka: await freeKafkaPort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(ports.http),
    HOST: '127.0.0.1',
    SLUICE_PG_PORT: String(ports.pg),
    SLUICE_KAFKA_PORT: String(ports.kafka),
    SLUICE_HOME: home,
    SLUICE_CONFIG: config,
    SLUICE_API_KEYS: TEST_KEY,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  delete env.KAFKA_BROKERS;
  const url = `http://127.0.0.1:${ports.http}`;
  const ours = () => pidsWithCommandLine(home);
  const locks = () =>
    [join(home, 'pg.lock'), join(home, 'kafka', 'sluice.lock')].filter((f) => existsSync(f));
  const spawned: number[] = [];
  const up = async () => {
    const run = npmStart(env);
    spawned.push(run.npm.pid!);
    await waitFor(
      async () => {
        if (run.npm.exitCode !== null)
          throw new Error(`sluice exited during start:\n${run.out()}${run.err()}`);
        return run.out().includes('Sluice is up') && (await fetch(`${url}/readyz`).catch(() => null))?.ok;
      },
      'sluice up',
      { timeoutMs: 240_000, intervalMs: 200 },
    );
    const node = innermostNode(run.npm)!;
    spawned.push(node);
    return { ...run, node };
  };
  let pushed = 0;
  const push = async (round: number) => {
    const body = {
      entity: 'account',
      op: 'update',
      ids: Array.from({ length: ids }, (_, i) => `r${round}-${i}`),
    };
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 202) throw new Error(`push answered ${res.status}`);
    pushed += ids;
    const seen = sink.requests.length;
    await waitFor(() => sink.requests.length > seen + 10, 'callouts in progress');
  };

  const rounds: RoundResult[] = [];
  try {
    for (const [i, r] of o.rounds.entries()) {
      const svc = await up();
      await push(i);
      const began = Date.now();
      process.kill(r.target === 'npm' ? svc.npm.pid! : svc.node, r.signal);
      const exit = await Promise.race([
        svc.exited,
        new Promise<string>((res) => setTimeout(() => res('hung'), 90_000)),
      ]);
      await waitFor(() => !isAlive(svc.node), 'the node process to end', { timeoutMs: 30_000 }).catch(
        () => null,
      );
      const result: RoundResult = {
        ...r,
        exit,
        stopMs: Date.now() - began,
        errors: errorLines(svc.out(), svc.err()),
        leftovers: ours(),
        locksLeft: locks(),
      };
      rounds.push(result);
      log(
        `round ${i + 1} ${r.signal} -> ${r.target}: exit ${exit} in ${result.stopMs} ms, ${result.errors.length} error lines, ${result.leftovers.length} leftovers`,
      );
      for (const pid of result.leftovers) process.kill(pid, 'SIGKILL');
    }

    // kill -9 of the node process: its broker and Postgres are orphaned; the next start must clean up.
    const victim = await up();
    await push(o.rounds.length);
    process.kill(victim.node, 'SIGKILL');
    await victim.exited;
    const orphaned = ours();
    log(`kill -9: ${orphaned.length} processes left on the folder (${orphaned.join(', ')})`);
    const last = await up();
    const brokersAfterRestart = ours().filter((p) =>
      readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('kafka.Kafka'),
    ).length;
    const restartCleanedUp = orphaned.every((p) => !isAlive(p));

    const db = new Client({
      connectionString: `postgres://postgres:sluice-embedded@127.0.0.1:${ports.pg}/sluice`,
      options: sessionOptions(),
    });
    await db.connect();
    let published = 0;
    let missing = -1;
    try {
      await waitFor(
        async () =>
          Number(
            (await db.query(`SELECT count(*) AS n FROM event_log WHERE published_at IS NULL`)).rows[0].n,
          ) === 0,
        'the relay to publish everything',
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      const { rows } = await db.query<{ event_id: string }>('SELECT event_id FROM event_log');
      published = rows.length;
      const inTopic = await topicEventIds(`127.0.0.1:${ports.kafka}`, 'sluice.changes', published);
      missing = rows.filter((r) => !inTopic.has(r.event_id)).length;
    } finally {
      await db.end();
    }
    process.kill(last.node, 'SIGTERM');
    await last.exited;
    const brokerLog = readFileSync(join(home, 'kafka', 'broker.log'), 'utf8');
    return {
      rounds,
      orphanedByKill9: orphaned.length,
      restartCleanedUp,
      brokersAfterRestart,
      pushed,
      published,
      missingFromTopic: missing,
      corruption: /CorruptRecordException|Corrupt/i.test(brokerLog),
      finalLeftovers: ours(),
    };
  } finally {
    // A run that failed half-way must not leave its services (or a hung npm) behind.
    for (const pid of [...spawned, ...ours()]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await sink.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Every `sluice-event-id` header on the topic, read from the beginning until `expected` distinct ids arrived. */
async function topicEventIds(broker: string, topic: string, expected: number): Promise<Set<string>> {
  const kafka = new Kafka({ clientId: 'stop-test', brokers: [broker], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `stop-test-${Date.now()}` });
  const seen = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const id = message.headers?.['sluice-event-id'];
        if (id) seen.add(id.toString());
      },
    });
    await waitFor(() => seen.size >= expected, `${expected} event ids on the topic`, {
      timeoutMs: 60_000,
    }).catch(() => null);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
