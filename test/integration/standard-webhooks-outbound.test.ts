import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify as verifySluice } from '../../src/lib/signature';
import { createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink, type SinkRequest } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const OLD = whsec();
const NEW = whsec();
const OTHER = whsec();
const PLAIN = 'plain-secret-0123456789';

/** The Standard Webhooks headers as the reference library reads them. */
const standardHeaders = (r: SinkRequest) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});
/** Verifies with the specification's reference library (npm standardwebhooks), not with Sluice's code. */
const referenceVerifies = (secret: string, r: SinkRequest) => {
  try {
    new Webhook(secret).verify(r.body, standardHeaders(r));
    return true;
  } catch {
    return false;
  }
};

describe('webhook connector signing, checked by the Standard Webhooks reference library at a loopback sink', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const at = (path: string) => sink.requests.filter((r) => r.path === path);
  /** The requests at `path` once `n` arrived. */
  const arrived = async (path: string, n = 1) => {
    await waitFor(() => at(path).length >= n, `${n} callout(s) at ${path}`);
    return at(path);
  };
  const push = (entity: string, id: string) =>
    api(svc, 'POST', '/v1/events', { entity, op: 'update', ids: [id], payload: { n: 1 } });

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    const hook = (name: string, options: Record<string, unknown>) => ({
      name,
      match: { entity: name },
      connector: 'webhook',
      options: { url: `${sink.url}/${name}`, ...options },
      retry: { maxAttempts: 5, baseMs: 20, maxMs: 50 },
    });
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        hook('std', { secret: NEW }),
        hook('rotating', { secret: [NEW, OLD] }),
        hook('legacy', { secret: PLAIN }),
        hook('explicit-sluice', { secret: NEW, signing: 'sluice' }),
        hook('retried', { secret: NEW, signing: 'standard' }),
      ],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('a whsec_ secret signs per Standard Webhooks: the reference library verifies it, webhook-id is <eventId>:<route>', async () => {
    expect((await push('std', 's-1')).status).toBe(202);
    const [r] = await arrived('/std');
    expect(referenceVerifies(NEW, r)).toBe(true);
    expect(referenceVerifies(OTHER, r)).toBe(false);
    const body = JSON.parse(r.body);
    expect(r.headers['webhook-id']).toBe(`${body.eventId}:std`);
    expect(r.headers['webhook-id']).toBe(r.headers['idempotency-key']);
    expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(r.headers['x-sluice-signature']).toBeUndefined();
  });

  it('during a rotation both signatures are sent, space-separated; a verifier holding either secret accepts', async () => {
    await push('rotating', 'r-1');
    const [r] = await arrived('/rotating');
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(referenceVerifies(OLD, r)).toBe(true);
    expect(referenceVerifies(NEW, r)).toBe(true);
    expect(referenceVerifies(OTHER, r)).toBe(false);
  });

  it('a secret that is not whsec_ keeps the Sluice signature (existing configs), as does signing "sluice"', async () => {
    await push('legacy', 'l-1');
    await push('explicit-sluice', 'e-1');
    const [legacy] = await arrived('/legacy');
    const [explicit] = await arrived('/explicit-sluice');
    for (const [r, secret] of [
      [legacy, PLAIN],
      [explicit, NEW],
    ] as const) {
      expect(verifySluice(secret, r.body, String(r.headers['x-sluice-signature']))).toEqual({ ok: true });
      expect(r.headers['webhook-signature']).toBeUndefined();
    }
  });

  it('a retried callout keeps its webhook-id and both attempts verify', async () => {
    let failed = false;
    const before = sink.respond;
    sink.respond = (req) => {
      if (req.path === '/retried' && !failed) {
        failed = true;
        return { status: 503 };
      }
      return before(req);
    };
    await push('retried', 't-1');
    const tries = await arrived('/retried', 2);
    expect(tries.map((r) => r.headers['webhook-id'])).toEqual([
      tries[0].headers['webhook-id'],
      tries[0].headers['webhook-id'],
    ]);
    expect(tries.every((r) => referenceVerifies(NEW, r))).toBe(true);
  });
});
