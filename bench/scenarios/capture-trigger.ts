import type { Pool } from 'pg';
import type { PayloadMode } from '../../src/capture/trigger-sql';
import { addCapture } from '../../src/capture/triggers';
import { fanOutAll } from '../../src/db/capture/fan-out';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import type { Scenario, ScenarioResult } from '../lib/types';
import { webhookRoute } from '../lib/sluice-drain';

const ROUNDS = 3;

interface Shape {
  label: string;
  columns: string;
  indexes: (t: string) => string;
  fill: string;
  update: (round: number) => string;
}

/** An accounts table as applications have them: a key, a unique email, an indexed updated_at. */
const TYPICAL: Shape = {
  label: 'typical table (pk, unique email, indexed updated_at)',
  columns:
    'id bigint PRIMARY KEY, email text NOT NULL, name text, plan text, score int, updated_at timestamptz NOT NULL DEFAULT now()',
  indexes: (t) => `CREATE UNIQUE INDEX ON ${t} (email); CREATE INDEX ON ${t} (updated_at);`,
  fill: `SELECT g, 'user' || g || '@example.com', 'name ' || g, 'free', 0, now() FROM generate_series(1, $1) g`,
  update: (r) => `SET plan = 'plan-${r}', score = score + 1, updated_at = now()`,
};

/** The cheapest case for the plain table: no secondary index, a HOT update of one int column. */
const BARE: Shape = {
  label: 'bare table (pk only, HOT update)',
  columns: 'id bigint PRIMARY KEY, n int',
  indexes: () => '',
  fill: `SELECT g, 0 FROM generate_series(1, $1) g`,
  update: () => `SET n = n + 1`,
};

