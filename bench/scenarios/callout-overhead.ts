import { envelope } from '../../connectors/template';
import { buildCallers } from '../../src/callout/build-callers';
import { closeHttpClient, createHttpClient } from '../../src/callout/http-client';
import { benchEvents, pool } from '../lib/callout';
import { webhookRoute } from '../lib/sluice-drain';
import type { Scenario } from '../lib/types';

/**
 * What the callout layer costs: the same events POSTed to the same child-process sink at the same
 * concurrency, once by the bare callout client (src/callout/http-client.ts: axios over undici, no breaker)
 * and once through a RouteCaller (webhook
 * connector, opossum breaker, probe gate, concurrency cap, timeout, classification). Rounds alternate and
 * each side keeps its best round, so load from elsewhere on the machine hurts both alike; the CPU time per
 * request (median of rounds) is reported too, as it is steadier. Goal: overhead <= 10%.
 */
export const calloutOverhead: Scenario = {
  id: 'callout-overhead',
  title: 'Callouts/s through one route (RouteCaller) vs plain axios on the same sink',
  run: async (ctx, { quick }) => {
    const n = quick ? 3_000 : 6_000;
    const rounds = quick ? 4 : 8;
    const url = `${ctx.sink.url}/hook`;
    // The same axios client a route sends through (undici adapter), with nothing around it.
    const plain = createHttpClient(ctx.concurrency, 10_000);
    const route = webhookRoute(url, { name: 'bench', concurrency: ctx.concurrency });
    const caller = buildCallers([route]).get('bench')!;
    let plainBest = 0;
    let callerBest = 0;
    let failures = 0;
    // CPU per request of this process: steadier than wall-clock rates on a shared machine.
    const cpu = { plain: [] as number[], caller: [] as number[] };
    const cpuOf = async (run: () => Promise<number>, into: number[]) => {
      const before = process.cpuUsage();
      const seconds = await run();
      const used = process.cpuUsage(before);
      into.push((used.user + used.system) / n);
      return seconds;
    };
    try {
      for (let round = 0; round < rounds; round++) {
        const a = benchEvents(n, 'bench');
        const plainSeconds = await cpuOf(
          () =>
            pool(a, ctx.concurrency, async (e) => {
              const res = await plain.post(url, JSON.stringify(envelope(e)), {
                headers: { 'content-type': 'application/json', 'idempotency-key': `${e.eventId}:bench` },
              });
              if (res.status !== 200) failures++;
            }),
          cpu.plain,
        );
        const b = benchEvents(n, 'bench');
        const callerSeconds = await cpuOf(
          () =>
            pool(b, ctx.concurrency, async (e) => {
              const [o] = await caller.deliver([e]);
              if (o.kind !== 'success') failures++;
            }),
          cpu.caller,
        );
        plainBest = Math.max(plainBest, n / plainSeconds);
        callerBest = Math.max(callerBest, n / callerSeconds);
        ctx.log(
          `round ${round + 1}: plain axios ${Math.round(n / plainSeconds)}/s, RouteCaller ${Math.round(n / callerSeconds)}/s`,
        );
      }
    } finally {
      await caller.shutdown();
      await closeHttpClient(plain);
    }
    if (failures) throw new Error(`${failures} callouts failed against the bench sink`);
    // Median CPU microseconds per request, first (warm-up) round left out.
    const median = (xs: number[]) => {
      const s = xs.slice(1).sort((p, q) => p - q);
      return Math.round(s[Math.floor(s.length / 2)]);
    };
    const cpuUs = { plain: median(cpu.plain), caller: median(cpu.caller) };
    ctx.log(`CPU per request: plain axios ${cpuUs.plain} us, RouteCaller ${cpuUs.caller} us`);
    return [
      {
        id: 'callout-plain-axios',
        name: `the bare callout client (axios over undici), no breaker (concurrency ${ctx.concurrency})`,
        unit: 'req/s',
        value: Math.round(plainBest),
        compareTo: ['limit-sink-capacity'],
        detail: { requestsPerRound: n, rounds, cpuUsPerRequest: cpuUs.plain },
      },
      {
        id: 'callout-route-caller',
        name: `one route through RouteCaller: breaker, cap, timeout (concurrency ${ctx.concurrency})`,
        unit: 'req/s',
        value: Math.round(callerBest),
        compareTo: ['callout-plain-axios', 'limit-sink-capacity'],
        detail: {
          requestsPerRound: n,
          rounds,
          overheadPct: Number((100 * (1 - callerBest / plainBest)).toFixed(1)),
        },
      },
    ];
  },
};
