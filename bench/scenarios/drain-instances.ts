import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { cpuMeter, type CpuSpent } from '../lib/cpu';
import { warmHttpCall } from '../lib/peer-call';
import { enqueueBacklog, untilDrained } from '../lib/sluice-drain';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { sinkRoute } from '../lib/sluice-drain';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

interface Instance {
  child: ChildProcess;
  holder: string;
  app: string;
  lines: string[];
}

function startInstance(ctx: BenchContext, dbUrl: string, holder: string): Promise<Instance> {
  const app = `bench-lane-${holder}`;
  const child = fork(join(__dirname, '..', 'lib', 'drain-instance.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      BENCH_DB_URL: dbUrl,
      BENCH_SINK_URL: `${ctx.sink.url}/hook`,
      BENCH_CONCURRENCY: String(ctx.concurrency),
      BENCH_HOLDER: holder,
      BENCH_APP: app,
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const inst: Instance = { child, holder, app, lines: [] };
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      inst.lines.push(...d.toString().trim().split('\n'));
      if (inst.lines.some((l) => l.startsWith('ready'))) resolve(inst);
    });
    child.once('exit', (code) => reject(new Error(`drain instance ${holder} exited (${code})`)));
  });
}

async function stopInstance(inst: Instance): Promise<void> {
  if (inst.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => inst.child.kill('SIGKILL'), 10_000);
    inst.child.once('exit', () => (clearTimeout(kill), resolve()));
    inst.child.kill('SIGTERM');
  });
}

/**
 * Drain rate of one backlog with 1, 2 or 3 instances, each a process of its own holding its share of the
 * lanes (lanes are assigned before the clock starts: every instance is registered first, so none drains
 * alone while the others start). The route's concurrency is split among them by lane share, so the sink
 * sees the same total concurrency whatever the count. Each instance first drains 2,000 warm-up rows.
 * CPU per 1,000 events: all instances' node processes and their Postgres backends, summed.
 */
async function drainWith(ctx: BenchContext, instances: number, rows: number) {
  const db = await ctx.freshDatabase(`bench_lanes${instances}`);
  const started: Instance[] = [];
  try {
    await syncRoutes(db.pool, [sinkRoute(`${ctx.sink.url}/hook`, ctx.concurrency)]);
    await enqueueBacklog(db.pool, rows);
    const holders = Array.from({ length: instances }, (_, i) => `lane-bench-${i}`);
    // Every instance is live from the first lane round on, so each takes only its share.
    await db.pool.query(
      `INSERT INTO sluice_instance (id, expires_at) SELECT unnest($1::text[]), now() + interval '30 seconds'`,
      [holders],
    );
    await warmHttpCall(`${ctx.sink.url}/hook`, ctx.concurrency);
    // The measured backlog waits (run_at in the future) while the instances start and warm up on 2,000
    // rows each (JIT, connections, HTTP sockets), so the figure is the steady state, not N process starts.
    await db.pool.query(`UPDATE event_queue SET run_at = now() + interval '1 hour'`);
    await enqueueBacklog(db.pool, 2_000 * instances, { prefix: 'warm-', analyze: false });
    for (const h of holders) started.push(await startInstance(ctx, db.url, h));
    for (;;) {
      const { rows: left } = await db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM event_queue WHERE record_id LIKE 'warm-%' AND state <> 'done'`,
      );
      if (Number(left[0].n) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    ctx.sink.reset();
    const meters = await Promise.all(
      started.map((s) => cpuMeter(db.url, { apps: [s.app], pid: s.child.pid })),
    );
    const t0 = process.hrtime.bigint();
    await db.pool.query(`UPDATE event_queue SET run_at = now()`);
    await db.pool.query(`NOTIFY sluice`);
    await untilDrained(db.pool);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const spent: CpuSpent[] = await Promise.all(meters.map((m) => m.stop()));
    const lanes = await db.pool.query<{ holder: string; n: string }>(
      `SELECT holder, count(*) AS n FROM sluice_lane WHERE expires_at > now() GROUP BY holder`,
    );
    await Promise.all(started.map(stopInstance));
    ctx.log(`  ${started.map((x) => x.lines.filter((l) => l.startsWith('stats')).join(' ')).join(' | ')}`);
    const peakRssMb = started.map((x) => {
      const line = x.lines.find((l) => l.startsWith('stats '));
      return line ? (JSON.parse(line.slice(6)) as { peakRssMb: number }).peakRssMb : NaN;
    });
    return {
      seconds,
      spent,
      peakRssMb,
      lanes: Object.fromEntries(lanes.rows.map((r) => [r.holder, Number(r.n)])),
    };
  } finally {
    await Promise.all(started.map(stopInstance));
    await db.drop();
  }
}

export const drainInstances: Scenario = {
  id: 'drain-instances',
  title: 'Sluice drains one backlog with 1, 2 and 3 instances (lanes), each a process of its own',
  run: async (ctx, { quick }) => {
    const rows = quick ? 20_000 : 100_000;
    const results: ScenarioResult[] = [];
    for (const n of [1, 2, 3]) {
      const r = await drainWith(ctx, n, rows);
      const rate = Math.round(rows / r.seconds);
      const nodeMs = r.spent.reduce((a, s) => a + s.nodeMs, 0);
      const pgMs = r.spent.reduce((a, s) => a + (s.postgresMs ?? 0), 0);
      const per1k = (ms: number) => Number(((ms / rows) * 1000).toFixed(1));
      ctx.log(
        `${n} instance(s): ${rate} events/s; CPU per 1,000 events node ${per1k(nodeMs)} ms + Postgres ${per1k(pgMs)} ms; lanes ${JSON.stringify(r.lanes)}`,
      );
      results.push(
        {
          id: `drain-instances-${n}`,
          name: `drain ${rows.toLocaleString('en-US')} rows with ${n} instance${n > 1 ? 's' : ''} (lanes; concurrency ${ctx.concurrency} in all)`,
          unit: 'events/s',
          value: rate,
          compareTo: n > 1 ? ['drain-instances-1'] : ['limit-http-client'],
          detail: { rows, seconds: Number(r.seconds.toFixed(3)), lanes: r.lanes },
        },
        {
          id: `drain-instances-${n}-cpu`,
          name: `CPU per 1,000 events with ${n} instance${n > 1 ? 's' : ''}, all of them (node + Postgres; goal: <= 1.1x one instance's)`,
          unit: 'ms',
          value: Number((per1k(nodeMs) + per1k(pgMs)).toFixed(1)),
          better: 'lower',
          parts: { node: per1k(nodeMs), Postgres: per1k(pgMs) },
          compareTo: n > 1 ? ['drain-instances-1-cpu'] : [],
          detail: { perInstance: r.spent.map((s) => per1k(s.nodeMs + (s.postgresMs ?? 0))) },
        },
      );
      // The draining process on its own (the drain-peak-rss figure is the whole bench process, harness included).
      if (n === 1)
        results.push({
          id: 'drain-instance-peak-rss',
          name: `peak RSS of a drain process of its own over ${rows.toLocaleString('en-US')} rows (tsx loader included; goal <= 250 MB)`,
          unit: 'MB',
          value: r.peakRssMb[0],
          better: 'lower',
        });
    }
    return results;
  },
};
