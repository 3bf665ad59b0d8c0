import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/lib/signature';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { startTestService } from '../helpers/service';

const SECRET = 'shop-secret-0123456789abcdef';
const LIMIT = 50;

/**
 * Issue 19, finding 5: 6,000 unsigned requests in 5 s made the real, correctly signed sender get 429 on
 * 4 of 17 tries (the per-source limit counted before the signature check). Now the signature is checked
 * first; unsigned and badly signed requests count against the client address.
 */
describe('verify before you count: a flood of unsigned webhooks', () => {
  let db: TestDb;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      webhooks: { shop: { secret: SECRET } },
      env: { SLUICE_INGEST_RATE_LIMIT: String(LIMIT) },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await db?.drop();
  });

  it('costs the real sender not a single 429; the flood itself is limited per address', async () => {
    const garbage = JSON.stringify({ entity: 'account', op: 'update', id: 'x' });
    const flood = autocannon({
      url: `${svc.url}/v1/webhooks/shop`,
      connections: 20,
      // Runs until the real sender is done (stopped below), however slow a loaded machine makes it.
      duration: 120,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: garbage,
      requests: [
        { method: 'POST' },
        {
          method: 'POST',
          setupRequest: (r) => ({ ...r, headers: { ...r.headers, 'x-sluice-signature': 't=1,v1=00' } }),
        },
        {
          method: 'POST',
          setupRequest: (r) => ({
            ...r,
            headers: { ...r.headers, 'x-sluice-signature': sign('wrong-secret-0123456789', garbage) },
          }),
        },
      ],
    });

    // The real sender: 20 signed deliveries, 10 a second (a fifth of the limit), while the flood runs.
    const real: number[] = [];
    for (let i = 0; i < 20; i++) {
      const raw = JSON.stringify({ entity: 'account', op: 'update', id: `real-${i}`, deliveryId: `d-${i}` });
      const res = await fetch(`${svc.url}/v1/webhooks/shop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sluice-signature': sign(SECRET, raw) },
        body: raw,
      });
      real.push(res.status);
      await new Promise((r) => setTimeout(r, 100));
    }
    flood.stop();
    const result = await flood;

    const byStatus = Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]),
    );
    console.log(`flood: ${JSON.stringify(byStatus)}; real sender: ${real.length} deliveries`);
    expect(real.filter((s) => s !== 202)).toEqual([]);
    expect(byStatus['429'] ?? 0).toBeGreaterThan(0);
    expect(byStatus['401'] ?? 0).toBeGreaterThan(0);
    expect(result['2xx']).toBe(0);
    expect(await count(db.pool, 'SELECT count(*) AS n FROM event_log')).toBe(real.length);
  });
});
