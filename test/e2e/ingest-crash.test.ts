import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_KEY } from '../helpers/service';
import { spawnSluice, type SluiceProcess } from '../helpers/sluice-process';

const CONNECTIONS = 50;

/**
 * kill -9 of a real `sluice start` in the middle of a burst of single-id pushes (group commit at work):
 * a 202 is sent only after its group's commit, so every id that got one is in the queue afterwards.
 * Ids that got no answer may or may not be.
 */
describe('group commit under kill -9', () => {
  let db: TestDb;
  let proc: SluiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    proc?.kill('SIGKILL');
    await proc?.exited;
    await db?.drop();
  });

  it('every id that got a 202 before the kill is in event_log and event_queue afterwards', async () => {
    proc = await spawnSluice({
      databaseUrl: db.url,
      kafkaBrokers: null,
      // Nothing answers there: rows stay in the queue (retried), where the test looks for them.
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: 'http://127.0.0.1:9/x' },
        },
      ],
      env: { SLUICE_INGEST_RATE_LIMIT: '0' },
    });
    const url = `${proc.url}/v1/events`;
    const accepted: string[] = [];
    let sent = 0;
    let dead = false;
    const worker = async () => {
      while (!dead) {
        const id = `k-${sent++}`;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}` },
            body: JSON.stringify({ entity: 'account', op: 'update', ids: [id] }),
          });
          if (res.status === 202) accepted.push(id);
          else await res.body?.cancel();
        } catch {
          dead = true; // the process is gone: the connection was refused or cut
        }
      }
    };
    const workers = Array.from({ length: CONNECTIONS }, worker);
    // Kill once the burst is well under way (at least 300 answers), whatever the machine's speed.
    const started = Date.now();
    while (accepted.length < 300 && Date.now() - started < 30_000)
      await new Promise((r) => setTimeout(r, 20));
    proc.kill('SIGKILL');
    await proc.exited;
    await Promise.all(workers);
    expect(accepted.length).toBeGreaterThanOrEqual(300);
    // Requests were in flight at the kill: more were sent than answered.
    expect(sent).toBeGreaterThan(accepted.length);

    const logged = await db.pool.query<{ record_id: string }>(
      'SELECT DISTINCT record_id FROM event_log WHERE record_id = ANY($1)',
      [accepted],
    );
    const queued = await db.pool.query<{ record_id: string }>(
      'SELECT DISTINCT record_id FROM event_queue WHERE record_id = ANY($1)',
      [accepted],
    );
    const missing = (found: { record_id: string }[]) => {
      const set = new Set(found.map((r) => r.record_id));
      return accepted.filter((id) => !set.has(id));
    };
    expect(missing(logged.rows)).toEqual([]);
    expect(missing(queued.rows)).toEqual([]);
  }, 180_000);
});
