import type { Pool } from 'pg';
import { addCapture } from '../../src/capture/triggers';
import type { Where } from '../../src/config/where-schema';
import { fanOutAll } from '../../src/db/capture/fan-out';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { timedBatches } from '../lib/parallel';
import { webhookRoute } from '../lib/sluice-drain';
import type { Scenario, ScenarioResult } from '../lib/types';
import { BATCH, WRITERS } from './limit-postgres';

const ROUNDS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Three conditions every benchmark row meets: the same rows are queued with and without the filter. */
const PUSH_WHERE: Where = {
  all: [
    { field: 'plan', in: ['gold', 'platinum'] },
    { field: 'address.country', eq: 'DE' },
    { field: 'revenue', gt: 1000 },
  ],
};
const PAYLOAD = JSON.stringify({ plan: 'gold', address: { country: 'DE' }, revenue: 5000, name: 'Ada' });

async function useRoute(pool: Pool, url: string, entity: string, where?: Where) {
  await syncRoutes(pool, [webhookRoute(url, { match: { entity, where } })]);
}

/** Push-shaped ingest: 1,000 ids per sluice_enqueue call with one shared payload, 4 connections. */
async function pushRate(pool: Pool, rows: number): Promise<number> {
  await pool.query('TRUNCATE event_log, event_queue');
  const seconds = await timedBatches(Math.ceil(rows / BATCH), WRITERS, (b) =>
    pool.query(
      `SELECT sluice_enqueue('account', 'update', 'bench', $1::text[], NULL, NULL, false, NULL, $2::jsonb)`,
      [Array.from({ length: Math.min(BATCH, rows - b * BATCH) }, (_, k) => `acc-${b * BATCH + k}`), PAYLOAD],
    ),
  );
  const queued = Number((await pool.query(`SELECT count(*) AS n FROM event_queue`)).rows[0].n);
  if (queued !== rows) throw new Error(`expected ${rows} queued rows, got ${queued}`);
  return rows / seconds;
}

/** Trigger capture: one UPDATE of every row of a captured table, then the fan-out (row images read then). */
async function fanOutRate(pool: Pool, rows: number, round: number): Promise<number> {
  await pool.query('TRUNCATE event_log, event_queue');
  await pool.query(`UPDATE filter_accounts SET n = n + 1, plan = 'gold-${round}'`);
  const started = process.hrtime.bigint();
  const n = await fanOutAll(pool);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const queued = Number((await pool.query(`SELECT count(*) AS n FROM event_queue`)).rows[0].n);
  if (n !== rows || queued !== rows)
    throw new Error(`expected ${rows} events, fanned out ${n}, queued ${queued}`);
  return rows / seconds;
}

/**
 * What a route's `match.where` costs the enqueue path: the same rows, all meeting the filter (so the same
 * queue rows are written), with a plain route and with a three-condition filter, alternating, median of 3.
 */
export const routeFilter: Scenario = {
  id: 'route-filter',
  title: 'Enqueue with and without a route filter (match.where): push-shaped and trigger fan-out',
  run: async (ctx, { quick }) => {
    const rows = quick ? 20_000 : 100_000;
    const tableRows = quick ? 5_000 : 20_000;
    const db = await ctx.freshDatabase('bench_filter');
    const url = `${ctx.sink.url}/hook`;
    try {
      await db.pool.query(`CREATE TABLE filter_accounts (id bigint PRIMARY KEY, n int, plan text)`);
      await db.pool.query(`INSERT INTO filter_accounts SELECT g, 0, 'gold' FROM generate_series(1, $1) g`, [
        tableRows,
      ]);
      await addCapture(db.pool, { table: 'filter_accounts', entity: 'filtered' });
      const tableWhere: Where = {
        all: [
          { field: 'plan', prefix: 'gold' },
          { field: 'n', gt: 0 },
        ],
      };
      const push = { plain: [] as number[], where: [] as number[] };
      const fan = { plain: [] as number[], where: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const variant of ['plain', 'where'] as const) {
          await useRoute(db.pool, url, 'account', variant === 'where' ? PUSH_WHERE : undefined);
          push[variant].push(await pushRate(db.pool, rows));
          await useRoute(db.pool, url, 'filtered', variant === 'where' ? tableWhere : undefined);
          fan[variant].push(await fanOutRate(db.pool, tableRows, round * 2 + (variant === 'where' ? 1 : 0)));
        }
        ctx.log(
          `round ${round + 1}: push ${push.plain.at(-1)!.toFixed(0)} / ${push.where.at(-1)!.toFixed(0)}, fan-out ${fan.plain.at(-1)!.toFixed(0)} / ${fan.where.at(-1)!.toFixed(0)} events/s`,
        );
      }
      const result = (id: string, name: string, xs: number[], compareTo?: string): ScenarioResult => ({
        id,
        name,
        unit: 'events/s',
        value: Math.round(median(xs)),
        ...(compareTo && { compareTo: [compareTo] }),
        detail: { runs: xs.map(Math.round) },
      });
      return [
        result(
          'push-bulk-no-where',
          `enqueue, shared payload, 1,000 ids/call, ${WRITERS} connections, plain route`,
          push.plain,
        ),
        result(
          'push-bulk-where',
          'the same with a three-condition match.where (every row meets it)',
          push.where,
          'push-bulk-no-where',
        ),
        result(
          'capture-fan-out-no-where',
          `trigger fan-out of a ${tableRows.toLocaleString('en-US')}-row UPDATE, plain route`,
          fan.plain,
        ),
        result(
          'capture-fan-out-where',
          'the same with a two-condition match.where (every row meets it)',
          fan.where,
          'capture-fan-out-no-where',
        ),
      ];
    } finally {
      await db.drop();
    }
  },
};
