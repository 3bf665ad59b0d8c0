import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuMeter, DRAINER_APP, procCpuMs } from '../../bench/lib/cpu';
import { createTestDb, type TestDb } from '../helpers/db';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb({ migrate: false });
});
afterAll(async () => {
  await db.drop();
});

const burn = (c: Client) => c.query('SELECT count(*) FROM generate_series(1, 3000000)');

describe('bench cpuMeter on a real Postgres', () => {
  it("counts exactly the CPU the drainer's backend spent while metering, not another application's", async () => {
    const drainer = new Client({ connectionString: db.url, application_name: DRAINER_APP });
    const other = new Client({ connectionString: db.url, application_name: 'someone-else' });
    await drainer.connect();
    await other.connect();
    try {
      const pid = (await drainer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await burn(drainer); // before the meter starts: not counted
      const meter = await cpuMeter(db.url, { everyMs: 50 });
      const start = procCpuMs(pid)!;
      await burn(drainer);
      await burn(other);
      const spent = await meter.stop();
      const used = procCpuMs(pid)! - start;
      expect(used).toBeGreaterThan(0);
      expect(spent.postgresMs).toBe(used);
      expect(spent.backends).toBe(1);
      expect(spent.nodeMs).toBeGreaterThanOrEqual(0);
    } finally {
      await drainer.end();
      await other.end();
    }
  });
});
