import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/db/queue/enqueue';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api } from '../helpers/service';
import { spawnSluice, type SluiceProcess } from '../helpers/sluice-process';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const EVENTS = 20_000;
const KILLS = 5;

/**
 * kill -9 of the drain leader at 5 random moments of a 20,000-event run, with real `sluice start`
 * processes: every event is delivered at least once, duplicates stay within what the killed leader
 * had claimed and not settled, and a standby takes over each time.
 */
describe('drain failover under kill -9', () => {
  let db: TestDb;
  let sink: Sink;
  const procs = new Map<string, SluiceProcess>();
  let seq = 0;

  const routes = () => [
    {
      name: 'crm',
      match: { entity: 'account' },
      connector: 'webhook',
      options: { url: `${sink.url}/hook` },
      concurrency: 8,
    },
  ];
  async function spawn(): Promise<void> {
    const name = `p${++seq}`;
    const proc = await spawnSluice({
      databaseUrl: db.url,
      kafkaBrokers: null,
      routes: routes(),
      env: { SLUICE_INSTANCE: name, SLUICE_LEADER_TTL_MS: '1500', SLUICE_POLL_MS: '200' },
    });
    procs.set(name, proc);
  }
  async function leaderName(): Promise<{ name: string; term: number } | null> {
    const { rows } = await db.pool.query<{ holder: string; term: string }>(
      `SELECT holder, term FROM sluice_leader WHERE name = 'drain' AND expires_at > now()`,
    );
    return rows[0] && procs.has(rows[0].holder) ? { name: rows[0].holder, term: Number(rows[0].term) } : null;
  }

  beforeAll(async () => {
    db = await createTestDb();
    // A little latency per call keeps the run long enough for five kills.
    sink = await startSink(() => ({ delayMs: 3 }));
  });
  afterAll(async () => {
    for (const p of procs.values()) p.kill('SIGKILL');
    await Promise.all([...procs.values()].map((p) => p.exited));
    await sink?.close();
    await db?.drop();
  });

  it('delivers all 20,000 events at least once across 5 leader kills, each followed by a standby taking over', async () => {
    await Promise.all([spawn(), spawn()]);
    let inFlightAtKills = 0;
    const takeovers: Array<{ killed: string; by: string; ms: number }> = [];
    const perPhase = EVENTS / KILLS;
    for (let k = 0; k < KILLS; k++) {
      await enqueue(db.pool, {
        entity: 'account',
        op: 'update',
        source: 'chaos',
        ids: Array.from({ length: perPhase }, (_, i) => `k${k}-${i}`),
      });
      // A random moment: after 10-60% of this phase's events reached the sink.
      const target = sink.requests.length + Math.floor(perPhase * (0.1 + Math.random() * 0.5));
      await waitFor(() => sink.requests.length >= target, `phase ${k}: deliveries under way`, {
        timeoutMs: 60_000,
      });
      const leader = await waitFor(leaderName, 'a live leader');
      const victim = procs.get(leader.name)!;
      victim.kill('SIGKILL');
      const killedAt = Date.now();
      await victim.exited;
      procs.delete(leader.name);
      // What the dead leader had claimed and not settled: the most that can be delivered twice.
      inFlightAtKills += await count(
        db.pool,
        `SELECT count(*) AS n FROM event_queue WHERE state = 'running' AND locked_by = $1`,
        [leader.name],
      );
      const replacement = spawn(); // keep a standby for the next kill
      const next = await waitFor(
        async () => {
          const l = await leaderName();
          return l && l.name !== leader.name && l.term > leader.term ? l : null;
        },
        `a standby takes over from ${leader.name}`,
        { timeoutMs: 30_000 },
      );
      takeovers.push({ killed: leader.name, by: next.name, ms: Date.now() - killedAt });
      await replacement;
    }

    await waitFor(
      async () => (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state <> 'done'`)) === 0,
      'every row done',
      { timeoutMs: 60_000 },
    );
    const expected = (await db.pool.query<{ event_id: string }>(`SELECT event_id FROM event_queue`)).rows.map(
      (r) => r.event_id,
    );
    expect(expected).toHaveLength(EVENTS);
    const seen = new Map<string, number>();
    for (const r of sink.requests) {
      const id = (JSON.parse(r.body) as { eventId: string }).eventId;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const missing = expected.filter((id) => !seen.has(id));
    expect(missing).toEqual([]);
    const duplicates = sink.requests.length - seen.size;
    console.log(
      `failover: ${sink.requests.length} calls for ${EVENTS} events, ${duplicates} duplicates, ` +
        `${inFlightAtKills} in flight at the kills; takeovers ${JSON.stringify(takeovers)}`,
    );
    expect(duplicates).toBeLessThanOrEqual(inFlightAtKills);
    expect(takeovers).toHaveLength(KILLS);
    // The survivor reports itself as the leader.
    const last = await leaderName();
    const status = await api(procs.get(last!.name)!, 'GET', '/v1/status');
    expect(status.body.consumer.role).toBe('leader');
    // Seven process starts and five takeovers: about 45 s on an idle 2-core machine.
  }, 110_000);
});
