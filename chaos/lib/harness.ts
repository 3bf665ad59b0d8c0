import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { sessionOptions } from '../../src/db/schema-name';
import type { ChaosInfra } from './infra';
import { readTopic, topicSize } from './kafka-check';
import { Producer } from './producer';
import { ChaosSink } from './sink';
import { spawnSluice, type SluiceProc } from './sluice';
import { tally } from './tally';
import type { FaultOptions, FaultResult } from './types';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything a fault script can act on. */
export interface FaultEnv extends FaultOptions {
  infra: ChaosInfra;
  databaseUrl: string;
  procs: SluiceProc[];
  sink: ChaosSink;
  producer: Producer;
  notes: string[];
  /** SLUICE_INSTANCE of the process holding the drain lease, or null. */
  leader(): Promise<string | null>;
}

export interface LoadFault {
  id: string;
  processes: number;
  /** Performs the fault; resolves when it is lifted, recovery being timed from then (or from the returned ms epoch). */
  inject(env: FaultEnv): Promise<number | void>;
}

/** The route every chaos process delivers through; the short form shortens breaker and backoff waits. */
export function chaosRoute(sinkUrl: string, short: boolean) {
  return {
    name: 'sink',
    match: { entity: 'chaos' },
    connector: 'webhook',
    options: { url: `${sinkUrl}/hook` },
    concurrency: 16,
    ...(short
      ? { breaker: { resetTimeoutMs: 3_000 }, retry: { maxAttempts: 10, baseMs: 200, maxMs: 3_000 } }
      : {}),
  };
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 3_000, options: sessionOptions() });
  try {
    await c.connect();
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

export function leaderOf(databaseUrl: string) {
  return async () => {
    const r = await query<{ holder: string }>(
      databaseUrl,
      `SELECT holder FROM sluice_leader WHERE name = 'drain' AND expires_at > now()`,
    ).catch(() => []);
    return r[0]?.holder ?? null;
  };
}

/** Live lane leases by holder (lanes held now), from sluice_lane. */
export function laneHoldersOf(databaseUrl: string) {
  return async (): Promise<Map<string, number[]>> => {
    const r = await query<{ holder: string; lanes: number[] }>(
      databaseUrl,
      `SELECT holder, array_agg(lane ORDER BY lane) AS lanes FROM sluice_lane
        WHERE expires_at > now() AND holder IS NOT NULL GROUP BY holder`,
    ).catch(() => []);
    return new Map(r.map((x) => [x.holder, x.lanes]));
  };
}

/**
 * Waits until every accepted event is at the sink and the Kafka leg has caught up (outbox empty, topic
 * at least as long as what was accepted); returns the ms that took, or null at the deadline.
 */
export async function waitCaughtUp(
  infra: ChaosInfra,
  databaseUrl: string,
  topic: string,
  sink: ChaosSink,
  accepted: string[],
  deadlineMs: number,
): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    await sink.poll();
    if (accepted.every((id) => sink.delivered.has(id))) {
      const unpublished = await query<{ n: string }>(
        databaseUrl,
        'SELECT count(*) AS n FROM event_log WHERE published_at IS NULL',
      ).catch(() => [{ n: '-1' }]);
      if (unpublished[0].n === '0' && (await topicSize(infra.brokers, topic)) >= accepted.length) {
        return Date.now() - started;
      }
    }
    await sleep(250);
  }
  return null;
}

/** Reads both legs and counts sent / delivered / lost / duplicates by record id. */
export async function verify(
  fault: string,
  infra: ChaosInfra,
  topic: string,
  sink: ChaosSink,
  producer: Producer,
  recoveryMs: number | null,
  notes: string[],
): Promise<FaultResult> {
  await sink.poll();
  const kafka = await readTopic(infra.brokers, topic);
  return tally(
    fault,
    {
      accepted: producer.accepted,
      refused: producer.refused,
      sink: sink.delivered,
      sinkDuplicates: sink.duplicates,
      kafka: kafka.byRecord,
      kafkaDuplicates: kafka.duplicates,
    },
    recoveryMs,
    notes,
  );
}

/** Runs one fault under steady load: processes up, traffic flowing, fault, catch-up, count. */
export async function runLoadFault(
  infra: ChaosInfra,
  spec: LoadFault,
  o: FaultOptions,
): Promise<FaultResult> {
  const databaseUrl = await infra.freshDatabase(spec.id);
  const topic = `chaos.${spec.id}.${randomBytes(3).toString('hex')}`;
  const sink = await ChaosSink.start();
  const procs: SluiceProc[] = [];
  const notes: string[] = [];
  const producer = new Producer({
    targets: () => procs.filter((p) => p.alive()).map((p) => p.url),
    prefix: spec.id,
    idsPerPush: 5,
    intervalMs: 100,
  });
  try {
    const route = chaosRoute(sink.url, o.short);
    // One at a time: the migrations race has its own fault.
    for (let i = 0; i < spec.processes; i++) {
      const p = await spawnSluice({
        name: `${spec.id}-${String.fromCharCode(97 + i)}`,
        databaseUrl,
        brokers: infra.brokers,
        topic,
        routes: [route],
      });
      procs.push(p);
      await p.ready();
    }
    producer.start();
    const warm = Date.now();
    while (Date.now() - warm < 60_000) {
      await sink.poll();
      if (sink.delivered.size >= 50) break;
      await sleep(200);
    }
    if (sink.delivered.size === 0) throw new Error('nothing reached the sink before the fault');
    const env: FaultEnv = {
      ...o,
      infra,
      databaseUrl,
      procs,
      sink,
      producer,
      notes,
      leader: leaderOf(databaseUrl),
    };
    o.log(`${spec.id}: fault (sent so far ${producer.accepted.length})`);
    const lifted = (await spec.inject(env)) ?? Date.now();
    o.log(`${spec.id}: lifted; load goes on 2 s, then waiting for catch-up`);
    await sleep(2_000);
    await producer.stop();
    const caught = await waitCaughtUp(
      infra,
      databaseUrl,
      topic,
      sink,
      producer.accepted,
      o.short ? 180_000 : 900_000,
    );
    const recoveryMs = caught === null ? null : Date.now() - lifted;
    if (caught === null) notes.push('did not catch up before the deadline');
    for (const p of procs) if (!p.alive() && !p.killed) notes.push(`${p.name} died by itself`);
    return await verify(spec.id, infra, topic, sink, producer, recoveryMs, notes);
  } finally {
    await producer.stop();
    await Promise.all(procs.map((p) => p.stop()));
    sink.stop();
  }
}
