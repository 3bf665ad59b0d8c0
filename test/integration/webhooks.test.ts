import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/lib/logger';
import { sign } from '../../src/lib/signature';
import { startService, type RunningService } from '../../src/service/start';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { TEST_KEY } from '../helpers/service';

const FILE_SECRET = 'file-secret-0123456789';
const ENV_SECRET = 'env-secret-0123456789ab';

describe('POST /v1/webhooks/:source', () => {
  let db: TestDb;
  let svc: RunningService;
  const rowsNow = () =>
    count(
      db.pool,
      `SELECT (SELECT count(*) FROM event_log) + (SELECT count(*) FROM event_queue)
            + (SELECT count(*) FROM sluice_webhook_delivery) AS n`,
    );

  /** Posts raw bytes with a signature header (computed over exactly those bytes unless given). */
  async function post(
    source: string,
    raw: string,
    signature?: string | null,
    headers: Record<string, string> = {},
  ) {
    const sig = signature === undefined ? sign(source === 'erp' ? ENV_SECRET : FILE_SECRET, raw) : signature;
    const res = await fetch(`${svc.url}/v1/webhooks/${source}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(sig !== null && { 'x-sluice-signature': sig }),
        ...headers,
      },
      body: raw,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  let home: string;
  beforeAll(async () => {
    db = await createTestDb();
    home = mkdtempSync(join(tmpdir(), 'sluice-webhook-'));
    const configPath = join(home, 'sluice.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        routes: [
          {
            name: 'crm',
            match: { entity: '*' },
            connector: 'webhook',
            options: { url: 'http://127.0.0.1:9/x' },
          },
        ],
        webhooks: { shop: { secret: FILE_SECRET } },
      }),
    );
    // Secrets from both places: the config file (shop) and SLUICE_WEBHOOK_SECRETS (erp).
    const config = loadConfig({
      DATABASE_URL: db.url,
      SLUICE_CONFIG: configPath,
      SLUICE_WEBHOOK_SECRETS: `erp:${ENV_SECRET}`,
      SLUICE_WEBHOOK_BODY_LIMIT: '4096',
      SLUICE_LOCAL_KAFKA: 'off',
      SLUICE_API_KEYS: TEST_KEY,
      SLUICE_HOME: home,
      PORT: '0',
      HOST: '127.0.0.1',
      // A drain that never calls out during this file: the rows stay where the assertions look.
      SLUICE_POLL_MS: '600000',
    });
    svc = await startService(config, createLogger('warn'));
    await svc.drain.stop();
  });
  afterAll(async () => {
    await svc?.stop();
    await db?.drop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('accepts a signed change from the config-file source, durable before the 202', async () => {
    const raw = JSON.stringify({ entity: 'order', op: 'insert', id: 'o-1', payload: { total: 12 } });
    const res = await post('shop', raw);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 1, duplicate: false });
    const [log] = (await db.pool.query(`SELECT * FROM event_log WHERE ticket = $1`, [res.body.ticket])).rows;
    expect(log).toMatchObject({
      entity: 'order',
      record_id: 'o-1',
      op: 'insert',
      source: 'webhook:shop',
      payload: { total: 12 },
    });
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE ticket = $1`, [res.body.ticket]),
    ).toBe(1);
    const ticket = await fetch(`${svc.url}/v1/tickets/${res.body.ticket}`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    expect(((await ticket.json()) as { accepted: number }).accepted).toBe(1);
  });

  it('accepts the env source with a list of ids, and the signature is over the raw bytes', async () => {
    // Whitespace and key order as sent: a re-serialised body would not match the signature.
    const raw = '{ "ids": ["e-1","e-2" ,"e-3"],\n  "op": "update", "entity": "invoice" }';
    const res = await post('erp', raw);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(3);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE source = 'webhook:erp'`)).toBe(3);
  });

  it('a repeated deliveryId adds nothing and answers with the first ticket', async () => {
    const raw = JSON.stringify({ entity: 'order', op: 'update', ids: ['d-1', 'd-2'], deliveryId: 'evt_42' });
    const first = await post('shop', raw);
    expect(first.status).toBe(202);
    const before = await rowsNow();
    // Re-signed later with a new timestamp, as a sender's retry would be; and concurrent repeats.
    const again = await Promise.all(
      [1, 2, 3].map(() => post('shop', raw, sign(FILE_SECRET, raw, Math.floor(Date.now() / 1000) - 5))),
    );
    for (const r of again) {
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ticket: first.body.ticket, accepted: 2, duplicate: true });
    }
    expect(await rowsNow()).toBe(before);
    // The same delivery id from another source is another delivery.
    const other = await post('erp', raw);
    expect(other.status).toBe(202);
    expect(other.body.duplicate).toBe(false);
  });

  it('concurrent first deliveries of one deliveryId enqueue once', async () => {
    const raw = JSON.stringify({ entity: 'order', op: 'update', id: 'race-1', deliveryId: 'race' });
    const results = await Promise.all(Array.from({ length: 8 }, () => post('shop', raw)));
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE record_id = 'race-1'`)).toBe(1);
  });

  describe('bad requests add no row', () => {
    const good = JSON.stringify({ entity: 'order', op: 'update', id: 'x-1' });
    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<
      [string, () => Promise<{ status: number; body: { error: { code: string } } }>, number, string]
    > = [
      ['unknown source', () => post('nope', good, sign(FILE_SECRET, good)), 404, 'unknown_source'],
      ['hostile source', () => post('..%2F..%2Fetc', good, sign(FILE_SECRET, good)), 404, 'unknown_source'],
      ['no signature', () => post('shop', good, null), 401, 'invalid_signature'],
      ['garbage signature', () => post('shop', good, 'sha256=abc'), 401, 'invalid_signature'],
      [
        'wrong secret',
        () => post('shop', good, sign('another-secret-0123456', good)),
        401,
        'invalid_signature',
      ],
      ['other source secret', () => post('shop', good, sign(ENV_SECRET, good)), 401, 'invalid_signature'],
      [
        'body changed after signing',
        () => post('shop', good.replace('x-1', 'x-2'), sign(FILE_SECRET, good)),
        401,
        'invalid_signature',
      ],
      [
        'stale by 6 minutes',
        () => post('shop', good, sign(FILE_SECRET, good, now() - 360)),
        401,
        'invalid_signature',
      ],
      [
        '6 minutes in the future',
        () => post('shop', good, sign(FILE_SECRET, good, now() + 360)),
        401,
        'invalid_signature',
      ],
      ['malformed JSON, signed', () => post('shop', '{"entity":'), 400, 'invalid_json'],
      ['empty body, signed', () => post('shop', ''), 400, 'invalid_json'],
      [
        'unknown op',
        () => post('shop', JSON.stringify({ entity: 'order', op: 'merge', id: '1' })),
        400,
        'invalid_body',
      ],
      [
        'id and ids',
        () => post('shop', JSON.stringify({ entity: 'order', op: 'update', id: '1', ids: ['2'] })),
        400,
        'invalid_body',
      ],
      [
        'neither id nor ids',
        () => post('shop', JSON.stringify({ entity: 'order', op: 'update' })),
        400,
        'invalid_body',
      ],
      [
        'unknown field',
        () => post('shop', JSON.stringify({ entity: 'order', op: 'update', id: '1', x: 1 })),
        400,
        'invalid_body',
      ],
      [
        'over the body limit',
        () =>
          post('shop', JSON.stringify({ entity: 'order', op: 'update', id: '1', payload: 'x'.repeat(5000) })),
        413,
        'body_too_large',
      ],
      [
        'not JSON content type',
        () => post('shop', good, undefined, { 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
      ],
    ];
    it.each(cases)('%s', async (_name, send, status, code) => {
      const before = await rowsNow();
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(await rowsNow()).toBe(before);
    });

    it('needs no API key, and an API key is no substitute for the signature', async () => {
      const res = await post('shop', good, null, { authorization: `Bearer ${TEST_KEY}` });
      expect(res.status).toBe(401);
    });
  });
});
