import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { jsonValue, nasty, text } from '../helpers/hostile';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const RUNS = Number(process.env.HOSTILE_PLANNER_RUNS ?? 300);
const SEED = Number(process.env.HOSTILE_SEED ?? 20261122);
const PROTECTED = [
  'pg_catalog.pg_authid',
  'information_schema.sql_features',
  'event_log',
  'sluice_process',
  'sluice.x',
];
const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);

/** The hostile-input suite, extended to the planner's params and to the URL a user's route builds. */
describe('hostile input: planner params and configured routes', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    await db.pool.query(
      `CREATE TABLE things (id int PRIMARY KEY, note text); INSERT INTO things VALUES (1, 'ok');`,
    );
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      env: { SLUICE_INGEST_RATE_LIMIT: '0', LOG_LEVEL: 'fatal', SLUICE_PLANNER_TICK_MS: '200' },
      routes: [
        {
          name: 'crm',
          match: { entity: '*' },
          connector: 'rest',
          options: {
            url: `${sink.url}/r/{entity}/{recordId}?p={payload.x}`,
            auth: { type: 'bearer', token: 't-0123456789' },
          },
          retry: { maxAttempts: 1, baseMs: 10, maxMs: 20 },
        },
      ],
      backfill: { tables: ['public.things'] },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it(`${RUNS} hostile process definitions: no 5xx, the error envelope, no backfill of a protected or unlisted table`, async () => {
    const params = fc.oneof(
      fc.record({
        table: fc.oneof(fc.constantFrom(...PROTECTED, 'things', 'public.things', 'crm.other'), text),
        route: fc.oneof(fc.constant('crm'), text),
        key: fc.option(text, { nil: undefined }),
        page: fc.option(fc.oneof(fc.integer(), jsonValue), { nil: undefined }),
      }),
      fc.record({
        entity: fc.oneof(fc.constant('account'), text),
        ids: fc.oneof(
          fc.array(text, { minLength: 1, maxLength: 3 }),
          fc.constant(Array.from({ length: 1000 }, (_, i) => `id${i}`)),
          jsonValue,
        ),
        payload: fc.oneof(jsonValue, fc.constant(deep(70)), fc.constant({ blob: 'x'.repeat(70_000) })),
        route: fc.option(fc.oneof(fc.constant('crm'), text), { nil: undefined }),
      }),
      jsonValue,
    );
    const statuses = new Map<number, number>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('backfill', 'sync', 'nope'),
        params,
        nasty,
        async (handler, p, name) => {
          const res = await api(svc, 'POST', '/v1/processes', {
            name: `p${n++}-${name.replace(/[^A-Za-z0-9]/g, '').slice(0, 20)}`,
            handler,
            kind: 'single',
            params: p,
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) throw new Error(`${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
          if (
            res.status >= 400 &&
            (typeof res.body?.error?.code !== 'string' || typeof res.body?.error?.message !== 'string')
          )
            throw new Error(`${res.status} without the error envelope`);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(
      `hostile processes: ${RUNS} definitions; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    const backfills = await db.pool.query<{ table: string }>(
      `SELECT params->>'table' AS table FROM sluice_process WHERE handler = 'backfill'`,
    );
    for (const b of backfills.rows) expect(['things', 'public.things']).toContain(b.table);
    // Whatever ran read only `things`: no change came from any other table.
    await waitFor(
      async () =>
        (await count(
          db.pool,
          `SELECT count(*) AS n FROM sluice_run WHERE status IN ('queued', 'running')`,
        )) === 0,
      'every run to end',
    );
    const sources = await db.pool.query<{ source: string }>(
      `SELECT DISTINCT source FROM event_log WHERE source LIKE 'backfill:%'`,
    );
    for (const s of sources.rows) expect(s.source).toBe('backfill:public.things');
  });

  it('a sync process sends its one shared payload with every id, with and without a route', async () => {
    const payload = { x: 'shared', blob: 'y'.repeat(10_000) };
    for (const route of ['crm', undefined]) {
      const name = `sync-${route ?? 'all'}`;
      const res = await api(svc, 'POST', '/v1/processes', {
        name,
        handler: 'sync',
        kind: 'single',
        params: { entity: 'synced', ids: ['s1', 's2', 's3'], payload, ...(route && { route }) },
      });
      expect(res.status).toBe(201);
      await waitFor(
        async () =>
          (
            await db.pool.query(`SELECT 1 FROM sluice_run WHERE process = $1 AND status = 'succeeded'`, [
              name,
            ])
          ).rowCount,
        `${name} to succeed`,
      );
      expect(
        await count(
          db.pool,
          `SELECT count(*) AS n FROM event_log WHERE source = $1 AND payload = $2::jsonb`,
          [`sync:${name}`, JSON.stringify(payload)],
        ),
      ).toBe(3);
    }
  });

  it(`${RUNS} hostile record ids through a rest route: every callout stays one segment under /r/<entity>/`, async () => {
    const ids = fc
      .sample(text, { numRuns: RUNS, seed: SEED })
      .filter((id) => id.length > 0 && id.length <= 256 && !id.includes('\u0000'));
    const unique = [...new Set(ids)];
    const sent = new Set<string>();
    for (let i = 0; i < unique.length; i += 50) {
      const batch = unique.slice(i, i + 50);
      const res = await api(svc, 'POST', '/v1/events', {
        entity: 'thing',
        op: 'update',
        ids: batch,
        payload: { x: '../../admin?' },
      });
      if (res.status === 202) batch.forEach((id) => sent.add(id));
      else expect(res.status, JSON.stringify(res.body)).toBe(400);
    }
    expect(sent.size).toBeGreaterThan(unique.length / 2);
    await waitFor(
      async () =>
        (await count(
          db.pool,
          `SELECT count(*) AS n FROM event_queue WHERE entity = 'thing' AND state NOT IN ('done', 'dead')`,
        )) === 0,
      'every hostile id delivered or dead-lettered',
    );
    const paths = sink.requests.filter((r) => r.path.startsWith('/r/thing/') || !r.path.startsWith('/r/'));
    const delivered = new Set<string>();
    for (const r of paths) {
      const m = /^\/r\/thing\/([^/?#]*)\?p=\.\.%2F\.\.%2Fadmin%3F$/.exec(r.path);
      expect(m, r.path).not.toBeNull();
      delivered.add(decodeURIComponent(m![1]));
    }
    const dead = await db.pool.query<{ record_id: string }>(
      `SELECT record_id FROM event_queue WHERE entity = 'thing' AND state = 'dead'`,
    );
    for (const d of dead.rows) expect(['.', '..']).toContain(d.record_id);
    expect(delivered.size + dead.rows.length).toBe(sent.size);
  });
});
