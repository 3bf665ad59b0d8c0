import type { Pool, PoolClient } from 'pg';

/** `n` rows of route crm in `state` (records r-1..r-n), for the plan tests' queues. */
export function insertQueueRows(pool: Pool, n: number, state: string) {
  return pool.query(
    `INSERT INTO event_queue (event_id, route, entity, record_id, op, source, state)
     SELECT gen_random_uuid(), 'crm', 'account', 'r-' || g, 'update', 'api', $2 FROM generate_series(1, $1) g`,
    [n, state],
  );
}

/** A plan node as auto_explain's JSON gives it (what the plan tests read). */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** What the plans read from event_queue (scan rows and filtered rows, times loops) and join comparisons. */
export function queueWork(plans: PlanNode[]): { queueRows: number; joinFiltered: number; seqScans: number } {
  const out = { queueRows: 0, joinFiltered: 0, seqScans: 0 };
  const walk = (n: PlanNode) => {
    const loops = n['Actual Loops'] ?? 1;
    if (n['Relation Name'] === 'event_queue' && /Scan/.test(n['Node Type'])) {
      if (n['Node Type'] === 'Seq Scan') out.seqScans++;
      out.queueRows +=
        ((n['Actual Rows'] ?? 0) +
          (n['Rows Removed by Filter'] ?? 0) +
          (n['Rows Removed by Index Recheck'] ?? 0)) *
        loops;
    }
    out.joinFiltered += (n['Rows Removed by Join Filter'] ?? 0) * loops;
    for (const c of n.Plans ?? []) walk(c);
  };
  for (const p of plans) walk(p);
  return out;
}

/** A drain session whose every statement's plan, nested ones included, comes back as a notice. */
export async function explainedSession(pool: Pool): Promise<{ client: PoolClient; plans: PlanNode[] }> {
  const client = await pool.connect();
  const plans: PlanNode[] = [];
  // Callers release it with release(true) (its settings must not reach the next test); the pool does not wait
  // for that end, and a database dropped meanwhile (afterAll, WITH (FORCE)) would make the closing client emit
  // an error nobody listens to. Query errors still reject their query.
  client.on('error', () => undefined);
  client.on('notice', (m) => {
    const at = m.message?.indexOf('plan:\n') ?? -1;
    if (at >= 0) plans.push((JSON.parse(m.message!.slice(at + 6)) as { Plan: PlanNode }).Plan);
  });
  for (const sql of [
    `LOAD 'auto_explain'`,
    'SET auto_explain.log_min_duration = 0',
    'SET auto_explain.log_analyze = on',
    'SET auto_explain.log_timing = off',
    'SET auto_explain.log_nested_statements = on',
    'SET auto_explain.log_format = json',
    'SET auto_explain.log_level = notice',
    'SET client_min_messages = notice',
  ])
    await client.query(sql);
  return { client, plans };
}
