import { describe, expect, it } from 'vitest';
import { runStopRounds } from '../helpers/stop-rounds';

// The short version of `npm run chaos:stops` (which does 10 stops per signal): real `npm start` processes
// with the embedded Postgres and the local broker, stopped while delivering 2,000 ids to a slow sink.
describe('stopping `npm start` by signal, then kill -9 and a restart', () => {
  it('SIGINT and SIGTERM to node and to npm end the broker and Postgres with no error line; a restart after kill -9 cleans up and the topic holds every change', async () => {
    const r = await runStopRounds({
      rounds: [
        { signal: 'SIGINT', target: 'node' },
        { signal: 'SIGTERM', target: 'node' },
        { signal: 'SIGINT', target: 'npm' },
        { signal: 'SIGTERM', target: 'npm' },
      ],
      log: (m) => console.log(`[stops] ${m}`),
    });
    for (const round of r.rounds) {
      expect(round.exit, `${round.signal} -> ${round.target}`).toBe(0);
      expect(round.leftovers, `${round.signal} -> ${round.target}: processes left`).toEqual([]);
      expect(round.errors, `${round.signal} -> ${round.target}: error lines`).toEqual([]);
      expect(round.locksLeft, `${round.signal} -> ${round.target}: locks left`).toEqual([]);
    }
    expect(r.orphanedByKill9).toBeGreaterThan(0);
    expect(r.restartCleanedUp).toBe(true);
    expect(r.brokersAfterRestart).toBe(1);
    expect(r.published).toBe(r.pushed);
    expect(r.missingFromTopic).toBe(0);
    expect(r.corruption).toBe(false);
    expect(r.finalLeftovers).toEqual([]);
  }, 600_000);
});
