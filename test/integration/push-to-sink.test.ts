import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { readTopic } from '../helpers/kafka';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

describe('one change end to end: push -> event_queue -> Kafka + HTTP sink', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    svc = await startTestService({
      databaseUrl: db.url,
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `${sink.url}/hook` },
          concurrency: 16,
        },
      ],
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('delivers 1,000 pushed ids to the sink once each and publishes 1,000 keyed messages', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `acc-${i}`);
    const tickets: string[] = [];
    for (let i = 0; i < ids.length; i += 250) {
      const res = await api(svc, 'POST', '/v1/events', {
        entity: 'account',
        op: 'update',
        ids: ids.slice(i, i + 250),
        payload: { plan: 'gold' },
      });
      expect(res.status).toBe(202);
      expect(res.body.accepted).toBe(250);
      expect(res.body.ticket).toMatch(/^[0-9a-f-]{36}$/);
      tickets.push(res.body.ticket);
    }
    // Durable before the 202: every change is already logged.
    expect(await count(db.pool, 'SELECT count(*) AS n FROM event_log')).toBe(1000);

    await waitFor(() => sink.requests.length >= 1000, '1,000 callouts');
    const seen = new Map<string, number>();
    for (const r of sink.requests) {
      const body = JSON.parse(r.body);
      seen.set(body.recordId, (seen.get(body.recordId) ?? 0) + 1);
      expect(r.path).toBe('/hook');
      expect(r.headers['idempotency-key']).toBe(`${body.eventId}:crm`);
      expect(body).toMatchObject({
        entity: 'account',
        op: 'update',
        source: 'api',
        payload: { plan: 'gold' },
      });
    }
    expect(seen.size).toBe(1000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    await waitFor(
      async () =>
        (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'done'`)) === 1000,
      'rows done',
    );

    const messages = await readTopic(svc.topic, 1000);
    expect(messages).toHaveLength(1000);
    const keys = new Set(messages.map((m) => m.key!.toString()));
    expect(keys).toEqual(new Set(ids.map((id) => `account:${id}`)));
    const value = JSON.parse(messages[0].value!.toString());
    expect(Object.keys(value).sort()).toEqual([
      'entity',
      'eventId',
      'occurredAt',
      'op',
      'payload',
      'recordId',
      'source',
    ]);
    expect(messages[0].headers!['sluice-event-id']!.toString()).toBe(value.eventId);
    await waitFor(
      async () =>
        (await count(db.pool, 'SELECT count(*) AS n FROM event_log WHERE published_at IS NULL')) === 0,
      'all marked published',
    );

    const ticket = await api(svc, 'GET', `/v1/tickets/${tickets[0]}`);
    expect(ticket.status).toBe(200);
    expect(ticket.body).toMatchObject({ accepted: 250, published: 250, deliveries: { done: 250 } });

    const status = await api(svc, 'GET', '/v1/status');
    expect(status.status).toBe(200);
    expect(status.body.queue).toMatchObject({ done: 1000, pending: 0, dead: 0 });
    expect(status.body.consumer.role).toBe('leader');
    expect(status.body.relay.lag.unpublished).toBe(0);
  });
});
