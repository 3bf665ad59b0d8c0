import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, pidsWithCommandLine } from '../../src/infra/processes';
import { createTestDb, type TestDb } from '../helpers/db';
import { freeKafkaPort, freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

/** `sluice start` (the compiled bin) on `home`, with the local broker and the test's database. */
function start(home: string, db: string, kafkaPort: number) {
  return freePort().then((port) => {
    const child = spawn(process.execPath, [resolve('bin/sluice.js'), 'start'], {
      env: {
        ...process.env,
        DATABASE_URL: db,
        KAFKA_BROKERS: '',
        SLUICE_LOCAL_KAFKA: 'auto',
        SLUICE_KAFKA_PORT: String(kafkaPort),
        SLUICE_HOME: home,
        SLUICE_API_KEYS: 'second-start-key-0123456789',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | string>((res) => child.once('exit', (c, s) => res(c ?? s ?? -1)));
    return { child, exited, out: () => out, url: `http://127.0.0.1:${port}` };
  });
}

describe("the broker's data folder lock", () => {
  let db: TestDb;
  let home: string;
  beforeAll(async () => {
    db = await createTestDb();
    home = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
    mkdirSync(resolve('.sluice', 'kafka-jars'), { recursive: true });
    symlinkSync(resolve('.sluice', 'kafka-jars'), join(home, 'kafka-jars'));
  });
  afterAll(async () => {
    for (const pid of pidsWithCommandLine(home)) process.kill(pid, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
    await db?.drop();
  });

  it('a second start on the same folder is refused while the first runs, and never starts a second broker', async () => {
    const kafkaPort = await freeKafkaPort();
    const first = await start(home, db.url, kafkaPort);
    try {
      // Not ready in time, or exited: fail with what the first start printed (its last 4,000 characters).
      await Promise.race([
        waitFor(async () => (await fetch(`${first.url}/readyz`).catch(() => null))?.ok, 'first up', {
          timeoutMs: 180_000,
          intervalMs: 200,
        }),
        first.exited.then((code) => {
          throw new Error(`the first start exited (${code}) before it was ready`);
        }),
      ]).catch((err: Error) => {
        throw new Error(`${err.message}; its output:\n${first.out().slice(-4000)}`);
      });
      const brokers = pidsWithCommandLine(join(home, 'kafka'));
      expect(brokers).toHaveLength(1);
      const second = await start(home, db.url, kafkaPort);
      expect(await second.exited).toBe(1);
      expect(second.out()).toContain(`is in use by Sluice process ${first.child.pid}`);
      expect(pidsWithCommandLine(join(home, 'kafka'))).toEqual(brokers);
      expect(isAlive(brokers[0])).toBe(true);
      expect((await fetch(`${first.url}/readyz`)).ok).toBe(true);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
    expect(pidsWithCommandLine(home)).toEqual([]);
  }, 300_000);
});
