import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';

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

describe('sluice routes (CLI)', () => {
  let db: TestDb;
  let dir: string;
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };
  beforeAll(async () => {
    db = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), 'sluice-routes-cli-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('add, list, pause (shown by sluice status), resume and delete a route; the version moves on every change', async () => {
    const route = {
      name: 'crm',
      match: { entity: 'account' },
      connector: 'webhook',
      options: { url: 'http://127.0.0.1:9/hook', secret: 's'.repeat(32) },
    };
    const version = () => count(db.pool, 'SELECT version AS n FROM sluice_route_version');
    const v0 = await version();
    const add = await sluice(db.url, ['routes', 'add', file('crm.json', route), '--json']);
    expect(add.code, add.out).toBe(0);
    expect(JSON.parse(add.out)).toEqual({ name: 'crm', replaced: false });
    expect(await version()).toBe(v0 + 1);
    // The enqueue function's mirror follows in the same transaction.
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM sluice_route WHERE name = 'crm' AND enabled`),
    ).toBe(1);

    const again = await sluice(db.url, ['routes', 'add', file('crm.json', route)]);
    expect(again.code).toBe(2);
    expect(again.out).toContain('route "crm" exists');

    expect((await sluice(db.url, ['routes', 'pause', 'crm'])).out).toContain('route crm paused');
    const list = await sluice(db.url, ['routes', 'list', '--json']);
    const [view] = JSON.parse(list.out);
    expect(view).toMatchObject({
      name: 'crm',
      paused: true,
      closed: 'paused',
      pausedBy: expect.stringMatching(/^cli/),
    });
    // Secrets in options never leave the database through list/show.
    expect(view.config.options.secret).toBe('[masked]');
    // `sluice status` says why the route's rows wait.
    expect((await sluice(db.url, ['status'])).out).toMatch(/paused \(their rows wait\): crm by cli/);
    expect((await sluice(db.url, ['routes', 'resume', 'crm'])).out).toContain('route crm resumed');
    const show = await sluice(db.url, ['routes', 'show', 'crm']);
    expect(JSON.parse(show.out)).toMatchObject({ name: 'crm', paused: false });

    const del = await sluice(db.url, ['routes', 'delete', 'crm']);
    expect(del.code, del.out).toBe(0);
    expect((await sluice(db.url, ['routes', 'show', 'crm'])).code).toBe(2);
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM sluice_route WHERE name = 'crm' AND enabled`),
    ).toBe(0);
  });

  it('a bad route file, an unknown route and an unknown option exit 2 with the reason', async () => {
    const bad = await sluice(db.url, [
      'routes',
      'add',
      file('bad.json', { name: 'x', match: { entity: 'a' }, connector: 'webhook', options: {} }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('route "x": options.url');
    const missing = await sluice(db.url, ['routes', 'pause', 'nope']);
    expect(missing).toMatchObject({ code: 2, out: expect.stringContaining('no route "nope"') });
    const unknown = await sluice(db.url, ['routes', 'delete', 'nope', '--forse']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain("unknown option '--forse'");
  });
});
