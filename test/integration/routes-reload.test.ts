import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const route = (url: string, extra: object = {}) => ({
  name: 'crm',
  match: { entity: 'account' },
  connector: 'webhook',
  options: { url },
  ...extra,
});

describe('route file reload (file change, reload())', () => {
  let db: TestDb;
  let sink: Sink;
  let dir: string;
  let file: string;
  const logs: string[] = [];
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const write = (content: unknown) =>
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  const deliverTo = async (path: string, id: string) => {
    const before = sink.requests.filter((r) => r.path === path).length;
    await api(svc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids: [id] });
    await waitFor(
      () => sink.requests.filter((r) => r.path === path).length > before,
      `a delivery to ${path}`,
    );
  };

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    dir = mkdtempSync(join(tmpdir(), 'sluice-reload-'));
    file = join(dir, 'sluice.config.json');
    write({ routes: [route(`${sink.url}/v1`)], webhooks: { shop: { secret: 'a'.repeat(32) } } });
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      configFile: file,
      env: { SLUICE_CONFIG_WATCH_MS: '100', LOG_LEVEL: 'info' },
      logDestination: { write: (line) => void logs.push(line) },
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an edited route file is applied without a restart: deliveries go to the new URL', async () => {
    await deliverTo('/v1', 'a1');
    write({ routes: [route(`${sink.url}/v2`)], webhooks: { shop: { secret: 'a'.repeat(32) } } });
    await waitFor(
      async () => (await api(svc, 'GET', '/v1/routes/crm')).body.config.options.url.endsWith('/v2'),
      'the new URL applied',
    );
    await deliverTo('/v2', 'a2');
  });

  it('a bad file (unknown connector) is refused: the running routes stay and the log says why', async () => {
    write({ routes: [{ ...route(`${sink.url}/v3`), connector: 'nope' }] });
    const result = await svc.reload('test');
    expect(result.ok).toBe(false);
    expect(result.error).toContain('route "crm": connector: unknown "nope"');
    expect(logs.some((l) => l.includes('config reload refused; the running config stays'))).toBe(true);
    write('{ not json');
    expect((await svc.reload('test')).error).toContain('cannot parse');
    await deliverTo('/v2', 'a3');
  });

  it('an API change to a file route lasts through reloads until its entry in the file changes', async () => {
    write({ routes: [route(`${sink.url}/v2`)], webhooks: { shop: { secret: 'a'.repeat(32) } } });
    expect((await svc.reload('test')).ok).toBe(true);
    const patched = await api(svc, 'PATCH', '/v1/routes/crm', { options: { url: `${sink.url}/api` } });
    expect(patched.body).toMatchObject({ origin: 'file', config: { options: { url: `${sink.url}/api` } } });
    expect((await svc.reload('test')).ok).toBe(true);
    await deliverTo('/api', 'a4');
    write({ routes: [route(`${sink.url}/v4`)], webhooks: { shop: { secret: 'a'.repeat(32) } } });
    expect((await svc.reload('test')).ok).toBe(true);
    await deliverTo('/v4', 'a5');
  });

  it('webhook secrets are reloaded too: a source added to the file is accepted, a removed one refused', async () => {
    const { createHmac } = await import('node:crypto');
    const send = (source: string, secret: string) => {
      const body = JSON.stringify({ entity: 'account', op: 'update', id: 'w1' });
      const t = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
      return fetch(`${svc.url}/v1/webhooks/${source}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sluice-signature': `t=${t},v1=${sig}` },
        body,
      });
    };
    expect((await send('erp', 'b'.repeat(32))).status).toBe(404);
    write({ routes: [route(`${sink.url}/v4`)], webhooks: { erp: { secret: 'b'.repeat(32) } } });
    expect((await svc.reload('test')).ok).toBe(true);
    expect((await send('erp', 'b'.repeat(32))).status).toBe(202);
    expect((await send('shop', 'a'.repeat(32))).status).toBe(404);
  });
});
