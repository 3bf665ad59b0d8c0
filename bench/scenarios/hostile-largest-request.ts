import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MAX_REQUEST_WORK_BYTES } from '../../src/capture/work-limit';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { sign } from '../../src/lib/signature';
import { startBenchApi, type BenchApi } from '../lib/api';
import { webhookRoute } from '../lib/sluice-drain';
import type { ScenarioResult, Scenario } from '../lib/types';

const KEY = 'bench-key-0123456789';
const SECRET = 'bench-secret-0123456789';
const TICK_MS = 20;

/** Resident memory (MB) and CPU time (ms) of a process, from /proc. */
function proc(pid: number): { rssMb: number; cpuMs: number } {
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime (fields 14 and 15) in clock ticks of 10 ms.
  return { rssMb: rssKb / 1024, cpuMs: (Number(f[11]) + Number(f[12])) * 10 };
}

/** A JSON payload of `bytes` bytes that does not compress (Postgres' TOAST cannot make it cheap). */
const payloadOf = (bytes: number) => ({
  blob: randomBytes(Math.ceil((bytes - 12) * 0.75))
    .toString('base64')
    .slice(0, bytes - 12),
});

interface Sample {
  ms: number;
  peakRssMb: number;
  rssAboveMb: number;
  cpuMs: number;
  healthzMaxMs: number;
  healthzP50Ms: number;
}

/** Sends one request while sampling the API's RSS and its /healthz latency every 20 ms. */
async function measure(
  api: BenchApi,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<Sample> {
  const before = proc(api.pid);
  let peak = before.rssMb;
  const healthz: number[] = [];
  let done = false;
  const rss = setInterval(() => (peak = Math.max(peak, proc(api.pid).rssMb)), TICK_MS);
  const probe = (async () => {
    while (!done) {
      const t = performance.now();
      await fetch(`${api.url}/healthz`);
      healthz.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  })();
  const t = performance.now();
  const res = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const ms = performance.now() - t;
  done = true;
  await probe;
  clearInterval(rss);
  if (res.status !== 202) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  const after = proc(api.pid);
  healthz.sort((a, b) => a - b);
  return {
    ms: Math.round(ms),
    peakRssMb: Math.round(Math.max(peak, after.rssMb)),
    rssAboveMb: Math.round(Math.max(peak, after.rssMb) - before.rssMb),
    cpuMs: after.cpuMs - before.cpuMs,
    healthzMaxMs: Math.round(healthz.at(-1) ?? 0),
    healthzP50Ms: Number((healthz[Math.floor(healthz.length / 2)] ?? 0).toFixed(1)),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The largest requests the work limit allows (ids x payload = 64 MiB), with an incompressible payload:
 * a push with the biggest payload the 8 MiB body takes (9 ids x 7 MB), a push with the most ids (10,000 x
 * 6.7 KB) and a signed webhook with the biggest payload its 1 MiB body takes (64 ids x 1 MB). Per request:
 * duration to the 202, the API process's peak RSS and CPU, and its /healthz latency sampled meanwhile.
 */
export const hostileLargestRequest: Scenario = {
  id: 'hostile-largest-request',
  title: 'The largest allowed push and webhook: duration, peak RSS, CPU, /healthz latency meanwhile',
  run: async (ctx, { quick }) => {
    const runs = quick ? 1 : 3;
    const db = await ctx.freshDatabase('bench_hostile');
    const api = await startBenchApi(db.url, KEY, SECRET);
    try {
      await syncRoutes(db.pool, [webhookRoute(`${ctx.sink.url}/hook`)]);
      const shapes = [
        { id: 'push-largest-payload', ids: 9, bytes: 7_000_000, webhook: false },
        {
          id: 'push-most-ids',
          ids: 10_000,
          bytes: Math.floor(MAX_REQUEST_WORK_BYTES / 10_000),
          webhook: false,
        },
        { id: 'webhook-largest', ids: 64, bytes: 1_040_000, webhook: true },
      ];
      const results: ScenarioResult[] = [];
      let seq = 0;
      for (const shape of shapes) {
        const samples: Sample[] = [];
        for (let r = 0; r < runs; r++) {
          const ids = Array.from({ length: shape.ids }, (_, i) => `${shape.id}-${seq}-${i}`);
          seq++;
          const body = JSON.stringify({
            entity: 'account',
            op: 'update',
            ids,
            payload: payloadOf(shape.bytes),
          });
          samples.push(
            shape.webhook
              ? await measure(api, '/v1/webhooks/bench', body, { 'x-sluice-signature': sign(SECRET, body) })
              : await measure(api, '/v1/events', body, { authorization: `Bearer ${KEY}` }),
          );
          await db.pool.query('TRUNCATE event_log, event_queue');
        }
        const pick = (k: keyof Sample) => median(samples.map((s) => s[k]));
        const spread = (k: keyof Sample) => [
          Math.min(...samples.map((s) => s[k])),
          Math.max(...samples.map((s) => s[k])),
        ];
        const work = `${shape.ids.toLocaleString('en-US')} ids x ${(shape.bytes / 1e6).toFixed(shape.bytes < 1e6 ? 4 : 1)} MB`;
        ctx.log(`${shape.id}: ${JSON.stringify(samples)}`);
        results.push(
          {
            id: `hostile-${shape.id}-ms`,
            name: `${shape.webhook ? 'signed webhook' : 'push'}, largest allowed (${work}): time to the 202 (median of ${runs})`,
            unit: 'ms',
            better: 'lower',
            value: pick('ms'),
            detail: { spreadMs: spread('ms'), apiCpuMs: pick('cpuMs'), samples },
          },
          {
            id: `hostile-${shape.id}-rss`,
            name: `${shape.webhook ? 'signed webhook' : 'push'}, largest allowed (${work}): API peak RSS`,
            unit: 'MB',
            better: 'lower',
            value: pick('peakRssMb'),
            detail: { spreadMb: spread('peakRssMb'), aboveBaselineMb: pick('rssAboveMb') },
          },
          {
            id: `hostile-${shape.id}-healthz`,
            name: `${shape.webhook ? 'signed webhook' : 'push'}, largest allowed (${work}): slowest /healthz meanwhile`,
            unit: 'ms',
            better: 'lower',
            value: pick('healthzMaxMs'),
            detail: { spreadMs: spread('healthzMaxMs'), p50Ms: pick('healthzP50Ms') },
          },
        );
      }
      return results;
    } finally {
      await api.stop();
      await db.drop();
    }
  },
};
