import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { sessionOptions } from '../../src/db/schema-name';
import { chaosRoute, verify, waitCaughtUp } from '../lib/harness';
import type { ChaosInfra } from '../lib/infra';
import { Producer } from '../lib/producer';
import { ChaosSink } from '../lib/sink';
import { spawnSluice, type SluiceProc } from '../lib/sluice';
import type { FaultOptions, FaultResult } from '../lib/types';

async function migrationsAppliedTwice(databaseUrl: string): Promise<string[]> {
  const c = new Client({ connectionString: databaseUrl, options: sessionOptions() });
  await c.connect();
  try {
    const { rows } = await c.query<{ name: string; n: string }>(
      'SELECT name, count(*) AS n FROM sluice_migrations GROUP BY name',
    );
    if (rows.length === 0) return ['(no migrations recorded)'];
    return rows.filter((r) => r.n !== '1').map((r) => r.name);
  } finally {
    await c.end();
  }
}

/**
 * Two Sluice processes started at the same moment against an empty database: both must migrate (one
 * waits for the other), become ready, and deliver everything pushed to either of them.
 * Recovery time here is the time until both answer /readyz (the slowest round).
 */
export async function migrationsRace(infra: ChaosInfra, o: FaultOptions): Promise<FaultResult> {
  const rounds = o.short ? 1 : 3;
  const sink = await ChaosSink.start();
  const notes: string[] = [];
  const all = new Producer({ targets: () => [], prefix: 'unused' });
  const topic = `chaos.migrations-race.${randomBytes(3).toString('hex')}`;
  let slowest = 0;
  try {
    for (let round = 1; round <= rounds; round++) {
      const databaseUrl = await infra.freshDatabase('migrations-race');
      const route = chaosRoute(sink.url, o.short);
      const spawn = (name: string) =>
        spawnSluice({ name, databaseUrl, brokers: infra.brokers, topic, routes: [route] });
      const started = Date.now();
      const procs: SluiceProc[] = await Promise.all([spawn(`race${round}-a`), spawn(`race${round}-b`)]);
      try {
        await Promise.all(procs.map((p) => p.ready()));
        const readyMs = Date.now() - started;
        slowest = Math.max(slowest, readyMs);
        const twice = await migrationsAppliedTwice(databaseUrl);
        if (twice.length) throw new Error(`round ${round}: migrations wrong: ${twice.join(', ')}`);
        // Both accept: pushes alternate between them.
        const push = new Producer({ targets: () => procs.map((p) => p.url), prefix: `race${round}` });
        for (let i = 0; i < 20; i++) await push.pushOnce(5);
        all.accepted.push(...push.accepted);
        all.refused += push.refused;
        const caught = await waitCaughtUp(
          infra,
          databaseUrl,
          topic,
          sink,
          all.accepted,
          o.short ? 120_000 : 300_000,
        );
        notes.push(
          `round ${round}: both ready in ${(readyMs / 1000).toFixed(1)} s; 100 ids pushed` +
            (caught === null ? ', not all delivered' : ''),
        );
      } finally {
        await Promise.all(procs.map((p) => p.stop()));
      }
    }
    return await verify('migrations-race', infra, topic, sink, all, slowest, notes);
  } finally {
    sink.stop();
  }
}
