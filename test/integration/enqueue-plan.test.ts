import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { RouteSchema } from '../../src/config/route-schema';
import { createTestDb, USER_AND_SLUICE, type TestDb } from '../helpers/db';

/** The plans auto_explain reports for the statements run inside sluice_enqueue (estimates only). */
async function enqueuePlans(c: Client, ids: string[]): Promise<string[]> {
  const plans: string[] = [];
  const onNotice = (n: { message?: string }) => {
    if (n.message?.includes('Query Text: WITH input AS')) plans.push(n.message);
  };
  c.on('notice', onNotice);
  try {
    const { rows } = await c.query(
      `SELECT sluice_enqueue('account', 'update', 't', $1::text[], NULL, NULL, false) AS n`,
      [ids],
    );
    expect(rows[0].n).toBe(ids.length);
  } finally {
    c.off('notice', onNotice);
  }
  return plans;
}

/** Each Nested Loop node of a plan with its subtree (the lines indented under it). */
function nestedLoops(plan: string): string[] {
  const lines = plan.split('\n');
  const indent = (l: string) => l.search(/\S/);
  return lines.flatMap((line, k) => {
    if (!line.includes('Nested Loop')) return [];
    const end = lines.findIndex((l, j) => j > k && l.trim() !== '' && indent(l) <= indent(line));
    return [lines.slice(k, end === -1 ? undefined : end).join('\n')];
  });
}

/** The plan's shape: the estimates and node types, without the timing line auto_explain starts with. */
const shape = (plan: string) => plan.slice(plan.indexOf('Aggregate'));

describe('sluice_enqueue plan', () => {
  let db: TestDb;
  let c: Client;

  beforeAll(async () => {
    db = await createTestDb();
    await syncRoutes(db.pool, [
      RouteSchema.parse({
        name: 'r',
        match: { entity: 'account' },
        connector: 'webhook',
        options: { url: 'http://127.0.0.1:9/' },
      }),
    ]);
    c = new Client({ connectionString: db.url, options: USER_AND_SLUICE });
    await c.connect();
    await c.query(`LOAD 'auto_explain'`);
    await c.query(`SET auto_explain.log_min_duration = 0`);
    await c.query(`SET auto_explain.log_nested_statements = on`);
    await c.query(`SET client_min_messages = log`);
  });
  afterAll(async () => {
    await c?.end();
    await db?.drop();
  });

  it('is one generic plan, the same for 1 id and for 10,000 ids in one session', async () => {
    const small = await enqueuePlans(c, ['a']);
    for (let k = 0; k < 10; k++) await enqueuePlans(c, [`b${k}`]);
    const big = await enqueuePlans(
      c,
      Array.from({ length: 10_000 }, (_, k) => `c${k}`),
    );
    expect(small).toHaveLength(1);
    expect(big).toHaveLength(1);
    // Generic: the parameters stay parameters.
    expect(small[0]).toContain('(entity = $1)');
    expect(shape(big[0])).toBe(shape(small[0]));
  });

  it("joins the call's own rows by hash, never by a nested loop over them (linear in the ids)", async () => {
    const [plan] = await enqueuePlans(c, ['d1', 'd2']);
    expect(plan).toContain('Hash Anti Join');
    expect(plan).not.toMatch(/Nested Loop (Anti|Semi) Join/);
    // The only nested loops: the few routes per change, and one index probe per change.
    const loops = nestedLoops(plan);
    expect(loops.length).toBeGreaterThan(0);
    for (const loop of loops)
      expect(loop).toMatch(/Seq Scan on sluice_route|Index Scan using event_queue_pkey/);
  });

  it('coalesces a change into the pending row of its record with the generic plan', async () => {
    await enqueuePlans(c, ['e1']);
    await enqueuePlans(c, ['e1']);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, max(merged_count) AS merged FROM event_queue WHERE record_id = 'e1'`,
    );
    expect(rows[0]).toEqual({ n: 1, merged: 1 });
  });
});
