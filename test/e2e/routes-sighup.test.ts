import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db';
import { api } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { spawnSluice, type SluiceProcess } from '../helpers/sluice-process';
import { waitFor } from '../helpers/wait';

const route = (url: string) => ({
  name: 'crm',
  match: { entity: 'account' },
  connector: 'webhook',
  options: { url },
});

describe('sluice start: SIGHUP reloads the route file', () => {
  let db: TestDb;
  let sink: Sink;
  let proc: SluiceProcess;
  const deliverTo = async (path: string, id: string) => {
    const before = sink.requests.filter((r) => r.path === path).length;
    expect(
      (await api(proc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids: [id] })).status,
    ).toBe(202);
    await waitFor(
      () => sink.requests.filter((r) => r.path === path).length > before,
      `a delivery to ${path}`,
    );
  };

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    proc = await spawnSluice({
      databaseUrl: db.url,
      kafkaBrokers: null,
      routes: [route(`${sink.url}/old`)],
      // Only the signal reloads here, not the file watch.
      env: { SLUICE_CONFIG_WATCH_MS: '0', LOG_FORMAT: 'json' },
    });
  });

  afterAll(async () => {
    if (proc) await proc.stop();
    await sink?.close();
    await db?.drop();
  });

  it('a bad file on SIGHUP keeps the process and its routes running and logs why', async () => {
    await deliverTo('/old', 'a1');
    writeFileSync(proc.configPath, JSON.stringify({ routes: [{ ...route('not a url'), name: 'crm' }] }));
    proc.kill('SIGHUP');
    await waitFor(
      () => proc.output().includes('config reload refused; the running config stays'),
      'the refusal logged',
    );
    expect(proc.output()).toContain('route \\"crm\\": options.url');
    expect(proc.child.exitCode).toBeNull();
    await deliverTo('/old', 'a2');
  });

  it('a good file on SIGHUP is applied: deliveries go to the new URL, the process keeps running', async () => {
    writeFileSync(proc.configPath, JSON.stringify({ routes: [route(`${sink.url}/new`)] }));
    proc.kill('SIGHUP');
    await waitFor(
      async () => (await api(proc, 'GET', '/v1/routes/crm')).body.config?.options?.url === `${sink.url}/new`,
      'the new URL applied',
    );
    await deliverTo('/new', 'a3');
    expect(proc.child.exitCode).toBeNull();
  });
});
