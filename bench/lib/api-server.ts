// The ingestion API alone (no drain, no relay) in its own process, so the load generator in the bench
// process does not share its event loop. Env: DATABASE_URL, BENCH_API_KEY, BENCH_WEBHOOK_SECRET.
import { Registry } from 'prom-client';
import { buildServer } from '../../src/api/server';
import { parseOr400, schemas } from '../../src/api/validate';
import { PushBodySchema, pushItem } from '../../src/capture/push';
import { PeerNotifier } from '../../src/capture/peer-notifier';
import { ProcessRegistry } from '../../src/planner/registry';
import { createDataSource } from '../../src/db/data-source';
import { poolOf } from '../../src/db/pool';
import { createLogger } from '../../src/lib/logger';

async function main() {
  const ds = createDataSource({
    url: process.env.DATABASE_URL!,
    poolSize: 12,
    applicationName: 'sluice-bench-api',
  });
  await ds.initialize();
  const pool = poolOf(ds);
  // As in the service: peers are notified after commit, coalesced.
  const peers = new PeerNotifier(pool);
  const app = buildServer({
    pool,
    apiKeys: [process.env.BENCH_API_KEY!],
    logger: createLogger('warn'),
    status: async () => ({}),
    webhookSecrets: { bench: { scheme: 'sluice', secrets: [process.env.BENCH_WEBHOOK_SECRET!] } },
    webhookBodyLimit: 1024 * 1024,
    onAccepted: () => peers.poke(),
    metrics: new Registry(),
    publicEndpoints: [],
    ingestRatePerSecond: 0,
    // The planner and route-registry routes are registered but unused here.
    routes: { refresh: async () => undefined },
    planner: { registry: new ProcessRegistry(pool), wake: () => undefined },
  });
  // limit-http-ingest: the same server, auth and push-body validation as POST /v1/events, no database.
  app.post(
    '/bench/limit-ingest',
    {
      bodyLimit: 8 * 1024 * 1024,
      ...schemas({ summary: 'bench: ingest without the database', body: PushBodySchema }),
    },
    async (req, reply) => {
      const body = parseOr400(PushBodySchema, req.body, reply, 'invalid_body', 'invalid push body');
      if (!body) return reply;
      const item = pushItem(body);
      return reply.code(202).send({ ticket: item.ticket, accepted: new Set(item.ids).size });
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
  process.on(
    'SIGTERM',
    () =>
      void app
        .close()
        .then(() => ds.destroy())
        .then(() => process.exit(0)),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
