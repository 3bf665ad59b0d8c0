import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerNotifier } from '../../src/capture/peer-notifier';
import { enqueue } from '../../src/db/queue/enqueue';
import { createTestDb, type TestDb } from '../helpers/db';
import { waitFor } from '../helpers/wait';

describe('waking other processes', () => {
  let db: TestDb;
  let listener: Client;
  let heard = 0;
  let lastHeardAt = 0;

  beforeAll(async () => {
    db = await createTestDb();
    listener = new Client({ connectionString: db.url });
    await listener.connect();
    listener.on('notification', () => {
      heard++;
      lastHeardAt = performance.now();
    });
    await listener.query('LISTEN sluice');
  });
  afterAll(async () => {
    await listener?.end();
    await db?.drop();
  });

  it('enqueue notifies in its transaction unless told not to', async () => {
    await enqueue(db.pool, { entity: 'a', op: 'update', source: 't', ids: ['1'] });
    await waitFor(() => heard === 1, 'one notification');
    await enqueue(db.pool, { entity: 'a', op: 'update', source: 't', ids: ['2'], notify: false });
    await enqueue(db.pool, { entity: 'a', op: 'update', source: 't', ids: ['1'] });
    await waitFor(() => heard === 2, 'the second notifying enqueue');
    expect(heard).toBe(2);
  });

  it('PeerNotifier folds a burst of pokes into few notifications, and at least one after the last', async () => {
    heard = 0;
    const peers = new PeerNotifier(db.pool);
    for (let i = 0; i < 100; i++) peers.poke();
    await waitFor(() => heard >= 1, 'a notification');
    // Give any trailing notification time to arrive, then count.
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toBeGreaterThanOrEqual(1);
    expect(heard).toBeLessThanOrEqual(2);
  });

  it('PeerNotifier under steady pokes notifies at most once per gap, and once more after the last poke', async () => {
    heard = 0;
    const peers = new PeerNotifier(db.pool, undefined, 50);
    const started = performance.now();
    for (let i = 0; i < 40; i++) {
      peers.poke();
      await new Promise((r) => setTimeout(r, 5));
    }
    const lastPokeAt = performance.now();
    const elapsed = lastPokeAt - started;
    await new Promise((r) => setTimeout(r, 300));
    // One at the first poke, then at most one per 50 ms gap, plus the one folding the last pokes.
    expect(heard).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
    expect(lastHeardAt).toBeGreaterThan(lastPokeAt - 5);
  });
});
