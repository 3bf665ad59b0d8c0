import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCapture } from '../../src/capture/triggers';
import { RouteSchema } from '../../src/config/route-schema';
import { WhereSchema, type Where } from '../../src/config/where-schema';
import { fanOutAll } from '../../src/db/capture/fan-out';
import { enqueue } from '../../src/db/queue/enqueue';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { compileWhere } from '../../src/db/queue/where-jsonpath';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { text } from '../helpers/hostile';

const route = (name: string, entity: string, where?: Where) =>
  RouteSchema.parse({ name, match: { entity, where }, connector: 'webhook', options: {} });

describe('route filters (match.where) in sluice_enqueue, real Postgres', () => {
  let db: TestDb;
  const queued = async (routeName: string) =>
    (
      await db.pool.query<{ record_id: string }>(
        `SELECT record_id FROM event_queue WHERE route = $1 ORDER BY record_id`,
        [routeName],
      )
    ).rows.map((r) => r.record_id);

  beforeAll(async () => {
    db = await createTestDb();
    await syncRoutes(db.pool, [
      route('all', '*'),
      route('gold', 'account', { field: 'plan', eq: 'gold' }),
      route('big-eu', 'account', {
        all: [
          { field: 'address.country', in: ['DE', 'FR'] },
          {
            any: [
              { field: 'revenue', gt: 1000 },
              { field: ['tags'], eq: 'vip' },
            ],
          },
          { not: { field: 'email', prefix: 'test+' } },
        ],
      }),
      route('no-deleted', 'account', { field: 'deleted_at', exists: false }),
      route('not-free', 'account', { field: 'plan', ne: 'free' }),
    ]);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('stores each filtered route as a jsonpath and leaves unfiltered routes without one', async () => {
    const { rows } = await db.pool.query(
      `SELECT name, filter::text AS filter FROM sluice_route ORDER BY name`,
    );
    expect(rows.find((r) => r.name === 'all').filter).toBeNull();
    expect(rows.find((r) => r.name === 'gold').filter).toBe('exists ($."plan"?(@ == "gold"))');
  });

  it('a push queues each change only for the routes it meets; event_log keeps every change', async () => {
    const payloads = {
      a1: { plan: 'gold', address: { country: 'DE' }, revenue: 5000, email: 'x@y' },
      a2: { plan: 'free', address: { country: 'FR' }, revenue: 10, tags: ['new', 'vip'], deleted_at: null },
      a3: { plan: 'gold', address: { country: 'US' }, revenue: 5000 },
      a4: { plan: 'silver', address: { country: 'DE' }, revenue: 2000, email: 'test+1@y' },
      a5: { plan: 7, revenue: '5000' },
    };
    await enqueue(db.pool, {
      entity: 'account',
      op: 'update',
      source: 'test',
      ids: Object.keys(payloads),
      payloads: Object.values(payloads),
    });
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE entity = 'account'`)).toBe(5);
    expect(await queued('all')).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(await queued('gold')).toEqual(['a1', 'a3']);
    expect(await queued('big-eu')).toEqual(['a1', 'a2']);
    expect(await queued('no-deleted')).toEqual(['a1', 'a3', 'a4', 'a5']);
    // ne: absent, of another type or different all count as "not equal".
    expect(await queued('not-free')).toEqual(['a1', 'a3', 'a4', 'a5']);
  });

  it('a shared payload is filtered like per-id ones, and a change without a payload meets no filter', async () => {
    await enqueue(db.pool, {
      entity: 'account',
      op: 'upsert',
      source: 'test',
      ids: ['s1', 's2'],
      sharedPayload: JSON.stringify({ plan: 'gold' }),
    });
    await enqueue(db.pool, { entity: 'account', op: 'upsert', source: 'test', ids: ['n1'] });
    expect(await queued('gold')).toEqual(['a1', 'a3', 's1', 's2']);
    expect(await queued('all')).toContain('n1');
    expect(await queued('no-deleted')).not.toContain('n1');
  });

  it('a captured table trigger queues only the rows its filtered route meets', async () => {
    await db.pool.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, plan text, revenue numeric)`);
    await addCapture(db.pool, { table: 'accounts' });
    await syncRoutes(db.pool, [route('tbl-gold', 'accounts', { field: 'plan', eq: 'gold' })]);
    await db.pool.query(`INSERT INTO accounts VALUES (1, 'gold', 1), (2, 'free', 2), (3, 'gold', 3)`);
    // Fanned out before the updates: payload "latest" reads the row as it is at fan-out.
    await fanOutAll(db.pool);
    await db.pool.query(`UPDATE accounts SET plan = 'gold' WHERE id = 2`);
    await db.pool.query(`UPDATE accounts SET revenue = 9 WHERE id = 1`);
    await fanOutAll(db.pool);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE entity = 'accounts'`)).toBe(5);
    const { rows } = await db.pool.query(
      `SELECT record_id, op, merged_count FROM event_queue WHERE route = 'tbl-gold' ORDER BY record_id`,
    );
    // 1: insert + update coalesced; 2: only its update (gold), not its insert (free); 3: its insert.
    expect(rows).toEqual([
      { record_id: '1', op: 'update', merged_count: 1 },
      { record_id: '2', op: 'update', merged_count: 0 },
      { record_id: '3', op: 'insert', merged_count: 0 },
    ]);
  });

  it('hostile keys and values are matched literally by Postgres and never change the predicate', async () => {
    const valid = (s: string) => WhereSchema.safeParse({ field: [s], eq: s }).success;
    await fc.assert(
      fc.asyncProperty(text.filter(valid), text.filter(valid), async (key, value) => {
        const path = compileWhere({ field: [key], eq: value });
        const { rows } = await db.pool.query(
          `SELECT $1::jsonb @@ $4::jsonpath AS hit, $2::jsonb @@ $4::jsonpath AS other,
                  $3::jsonb @@ $4::jsonpath AS empty`,
          [{ [key]: value }, { [key]: `${value}.` }, {}, path],
        );
        expect(rows[0]).toEqual({ hit: true, other: false, empty: false });
      }),
      { numRuns: 150 },
    );
  });

  it('an injection attempt in a key or value queues nothing that does not literally match', async () => {
    const attacks = [
      '") || true || ("',
      '" || @ != "',
      `\\" || true || \\"`,
      '$',
      '@ == @',
      "'); DROP TABLE x; --",
    ];
    await syncRoutes(
      db.pool,
      attacks.flatMap((a, i) => [
        route(`val-${i}`, 'hostile', { field: 'k', eq: a }),
        route(`key-${i}`, 'hostile', { field: [a], exists: true }),
      ]),
    );
    await enqueue(db.pool, {
      entity: 'hostile',
      op: 'insert',
      source: 'test',
      ids: ['plain', 'literal'],
      payloads: [
        { k: 'other', x: 1 },
        { k: attacks[0], [attacks[0]]: 1 },
      ],
    });
    const { rows } = await db.pool.query(
      `SELECT route, record_id FROM event_queue WHERE entity = 'hostile' ORDER BY route`,
    );
    expect(rows).toEqual([
      { route: 'key-0', record_id: 'literal' },
      { route: 'val-0', record_id: 'literal' },
    ]);
  });
});
