import { randomUUID } from 'node:crypto';
import type { QueryConfig } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../src/capture/group-commit';
import type { Queryable } from '../../src/db/pool';
import type { GroupItem, GroupOutcome } from '../../src/db/queue/enqueue-group';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { RouteSchema } from '../../src/config/route-schema';
import { count, createTestDb, type TestDb } from '../helpers/db';

describe('group commit of pushes and webhooks (real Postgres)', () => {
  let db: TestDb;
  /** Every statement the committer sent that writes a group, with its number of items. */
  let groups: number[];
  let spy: Queryable;
  /** While set, group statements wait for it before they run (a group held in flight). */
  let gate: Promise<void> | null = null;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDb();
    await syncRoutes(db.pool, [
      RouteSchema.parse({
        name: 'crm',
        match: { entity: '*' },
        connector: 'webhook',
        options: { url: 'http://127.0.0.1:9/x' },
      }),
    ]);
    spy = {
      // The group statement is a named one (a query config); the others are text and values.
      query: ((q: string | QueryConfig, params?: unknown[]) => {
        const [text, values] = typeof q === 'string' ? [q, params] : [q.text, q.values];
        if (text.includes('sluice_enqueue(')) {
          groups.push((values![0] as unknown[]).length);
          if (gate) return gate.then(() => db.pool.query(q as string, params));
        }
        return db.pool.query(q as string, params);
      }) as Queryable['query'],
    };
  });
  afterAll(async () => {
    await db?.drop();
  });

  const item = (over: Partial<GroupItem> = {}): GroupItem => ({
    entity: 'account',
    op: 'update',
    source: 'api',
    ids: [`r${seq++}`],
    sharedPayload: null,
    ticket: randomUUID(),
    ...over,
  });
  const settle = (ps: Promise<GroupOutcome>[]) => Promise.allSettled(ps);

  it('writes requests submitted together as one group, and answers each with its own ticket after the commit', async () => {
    groups = [];
    const gc = new GroupCommitter(spy);
    const items = Array.from({ length: 30 }, () => item());
    const out = await Promise.all(items.map((i) => gc.submit(i)));
    expect(groups).toEqual([30]);
    expect(out.map((o) => o.ticket)).toEqual(items.map((i) => i.ticket));
    expect(out.every((o) => o.accepted === 1 && !o.duplicate)).toBe(true);
    const tickets = await db.pool.query<{ ticket: string }>(
      'SELECT ticket FROM event_log WHERE ticket = ANY($1::uuid[])',
      [items.map((i) => i.ticket)],
    );
    expect(tickets.rows).toHaveLength(30);
  });

  it('requests arriving while a group is in flight form the next group; a lone request goes alone at once', async () => {
    groups = [];
    const gc = new GroupCommitter(spy);
    const first = gc.submit(item());
    await new Promise((r) => setImmediate(r)); // the first group is on its way
    const later = Array.from({ length: 5 }, () => gc.submit(item()));
    await Promise.all([first, ...later]);
    expect(groups).toEqual([1, 5]);
  });

  it('with inFlight 2 a second group is written while the first is in flight, cut before a request naming a record or delivery id of the first; that one waits for its commit', async () => {
    groups = [];
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    const gc = new GroupCommitter(spy, { inFlight: 2 });
    try {
      const hook = (id: string, delivery: string) =>
        item({ ids: [id], source: 'webhook:pipe', delivery: { source: 'pipe', id: delivery } });
      const a = hook('pipe-x', 'pipe-d1');
      const pa = gc.submit(a);
      await new Promise((r) => setImmediate(r)); // a's group is in flight, held by the gate
      const b = item({ ids: ['pipe-y'] });
      const c = item({ ids: ['pipe-x'], sharedPayload: '{"v":2}' }); // a's record
      const d = hook('pipe-z', 'pipe-d1'); // a's delivery id
      const e = item({ ids: ['pipe-w'] });
      const [pb, pc, pd, pe] = [b, c, d, e].map((i) => gc.submit(i));
      await new Promise((r) => setImmediate(r));
      // b went as a second group; c (and everything after it, in arrival order) waits for a's commit.
      expect(groups).toEqual([1, 1]);
      release();
      const out = await Promise.all([pa, pb, pc, pd, pe]);
      expect(groups).toEqual([1, 1, 3]);
      expect(out[3]).toEqual({ ticket: a.ticket, accepted: 1, duplicate: true });
      const log = await db.pool.query<{ ticket: string }>(
        `SELECT ticket FROM event_log WHERE record_id = 'pipe-x' ORDER BY id`,
      );
      expect(log.rows.map((r) => r.ticket)).toEqual([a.ticket, c.ticket]);
      expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE record_id = 'pipe-z'`)).toBe(0);
    } finally {
      gate = null;
      release();
    }
  });

  it('with inFlight 1 the next group waits for the commit of the one in flight', async () => {
    groups = [];
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    const gc = new GroupCommitter(spy, { inFlight: 1 });
    try {
      const first = gc.submit(item());
      await new Promise((r) => setImmediate(r));
      const later = Array.from({ length: 3 }, () => gc.submit(item()));
      await new Promise((r) => setImmediate(r));
      expect(groups).toEqual([1]);
      release();
      await Promise.all([first, ...later]);
      expect(groups).toEqual([1, 3]);
    } finally {
      gate = null;
      release();
    }
  });

  it('caps a group at maxRequests and at maxIds (a bigger request goes alone)', async () => {
    groups = [];
    const gc = new GroupCommitter(spy, { maxRequests: 4, maxIds: 10 });
    await Promise.all([
      ...Array.from({ length: 10 }, () => gc.submit(item())),
      gc.submit(item({ ids: Array.from({ length: 12 }, (_, k) => `big-${seq}-${k}`) })),
      gc.submit(item()),
    ]);
    expect(groups).toEqual([4, 4, 2, 1, 1]);
  });

  it('a value Postgres refuses fails only its own request: the other 18 of the group commit', async () => {
    groups = [];
    const gc = new GroupCommitter(spy);
    const items = Array.from({ length: 20 }, () => item({ sharedPayload: '{"ok":true}' }));
    items[6] = item({ sharedPayload: '{"note":"a\\u0000b"}' }); // jsonb refuses NUL (22P05)
    items[13] = item({ sharedPayload: '{"note":"lone \\ud800"}' }); // and a lone surrogate (22P02)
    const out = await settle(items.map((i) => gc.submit(i)));
    const failed = out.flatMap((o, k) =>
      o.status === 'rejected' ? [[k, (o.reason as { code: string }).code]] : [],
    );
    expect(failed).toEqual([
      [6, '22P05'],
      [13, '22P02'],
    ]);
    const good = items.filter((_, k) => k !== 6 && k !== 13).map((i) => i.ticket);
    expect(
      await count(db.pool, 'SELECT count(*) AS n FROM event_log WHERE ticket = ANY($1::uuid[])', [good]),
    ).toBe(18);
    expect(
      await count(db.pool, 'SELECT count(*) AS n FROM event_log WHERE ticket = ANY($1::uuid[])', [
        [items[6].ticket, items[13].ticket],
      ]),
    ).toBe(0);
  });

  it('two changes to one record in one group keep their arrival order (the later one wins the queued row)', async () => {
    groups = [];
    const gc = new GroupCommitter(spy);
    const a = item({ ids: ['same'], op: 'insert', sharedPayload: '{"v":1}' });
    const b = item({ ids: ['same'], op: 'update', sharedPayload: '{"v":2}' });
    const c = item({ ids: ['same'], op: 'update', sharedPayload: '{"v":3}' });
    await Promise.all([a, b, c].map((i) => gc.submit(i)));
    expect(groups).toEqual([3]);
    const log = await db.pool.query<{ ticket: string; v: number }>(
      `SELECT ticket, (payload->>'v')::int AS v FROM event_log WHERE record_id = 'same' ORDER BY id`,
    );
    expect(log.rows).toEqual([
      { ticket: a.ticket, v: 1 },
      { ticket: b.ticket, v: 2 },
      { ticket: c.ticket, v: 3 },
    ]);
    const queued = await db.pool.query(
      `SELECT op, ticket, (payload->>'v')::int AS v, merged_count FROM event_queue WHERE record_id = 'same'`,
    );
    expect(queued.rows).toEqual([{ op: 'update', ticket: c.ticket, v: 3, merged_count: 2 }]);
  });

  it("webhook deliveryId dedupe inside a group: a repeat gets the first one's ticket and adds nothing, as does a repeat of an earlier group", async () => {
    groups = [];
    const gc = new GroupCommitter(spy);
    const delivery = (id: string) => ({ source: 'shop', id });
    const earlier = item({ source: 'webhook:shop', delivery: delivery('d-early'), ids: ['w1', 'w2'] });
    await gc.submit(earlier);
    const first = item({ source: 'webhook:shop', delivery: delivery('d-1'), ids: ['w3'] });
    const repeat = item({ source: 'webhook:shop', delivery: delivery('d-1'), ids: ['w3', 'w4'] });
    const again = item({ source: 'webhook:shop', delivery: delivery('d-early'), ids: ['w9'] });
    const other = item({ source: 'webhook:shop', delivery: { source: 'other', id: 'd-1' }, ids: ['w5'] });
    const out = await Promise.all([first, repeat, again, other].map((i) => gc.submit(i)));
    expect(groups).toEqual([1, 4]);
    expect(out).toEqual([
      { ticket: first.ticket, accepted: 1, duplicate: false },
      { ticket: first.ticket, accepted: 1, duplicate: true },
      { ticket: earlier.ticket, accepted: 2, duplicate: true },
      { ticket: other.ticket, accepted: 1, duplicate: false },
    ]);
    const ids = await db.pool.query<{ record_id: string }>(
      `SELECT record_id FROM event_log WHERE source = 'webhook:shop' ORDER BY record_id`,
    );
    expect(ids.rows.map((r) => r.record_id)).toEqual(['w1', 'w2', 'w3', 'w5']);
  });
});
