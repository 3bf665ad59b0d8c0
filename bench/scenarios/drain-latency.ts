import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'pg';
import { sessionOptions } from '../../src/db/schema-name';
import { sinkRoute, sluiceDrain } from '../lib/sluice-drain';
import type { Scenario, ScenarioResult } from '../lib/types';

const now = () => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Latency from commit to the sink receiving the call, at a steady 500 events/s: each event is its own
 * sluice_enqueue transaction (like a one-id push); commit time is when that call returned, arrival is
 * stamped by a sink in another process. The first second is warm-up and not counted.
 */
export const drainLatency: Scenario = {
  id: 'drain-latency',
  title: 'commit-to-sink latency at a steady 500 events/s',
  run: async (ctx, { quick }) => {
    const seconds = quick ? 4 : 15;
    const rate = 500;
    const child = fork(join(__dirname, '..', 'lib', 'stamp-sink-server.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve) =>
      child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    const db = await ctx.freshDatabase('bench_latency');
    try {
      const s = await sluiceDrain(
        db.pool,
        db.url,
        sinkRoute(`http://127.0.0.1:${port}/hook`, ctx.concurrency),
      );
      await s.start();
      // The producer has its own connections, as an application pushing changes would.
      const producer = new Pool({ connectionString: db.url, max: 8, options: sessionOptions() });
      producer.on('error', () => undefined);
      const committed = new Map<string, number>();
      const total = seconds * rate;
      const t0 = now();
      const inserts: Promise<void>[] = [];
      for (let i = 0; i < total;) {
        const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
        for (; i < due; i++) {
          const id = `lat-${i}`;
          inserts.push(
            producer
              .query(`SELECT sluice_enqueue('account', 'update', 'bench', ARRAY[$1::text], NULL, NULL)`, [id])
              .then(() => void committed.set(id, now())),
          );
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      await Promise.all(inserts);
      const produceSeconds = (now() - t0) / 1000;
      await producer.end();
      const stamps = new Map<string, number>();
      while (stamps.size < total) {
        await new Promise((r) => setTimeout(r, 100));
        const got = await new Promise<Array<[string, number]>>((resolve) => {
          child.once('message', (m: { stamps: Array<[string, number]> }) => resolve(m.stamps));
          child.send('stamps');
        });
        for (const [id, at] of got) if (!stamps.has(id)) stamps.set(id, at);
      }
      await s.stop();
      const warmup = rate; // the first second
      const lat: number[] = [];
      for (let i = warmup; i < total; i++) {
        const id = `lat-${i}`;
        // Arrival can precede the producer seeing its commit return: that counts as 0.
        lat.push(Math.max(0, stamps.get(id)! - committed.get(id)!));
      }
      lat.sort((a, b) => a - b);
      const round = (x: number) => Number(x.toFixed(1));
      const [p50, p95, p99] = [50, 95, 99].map((p) => round(percentile(lat, p)));
      const base = {
        unit: 'ms',
        better: 'lower' as const,
        detail: { events: lat.length, rate, seconds, produceSeconds: Number(produceSeconds.toFixed(2)) },
      };
      const results: ScenarioResult[] = [
        {
          id: 'latency-p50',
          name: 'commit-to-sink latency p50 at 500 events/s (goal <= 10 ms)',
          value: p50,
          ...base,
        },
        { id: 'latency-p95', name: 'commit-to-sink latency p95 at 500 events/s', value: p95, ...base },
        {
          id: 'latency-p99',
          name: 'commit-to-sink latency p99 at 500 events/s (goal <= 50 ms)',
          value: p99,
          ...base,
        },
      ];
      return results;
    } finally {
      child.kill();
      await db.drop();
    }
  },
};
