import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign as signSluice } from '../../src/lib/signature';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { startTestService } from '../helpers/service';

const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const SHOP = whsec();
const OLD = whsec();
const NEW = whsec();
const PLAIN = 'plain-secret-0123456789';

/** Headers for `raw` signed by the specification's reference library (npm standardwebhooks). */
function signed(secret: string, raw: string, id = `msg_${randomUUID()}`, at = new Date()) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, raw),
  };
}

describe('POST /v1/webhooks/:source with Standard Webhooks signatures (signed by the reference library)', () => {
  let db: TestDb;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const logged = () => count(db.pool, `SELECT count(*) AS n FROM event_log`);

  async function post(source: string, raw: string, headers: Record<string, string>) {
    const res = await fetch(`${svc.url}/v1/webhooks/${source}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: raw,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }
  const change = (id: string) => JSON.stringify({ entity: 'order', op: 'insert', id, payload: { total: 1 } });

  beforeAll(async () => {
    db = await createTestDb();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      // No routes: nothing is queued, so the drain (at its normal poll) has nothing to call.
      webhooks: {
        shop: { secret: SHOP, scheme: 'standard' },
        rotating: { secret: [NEW, OLD] },
        legacy: { secret: PLAIN },
      },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await db?.drop();
  });

  it('accepts a signed change (202) and a repeat of its webhook-id answers 200 with the first ticket, adding nothing', async () => {
    const raw = change('o-1');
    const headers = signed(SHOP, raw);
    const first = await post('shop', raw, headers);
    expect(first).toMatchObject({ status: 202, body: { accepted: 1, duplicate: false } });
    const again = await post('shop', raw, signed(SHOP, raw, headers['webhook-id']));
    expect(again).toMatchObject({ status: 200, body: { ticket: first.body.ticket, duplicate: true } });
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE record_id = 'o-1'`)).toBe(1);
    const [row] = (await db.pool.query(`SELECT source, delivery_id FROM sluice_webhook_delivery`)).rows;
    expect(row).toEqual({ source: 'shop', delivery_id: headers['webhook-id'] });
  });

  it.each<[string, (raw: string) => [string, Record<string, string>], string]>([
    ['a wrong secret', (raw) => [raw, signed(whsec(), raw)], 'signature does not match the body'],
    [
      'a timestamp 6 minutes old',
      (raw) => [raw, signed(SHOP, raw, 'msg_old', new Date(Date.now() - 6 * 60_000))],
      'outside the 5 minute tolerance',
    ],
    [
      'a timestamp 6 minutes ahead',
      (raw) => [raw, signed(SHOP, raw, 'msg_new', new Date(Date.now() + 6 * 60_000))],
      'outside the 5 minute tolerance',
    ],
    [
      'a tampered body',
      (raw) => [raw.replace('"total":1', '"total":9'), signed(SHOP, raw)],
      'does not match',
    ],
    [
      'a tampered webhook-id',
      (raw) => [raw, { ...signed(SHOP, raw), 'webhook-id': 'msg_other' }],
      'does not match',
    ],
    ...(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const).map(
      (h): [string, (raw: string) => [string, Record<string, string>], string] => [
        `no ${h} header`,
        (raw) => {
          const headers: Record<string, string> = signed(SHOP, raw);
          delete headers[h];
          return [raw, headers];
        },
        'missing or malformed webhook-id, webhook-timestamp, webhook-signature headers',
      ],
    ),
    [
      'a Sluice signature on a standard source',
      (raw) => [raw, { 'x-sluice-signature': signSluice(SHOP, raw) }],
      'missing or malformed webhook-id',
    ],
  ])('refuses %s with 401 invalid_signature and queues nothing', async (_what, make, message) => {
    const before = await logged();
    const [raw, headers] = make(change('bad-1'));
    const res = await post('shop', raw, headers);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_signature');
    expect(res.body.error.message).toContain(message);
    expect(await logged()).toBe(before);
  });

  it('refuses a body deliveryId that differs from the signed webhook-id with 400 delivery_id_mismatch', async () => {
    const raw = JSON.stringify({ entity: 'order', op: 'insert', id: 'm-1', deliveryId: 'evt_body' });
    const res = await post('shop', raw, signed(SHOP, raw, 'msg_header'));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('delivery_id_mismatch');
  });

  it('refuses a webhook-id longer than 200 chars with 400 invalid_webhook_id', async () => {
    const raw = change('long-1');
    const res = await post('shop', raw, signed(SHOP, raw, 'm'.repeat(201)));
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_webhook_id' } } });
  });

  it('a source holding two secrets (whsec_, so standard) accepts a message signed with either', async () => {
    for (const [i, secret] of [NEW, OLD].entries()) {
      const raw = change(`rot-${i}`);
      expect((await post('rotating', raw, signed(secret, raw))).status).toBe(202);
    }
    const raw = change('rot-x');
    expect((await post('rotating', raw, signed(whsec(), raw))).status).toBe(401);
  });

  it('a source with a plain secret keeps the Sluice scheme: X-Sluice-Signature passes, Standard headers do not', async () => {
    const raw = change('leg-1');
    expect((await post('legacy', raw, { 'x-sluice-signature': signSluice(PLAIN, raw) })).status).toBe(202);
    const std = await post(
      'legacy',
      raw,
      signed(`whsec_${Buffer.from(PLAIN.padEnd(24)).toString('base64')}`, raw),
    );
    expect(std).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
  });

  it('the OpenAPI document describes both signature schemes and their headers for the webhook route', async () => {
    const docs = (await (await fetch(`${svc.url}/docs/json`)).json()) as {
      paths: Record<
        string,
        Record<string, { description?: string; parameters?: Array<{ in: string; name: string }> }>
      >;
    };
    const op = docs.paths['/v1/webhooks/{source}'].post;
    expect(op.description).toContain('Standard Webhooks');
    expect(
      op
        .parameters!.filter((p) => p.in === 'header')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp', 'x-sluice-signature']);
  });
});