async function timeUpdate(pool: Pool, table: string, sql: string): Promise<number> {
  const started = process.hrtime.bigint();
  await pool.query(`UPDATE ${table} ${sql}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function overhead(pool: Pool, shape: Shape, rows: number, key: string, payload: PayloadMode) {
  const plain = `${key}_plain`;
  const captured = `${key}_captured`;
  for (const t of [plain, captured]) {
    await pool.query(`CREATE TABLE ${t} (${shape.columns}) WITH (fillfactor = 80); ${shape.indexes(t)}`);
    await pool.query(`INSERT INTO ${t} ${shape.fill}`, [rows]);
  }
  await addCapture(pool, { table: captured, entity: 'account', payload });
  const plainMs: number[] = [];
  const capturedMs: number[] = [];
  const fanOutMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Same starting point for both: queue empty, tables vacuumed.
    await pool.query('TRUNCATE event_log, event_queue');
    await pool.query(`VACUUM ANALYZE ${plain}, ${captured}, event_log, event_queue, sluice_capture_batch`);
    plainMs.push(await timeUpdate(pool, plain, shape.update(round)));
    capturedMs.push(await timeUpdate(pool, captured, shape.update(round)));
    // Off the writer's path: what the service does right after the commit, timed on its own.
    const started = process.hrtime.bigint();
    const n = await fanOutAll(pool);
    fanOutMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    const events = Number((await pool.query(`SELECT count(*) AS n FROM event_queue`)).rows[0].n);
    if (n !== rows || events !== rows)
      throw new Error(`expected ${rows} events, fanned out ${n}, queued ${events}`);
  }
  return {
    plainMs: median(plainMs),
    capturedMs: median(capturedMs),
    fanOutMs: median(fanOutMs),
    all: { plainMs, capturedMs, fanOutMs },
  };
}

/**
 * The OLTP shape: one-row UPDATEs, each its own transaction, one after another on one connection (as an
 * application writes), on the typical tables left by overhead(); then the fan-out of their journal rows.
 */
async function oneRowStatements(pool: Pool, statements: number) {
  const client = await pool.connect();
  try {
    const time = async (table: string) => {
      const started = process.hrtime.bigint();
      for (let i = 1; i <= statements; i++)
        await client.query(`UPDATE ${table} SET score = score + 1, updated_at = now() WHERE id = $1`, [i]);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    await pool.query('TRUNCATE event_log, event_queue');
    const plainMs: number[] = [];
    const capturedMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      plainMs.push(await time('typical_plain'));
      capturedMs.push(await time('typical_captured'));
    }
    const started = process.hrtime.bigint();
    const n = await fanOutAll(pool);
    const fanOutMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (n !== statements * ROUNDS) throw new Error(`expected ${statements * ROUNDS} events, fanned out ${n}`);
    return { plainMs: median(plainMs), capturedMs: median(capturedMs), fanOutMs, changes: n };
  } finally {
    client.release();
  }
}

/**
 * Trigger overhead: the same N-row UPDATE on a captured table (statement-level triggers journal the
 * statement's ids in one row) and on an uncaptured twin, median of 3; and the fan-out of the journal
 * into events that the service runs right after the commit, timed on its own.
 */
export const captureTrigger: Scenario = {
  id: 'capture-trigger',
  title: 'Capture: trigger overhead of a 50,000-row UPDATE',
  run: async (ctx, { quick }) => {
    const rows = quick ? 20_000 : 50_000;
    const db = await ctx.freshDatabase('bench_trigger');
    try {
      await syncRoutes(db.pool, [webhookRoute(ctx.sink.url)]);
      const results: ScenarioResult[] = [];
      for (const [key, shape, payload] of [
        ['typical', TYPICAL, 'latest'],
        ['bare', BARE, 'latest'],
        ['typical-exact', TYPICAL, 'exact'],
      ] as const) {
        const r = await overhead(db.pool, shape, rows, key.replace('-', '_'), payload);
        const ratio = r.capturedMs / r.plainMs;
        ctx.log(
          `${key}: plain ${r.plainMs.toFixed(0)} ms, captured ${r.capturedMs.toFixed(0)} ms (x${ratio.toFixed(2)}), ` +
            `fan-out after commit ${r.fanOutMs.toFixed(0)} ms`,
        );
        results.push({
          id: `trigger-overhead-${key}`,
          name: `trigger overhead, ${rows.toLocaleString('en-US')}-row UPDATE, ${shape.label}${payload === 'exact' ? ', --payload exact' : ''}`,
          unit: 'x uncaptured',
          value: Number(ratio.toFixed(2)),
          better: 'lower',
          detail: { rows, payload, ...r, goal: '<= 1.5x' },
        });
        if (key === 'typical')
          results.push({
            id: 'capture-fan-out',
            name: `capture fan-out after commit (journal -> event_log + event_queue), ${shape.label}`,
            unit: 'changes/s',
            value: Math.round(rows / (r.fanOutMs / 1000)),
            better: 'higher',
            detail: { rows, fanOutMs: r.fanOutMs },
          });
      }
      const statements = quick ? 1000 : 3000;
      const o = await oneRowStatements(db.pool, statements);
      ctx.log(
        `one-row statements: plain ${o.plainMs.toFixed(0)} ms, captured ${o.capturedMs.toFixed(0)} ms, ` +
          `fan-out of ${o.changes} journal rows ${o.fanOutMs.toFixed(0)} ms`,
      );
      results.push(
        {
          id: 'trigger-overhead-one-row',
          name: `trigger overhead, ${statements.toLocaleString('en-US')} one-row UPDATE transactions in a row, typical table`,
          unit: 'x uncaptured',
          value: Number((o.capturedMs / o.plainMs).toFixed(2)),
          better: 'lower',
          detail: { statements, ...o },
        },
        {
          id: 'capture-fan-out-one-row',
          name: 'capture fan-out after commit, one-row statements (one journal row each)',
          unit: 'changes/s',
          value: Math.round(o.changes / (o.fanOutMs / 1000)),
          better: 'higher',
          detail: o,
        },
      );
      return results;
    } finally {
      await db.drop();
    }
  },
};
