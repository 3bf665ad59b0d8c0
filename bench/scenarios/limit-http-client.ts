import { cpuResult } from '../lib/cpu';
import { peerCall } from '../lib/peer-call';
import type { Scenario } from '../lib/types';

/**
 * The drain's ceiling on this machine: the same HTTP call every drain makes (bench/lib/peer-call.ts:
 * Sluice's own keep-alive axios client, the webhook connector's request), `rows` times at the run's
 * concurrency, with no queue at all (no claim, no settle, no Postgres). A drain in one Node process
 * that makes one such call per event cannot be faster than this; the drain and peer results report
 * their ratio to it, so "how far from the floor" reads off the same run. A short untimed warm-up
 * first, so the figure is the client's best, not its JIT's first seconds.
 */
export const limitHttpClient: Scenario = {
  id: 'limit-http-client',
  title: 'Limit: the same HTTP call per event with no queue (client-side ceiling)',
  run: async (ctx, { quick }) => {
    const rows = quick ? 5_000 : 100_000;
    const call = peerCall(`${ctx.sink.url}/hook`, ctx.concurrency);
    const calls = async (n: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: ctx.concurrency }, async () => {
          while (next < n) await call(`acc-${next++}`);
        }),
      );
    };
    await calls(1_000); // the same warm-up as the drains get (warmHttpCall)
    ctx.sink.reset();
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await calls(rows);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    return [
      {
        id: 'limit-http-client',
        name: `the same HTTP call, no queue (${rows.toLocaleString('en-US')} calls, concurrency ${ctx.concurrency})`,
        unit: 'calls/s',
        value: Math.round(rows / seconds),
        detail: {
          rows,
          seconds: Number(seconds.toFixed(3)),
          cpuUsPerCall: Math.round((used.user + used.system) / rows),
          sinkRequests: await ctx.sink.count(),
        },
      },
      // The floor of the drains' CPU figures: the calls alone, no queue, no Postgres.
      cpuResult('limit-http-client-cpu', 'the same HTTP calls with no queue', rows, {
        nodeMs: (used.user + used.system) / 1000,
        postgresMs: null,
        backends: 0,
      }),
    ];
  },
};
