import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db';

function sluice(url: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [resolve('bin/sluice.js'), ...args], {
    env: { ...process.env, DATABASE_URL: url, SLUICE_LOCAL_KAFKA: 'off', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((res) => child.once('exit', (code) => res({ code, out })));
}

describe('sluice processes (CLI)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('adds, changes and runs processes; refuses cycles and bad options with exit 2', async () => {
    const params = JSON.stringify({ entity: 'account', ids: ['1'] });
    const add = await sluice(db.url, [
      'processes',
      'add',
      'a',
      '--handler',
      'sync',
      '--kind',
      'single',
      '--params',
      params,
      '--json',
    ]);
    expect(add.code, add.out).toBe(0);
    expect(JSON.parse(add.out)).toMatchObject({
      name: 'a',
      handler: 'sync',
      kind: 'single',
      params: { entity: 'account', op: 'upsert' },
    });

    const [cycle, badKind, badJson, unknown, set, list] = await Promise.all([
      sluice(db.url, ['processes', 'set', 'a', '--depends-on', 'a']),
      sluice(db.url, ['processes', 'add', 'b', '--handler', 'sync', '--kind', 'weekly']),
      sluice(db.url, ['processes', 'add', 'b', '--handler', 'sync', '--kind', 'single', '--params', '{oops']),
      sluice(db.url, ['processes', 'run', 'ghost']),
      sluice(db.url, ['processes', 'set', 'a', '--priority', '7', '--disable', '--json']),
      sluice(db.url, ['processes', 'list', '--json']),
    ]);
    expect(cycle.code).toBe(2);
    expect(cycle.out).toMatch(/dependency cycle refused: a -> a \(dependency_cycle\)/);
    expect(badKind.code).toBe(2);
    expect(badKind.out).toMatch(/kind/);
    expect(badJson.code).toBe(2);
    expect(badJson.out).toMatch(/valid JSON/);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/no process named "ghost"/);
    expect(set.code, set.out).toBe(0);
    expect(JSON.parse(set.out)).toMatchObject({ priority: 7, enabled: false });
    expect(JSON.parse(list.out).items.map((p: { name: string }) => p.name)).toEqual(['a']);
  });

  it('shows and sets the shared slot limit and settings; refuses bad numbers and unknown zones with exit 2', async () => {
    const [setLimit, badLimit, badHorizon, badZone] = await Promise.all([
      sluice(db.url, ['processes', 'limit', '7', '--json']),
      sluice(db.url, ['processes', 'limit', 'seven']),
      sluice(db.url, ['processes', 'settings', '--reserve-horizon', '-1']),
      sluice(db.url, [
        'processes',
        'add',
        'z',
        '--handler',
        'sync',
        '--kind',
        'single',
        '--time-zone',
        'Nowhere/Land',
      ]),
    ]);
    expect(setLimit.code, setLimit.out).toBe(0);
    expect(JSON.parse(setLimit.out)).toMatchObject({ maxActive: 7, updatedBy: 'cli' });
    expect(badLimit.code).toBe(2);
    expect(badLimit.out).toMatch(/must be an integer/);
    expect(badHorizon.code).toBe(2);
    expect(badHorizon.out).toMatch(/reserveHorizonMinutes/);
    expect(badZone.code).toBe(2);
    expect(badZone.out).toMatch(/IANA time zone/);
    const [limit, settings, status] = await Promise.all([
      sluice(db.url, ['processes', 'limit']),
      sluice(db.url, ['processes', 'settings', '--default-run', '30', '--json']),
      sluice(db.url, ['status']),
    ]);
    expect(limit.out).toMatch(/^slot limit 7$/m);
    expect(JSON.parse(settings.out)).toMatchObject({ maxActive: 7, defaultRunMinutes: 30 });
    expect(status.out).toMatch(/planner: 0 of 7 slot\(s\) active/);
  });
});
