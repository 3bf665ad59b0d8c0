import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const hook = (name: string, url: string, extra: object = {}) => ({
  name,
  match: { entity: name },
  connector: 'webhook',
  options: { url },
  // Every attempt reaches the endpoint (no breaker deferrals), retried quickly.
  retry: { maxAttempts: 100, baseMs: 50, maxMs: 200 },
  breaker: { volumeThreshold: 10_000 },
  disableAfter: '2s',
  ...extra,
});

describe('auto-disable: a route whose every attempt failed for disableAfter is paused', () => {
  let db: TestDb;
  let sink: Sink;
  let slack: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let downStatus = 500;
  let lastWobblyOk = 0;
  let wobblyOks = 0;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink((req) => {
      if (req.path.startsWith('/down')) return { status: downStatus };
      // wobbly: fails, except one success a second.
      if (Date.now() - lastWobblyOk >= 1000) {
        lastWobblyOk = Date.now();
        wobblyOks++;
        return { status: 200 };
      }
      return { status: 500 };
    });
    slack = await startSink();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        hook('down', `${sink.url}/down`),
        hook('wobbly', `${sink.url}/wobbly`, { concurrency: 2 }),
        hook('quiet', `${sink.url}/quiet`),
        {
          name: 'ops-alerts',
          match: { entity: 'sluice.alert' },
          connector: 'slack',
          options: { url: `${slack.url}/services/T/B/x` },
        },
      ],
      alerts: { route: 'ops-alerts' },
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await Promise.all([sink?.close(), slack?.close()]);
    await db?.drop();
  });

  const route = async (name: string) => (await api(svc, 'GET', `/v1/routes/${name}`)).body;
  const push = async (entity: string, ids: string[]) =>
    expect((await api(svc, 'POST', '/v1/events', { entity, op: 'update', ids })).status).toBe(202);

  it('a route whose sink always answers 500 shows its failure clock (since, disablesAt = since + 2 s) in GET /v1/routes and a status warning, is paused after 2 s by auto-disable, and the route-disabled alert reaches the alerts sink; a route that succeeded in between is not', async () => {
    await push('down', ['d1', 'd2', 'd3']);
    await push(
      'wobbly',
      Array.from({ length: 40 }, (_, i) => `w${i}`),
    );
    const status = await waitFor(async () => {
      const st = (await api(svc, 'GET', '/v1/status')).body;
      return st.routes.down.failing && !st.routes.down.paused && st;
    }, 'status shows the failure clock of route down before it is paused');
    const clock = status.routes.down.failing;
    expect(new Date(clock.disablesAt).getTime() - new Date(clock.since).getTime()).toBe(2000);
    expect(status.warnings).toContainEqual(
      `route down has failed every attempt since ${clock.since}: auto-disable pauses it at ${clock.disablesAt}`,
    );
    expect((await route('down')).failing.since).toBe(clock.since);
    const paused = await waitFor(
      async () => {
        const r = await route('down');
        return r.paused && r;
      },
      'route down paused',
      { timeoutMs: 20_000 },
    );
    expect(paused).toMatchObject({ paused: true, pausedBy: 'auto-disable', closed: 'paused' });
    expect(paused.failing).toEqual({ since: clock.since, disablesAt: null });
    // Paused no earlier than disableAfter after its first failed attempt, and nothing ever succeeded.
    const [{ first, ok }] = (
      await db.pool.query(
        `SELECT min(started_at) AS first, count(*) FILTER (WHERE outcome = 'succeeded')::int AS ok
           FROM sluice_attempt WHERE route = 'down'`,
      )
    ).rows;
    expect(ok).toBe(0);
    expect(new Date(paused.pausedAt).getTime() - new Date(first).getTime()).toBeGreaterThanOrEqual(2000);

    await waitFor(() => slack.requests.some((r) => r.body.includes('route-disabled')), 'alert posted');
    const alert = slack.requests.find((r) => r.body.includes('route-disabled'))!;
    expect(JSON.parse(alert.body).text).toMatch(
      /route-disabled: route "down" paused: every attempt failed since/,
    );

    // wobbly kept failing too, but one attempt a second succeeded: its clock never reached 2 s.
    await new Promise((r) => setTimeout(r, 3000));
    expect(wobblyOks).toBeGreaterThanOrEqual(3);
    expect(
      await count(
        db.pool,
        `SELECT count(*) AS n FROM sluice_attempt WHERE route = 'wobbly' AND outcome = 'failed'`,
      ),
    ).toBeGreaterThan(10);
    expect(await route('wobbly')).toMatchObject({ paused: false });
    // A paused route claims nothing: the rows of down wait, none dead.
    expect(
      await count(
        db.pool,
        `SELECT count(*) AS n FROM event_queue WHERE route = 'down' AND state = 'pending'`,
      ),
    ).toBe(3);
  });

  it('the clock is read from Postgres, not from memory: a route failing since 10 s by its stored clock (as after a restart) is paused with no attempt made here', async () => {
    expect(await count(db.pool, `SELECT count(*) AS n FROM sluice_attempt WHERE route = 'quiet'`)).toBe(0);
    await db.pool.query(
      `INSERT INTO sluice_route_health (route, failing_since) VALUES ('quiet', now() - interval '10 seconds')`,
    );
    await waitFor(async () => (await route('quiet')).paused, 'route quiet paused', { timeoutMs: 10_000 });
    expect(await route('quiet')).toMatchObject({ pausedBy: 'auto-disable' });
  });

  it('the failure clock is kept in Postgres; resume resets it and delivers the rows that waited', async () => {
    const clock = () =>
      db.pool
        .query(`SELECT failing_since FROM sluice_route_health WHERE route = 'down'`)
        .then((r) => r.rows[0]?.failing_since as Date | null);
    expect(await clock()).toBeInstanceOf(Date);
    downStatus = 200;
    const resumed = await api(svc, 'POST', '/v1/routes/down/resume');
    expect(resumed.status).toBe(200);
    expect(await clock()).toBeNull();
    await waitFor(
      async () =>
        (await count(
          db.pool,
          `SELECT count(*) AS n FROM event_queue WHERE route = 'down' AND state = 'done'`,
        )) === 3,
      'the 3 waiting rows delivered',
    );
    expect(await route('down')).toMatchObject({ paused: false });
    expect(
      await count(
        db.pool,
        `SELECT count(*) AS n FROM sluice_attempt WHERE route = 'down' AND outcome = 'succeeded'`,
      ),
    ).toBe(3);
  });
});
