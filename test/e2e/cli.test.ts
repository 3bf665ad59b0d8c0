import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let env: Record<string, string> = {};
function sluice(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [resolve('bin/sluice.js'), ...args],
      { env: { ...process.env, ...env, SLUICE_LOCAL_KAFKA: 'off', LOG_LEVEL: 'warn' }, timeout: 60_000 },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Subcommand names from a commander help text. */
const commandsIn = (help: string) =>
  [...(help.split(/^Commands:$/m)[1] ?? '').matchAll(/^ {2}([a-z][\w-]*)/gm)]
    .map((m) => m[1])
    .filter((c) => c !== 'help');

/** At most `n` at a time: each run is a whole Node + tsx start-up. */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

describe('the sluice CLI: every command has --help and --json, and refuses bad input with exit 2', () => {
  let db: TestDb;
  let leaves: string[][] = [];
  const helpOf = new Map<string, string>();

  beforeAll(async () => {
    db = await createTestDb();
    env = { DATABASE_URL: db.url };
    // Walk the command tree from `sluice --help`.
    const walk = async (path: string[]): Promise<void> => {
      const help = await sluice([...path, '--help']);
      expect(help.code, `${path.join(' ')} --help`).toBe(0);
      const subs = commandsIn(help.stdout);
      helpOf.set(path.join(' '), help.stdout);
      if (subs.length === 0) leaves.push(path);
      // Two CLI processes at a time: each is a whole Node + tsx start-up, and other test files share the cores.
      await pool(subs, 2, (s) => walk([...path, s]));
    };
    await walk([]);
    leaves = leaves.filter((l) => l.length > 0).sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('finds the commands, each with --help that documents --json', async () => {
    const names = leaves.map((l) => l.join(' '));
    console.log(`cli: ${names.length} commands: ${names.join(', ')}`);
    for (const expected of ['start', 'migrate', 'status', 'push', 'dlq list', 'dlq replay'])
      expect(names).toContain(expected);
    // Each leaf's --help already ran (exit 0) while walking the tree.
    for (const name of names) {
      expect(helpOf.get(name), `${name} --help`).toMatch(/Usage: sluice /);
      expect(helpOf.get(name), `${name} --help lists --json`).toContain('--json');
    }
  });

  it('exits 2 with a clear message for an unknown option on every command', async () => {
    const runs = await pool(leaves, 2, (l) => sluice([...l, '--no-such-option']));
    runs.forEach((r, i) => {
      expect(r.code, leaves[i].join(' ')).toBe(2);
      // Commands with required options name the first one missing; the others name the unknown option.
      expect(r.stderr).toMatch(/unknown option '--no-such-option'|required option '--\w+/);
    });
    const unknown = await sluice(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it.each([
    [['push', '--entity', 'account', '--op', 'merge', '--ids', '1'], /--op.*must be one of/],
    [['dlq', 'list', '--limit', '0'], /--limit.*1 to 1000/],
    [['dlq', 'replay'], /give --id, --route or --since/],
  ])('sluice %j -> exit 2', async (args, message) => {
    const r = await sluice(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('dlq list and replay work against a real database, as JSON', async () => {
    await db.pool.query(
      `INSERT INTO event_queue (event_id, route, entity, record_id, op, source, state, attempts, last_error, last_status, done_at)
       SELECT gen_random_uuid(), r, 'account', 'a' || i, 'update', 'api', 'dead', 3, 'HTTP 500', 500, now()
         FROM generate_series(1, 3) i, unnest(ARRAY['crm', 'erp']) r`,
    );
    const list = await sluice(['dlq', 'list', '--route', 'crm', '--json']);
    expect(list.code).toBe(0);
    const items = JSON.parse(list.stdout).items;
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ route: 'crm', lastStatus: 500, attempts: 3 });

    const replay = await sluice(['dlq', 'replay', '--route', 'erp', '--json']);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({ replayed: 3 });
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'pending' AND attempts = 0`),
    ).toBe(3);
  });
});
