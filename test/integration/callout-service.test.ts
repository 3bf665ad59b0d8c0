import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink, type SinkReply } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

// The whole service: an endpoint that goes down opens the route's breaker, its rows are deferred (not
// dead-lettered, attempts not spent), an alert goes to Slack, and everything is delivered after recovery.
// A salesforce-style composite route next to it fails one record alone.

describe('circuit-broken callouts through the whole service', () => {
  let db: TestDb;
  let crm: Sink;
  let slack: Sink;
  let sf: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let crmReply: SinkReply = { status: 500, body: 'down for maintenance' };

  beforeAll(async () => {
    db = await createTestDb();
    crm = await startSink(() => crmReply);
    slack = await startSink(() => ({ status: 200 }));
    sf = await startSink((req) => {
      const { records } = JSON.parse(req.body) as { records: Array<{ Ext__c: string }> };
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          records.map((r) =>
            r.Ext__c === 'c-7'
              ? {
                  success: false,
                  errors: [
                    { statusCode: 'REQUIRED_FIELD_MISSING', message: 'LastName', fields: ['LastName'] },
                  ],
                }
              : { id: `003${r.Ext__c}`, success: true, errors: [] },
          ),
        ),
      };
    });
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `${crm.url}/hook` },
          // One request at a time, so every request the endpoint sees is accounted for below.
          concurrency: 1,
          breaker: {
            volumeThreshold: 5,
            resetTimeoutMs: 700,
            timeoutMs: 5000,
            rollingCountTimeoutMs: 60_000,
          },
          retry: { maxAttempts: 3, baseMs: 20, maxMs: 50 },
        },
        {
          name: 'sf',
          match: { entity: 'contact' },
          connector: 'salesforce',
          options: {
            instanceUrl: sf.url,
            sObject: 'Contact',
            externalIdField: 'Ext__c',
            fields: { LastName: 'payload.name' },
            auth: { type: 'bearer', token: 'sf-token' },
          },
        },
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
    await Promise.all([crm?.close(), slack?.close(), sf?.close()]);
    await db?.drop();
  });

  it('defers while the breaker is open, alerts once, and delivers everything after recovery', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `acc-${i}`);
    const res = await api(svc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids });
    expect(res.status).toBe(202);

    const crmStats = async () => (await api(svc, 'GET', '/v1/status')).body.breakers.crm;
    await waitFor(async () => (await crmStats()).state === 'open', 'crm breaker open');
    const opened = await crmStats();
    expect(opened.nextAttemptAt).toEqual(expect.any(String));
    // Let it cycle open -> half-open (one failing probe) -> open a few times.
    await waitFor(async () => (await crmStats()).opens >= 3, 'three openings', { timeoutMs: 60_000 });

    // The breaker-open alert reached Slack, once (repeats within a minute are held back).
    await waitFor(() => slack.requests.length >= 1, 'alert posted');
    const alert = JSON.parse(slack.requests[0].body) as { text: string };
    expect(alert.text).toMatch(/breaker-open: route "crm"/);
    expect(slack.requests).toHaveLength(1);

    // Nothing dead-lettered, and deferral did not spend attempts: every attempt is a request the endpoint saw.
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'dead'`)).toBe(0);
    const failed = crm.requests.length;
    const { opens, probes } = await crmStats();
    // volumeThreshold requests opened it; after that only one probe per half-open period got through.
    expect(failed).toBeLessThanOrEqual(5 + opens);
    expect(probes).toBeGreaterThanOrEqual(2);
    const attempts = await count(
      db.pool,
      `SELECT coalesce(sum(attempts), 0) AS n FROM event_queue WHERE route = 'crm' AND state <> 'running'`,
    );
    expect(attempts).toBeLessThanOrEqual(failed);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE route = 'crm'`)).toBe(40);

    crmReply = { status: 200 };
    await waitFor(
      async () =>
        (await count(
          db.pool,
          `SELECT count(*) AS n FROM event_queue WHERE route = 'crm' AND state = 'done'`,
        )) === 40,
      'all 40 delivered after recovery',
      { timeoutMs: 60_000 },
    );
    const delivered = new Set(
      crm.requests.slice(failed).map((r) => (JSON.parse(r.body) as { recordId: string }).recordId),
    );
    expect(delivered).toEqual(new Set(ids));
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'dead'`)).toBe(0);
    expect((await crmStats()).state).toBe('closed');
  });

  it('composite route: up to 200 records per request, one bad record dead-lettered alone', async () => {
    const ids = Array.from({ length: 450 }, (_, i) => `c-${i}`);
    const res = await api(svc, 'POST', '/v1/events', {
      entity: 'contact',
      op: 'upsert',
      ids,
      payload: { name: 'Lovelace' },
    });
    expect(res.status).toBe(202);
    await waitFor(
      async () =>
        (await count(
          db.pool,
          `SELECT count(*) AS n FROM event_queue WHERE route = 'sf' AND state IN ('done','dead')`,
        )) === 450,
      'all contacts settled',
    );
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE route = 'sf' AND state = 'done'`),
    ).toBe(449);
    const { rows } = await db.pool.query(
      `SELECT record_id, attempts, last_error, last_response FROM event_queue WHERE route = 'sf' AND state = 'dead'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ record_id: 'c-7', attempts: 1 });
    expect(rows[0].last_error).toMatch(/REQUIRED_FIELD_MISSING: LastName/);
    expect(rows[0].last_response).toMatch(/REQUIRED_FIELD_MISSING/);
    // The drain's dead-letter event reaches Slack through the alert route.
    await waitFor(
      () => slack.requests.some((r) => /dead-letter: an event of route \\"sf\\"/.test(r.body)),
      'dead-letter alert',
    );

    const sent = sf.requests.flatMap((r) => {
      expect(r.method).toBe('PATCH');
      expect(r.path).toBe('/services/data/v60.0/composite/sobjects/Contact/Ext__c');
      expect(r.headers.authorization).toBe('Bearer sf-token');
      const body = JSON.parse(r.body) as { allOrNone: boolean; records: Array<Record<string, unknown>> };
      expect(body.allOrNone).toBe(false);
      expect(body.records.length).toBeLessThanOrEqual(200);
      return body.records;
    });
    expect(sent).toHaveLength(450);
    expect(sf.requests.length).toBeLessThan(450 / 20);
    expect(sent[0]).toMatchObject({ attributes: { type: 'Contact' }, LastName: 'Lovelace' });
    expect(new Set(sent.map((r) => r.Ext__c))).toEqual(new Set(ids));
  });
});
