import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { program } from '../../src/cli';
import { count, createTestDb, type TestDb } from '../helpers/db';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let env: Record<string, string> = {};
/** The real binary: a whole Node + tsx start-up each, so used for a sample, not for all commands. */
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

/** Every command of the tree, leaves and groups, as argv paths. */
function commandPaths(cmd: Command, path: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...path, c.name()], ...commandPaths(c, [...path, c.name()])]);
}

/**
 * Parses argv with the program `bin/sluice.js` runs, in this process: commander's exits become
 * exceptions and its output is captured. Only --help and rejected input are parsed here, so no
 * action (which would touch the database or exit) ever runs.
 */
async function parseInProcess(argv: string[]): Promise<{ exitCode: number; code: string; out: string }> {
  let out = '';
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) {
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (out += s) });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { exitCode: 0, code: 'parsed', out };
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return { exitCode: err.exitCode, code: err.code, out };
  }
}

describe('the sluice CLI: every command has --help and --json, and refuses bad input', () => {
  let db: TestDb;
  const paths = commandPaths(program);
  const leaves = paths.filter((p) =>
    paths.every((q) => q.length <= p.length || q.slice(0, p.length).join(' ') !== p.join(' ')),
  );

  beforeAll(async () => {
    db = await createTestDb();
    env = { DATABASE_URL: db.url };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('every command answers --help, and every leaf command documents --json', async () => {
    const names = leaves.map((l) => l.join(' '));
    console.log(`cli: ${names.length} commands: ${names.join(', ')}`);
    for (const expected of ['start', 'migrate', 'status', 'push', 'dlq list', 'dlq replay'])
      expect(names).toContain(expected);
    for (const path of paths) {
      const r = await parseInProcess([...path, '--help']);
      expect(r.code, `${path.join(' ')} --help`).toBe('commander.helpDisplayed');
      expect(r.out).toContain(`Usage: sluice ${path.join(' ')}`);
      if (leaves.includes(path)) expect(r.out, `${path.join(' ')} --help lists --json`).toContain('--json');
    }
  });

  it('every leaf command refuses an unknown option with a clear message and a non-zero exit, with all its required input given', async () => {
    // Values each command's parsers accept, so the unknown option is the only thing wrong.
    const good: Record<string, string> = { '--op': 'update' };
    for (const leaf of leaves) {
      const cmd = leaf.reduce<Command>((c, name) => c.commands.find((x) => x.name() === name)!, program);
      const args = cmd.registeredArguments.filter((a) => a.required).map(() => 'x');
      const required = cmd.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, good[o.long!] ?? 'x']);
      const r = await parseInProcess([...leaf, ...args, ...required, '--no-such-option']);
      expect(r.exitCode, leaf.join(' ')).not.toBe(0);
      expect(r.out, leaf.join(' ')).toMatch(/unknown option '--no-such-option'/);
      expect(r.out).toContain(`Usage: sluice ${leaf.join(' ')}`);
    }
  });

  it('status against a database without Sluice tables in its schema exits 1 with a message naming the schema and `sluice migrate`, no stack trace', async () => {
    const bare = await createTestDb({ migrate: false });
    try {
      const saved = env;
      env = { ...env, DATABASE_URL: bare.url };
      const res = await sluice(['status']).finally(() => (env = saved));
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/no Sluice tables in schema "sluice".*sluice migrate/);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await bare.drop();
    }
  });

  it('through bin/sluice.js: help exits 0, bad input exits 2 with the message', async () => {
    const [help, unknown, op, limit, replay] = await Promise.all([
      sluice(['--help']),
      sluice(['frobnicate']),
      sluice(['push', '--entity', 'account', '--op', 'merge', '--ids', '1']),
      sluice(['dlq', 'list', '--limit', '0']),
      sluice(['dlq', 'replay']),
    ]);
    expect(help.code).toBe(0);
    for (const name of ['start', 'push', 'dlq', 'status']) expect(help.stdout).toContain(name);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(op.code).toBe(2);
    expect(op.stderr).toMatch(/--op.*must be one of/);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toMatch(/--limit.*1 to 1000/);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/give --id, --route or --since/);
  });

  it('status and --help through bin/sluice.js load none of kafkajs, typeorm, fastify, zod, pino, axios (their module graphs)', async () => {
    // What the process required, read from require.cache at exit: a guard on the CLI's start-up time
    // that does not depend on how busy the machine is.
    const loaded = async (args: string[]) => {
      const script = `process.on('exit', () => console.error('LOADED ' + JSON.stringify(Object.keys(require.cache))));
        process.argv = [process.execPath, 'sluice', ...${JSON.stringify(args)}];
        require(${JSON.stringify(resolve('bin/sluice.js'))});`;
      const r = await new Promise<Run>((done) =>
        execFile(
          process.execPath,
          ['-e', script],
          { env: { ...process.env, ...env }, timeout: 60_000 },
          (err, stdout, stderr) =>
            done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      expect(r.code, r.stderr).toBe(0);
      const files: string[] = JSON.parse(/LOADED (.*)/.exec(r.stderr)![1]);
      return new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
    };
    const [status, help] = await Promise.all([loaded(['status', '--json']), loaded(['--help'])]);
    expect(status).toContain('pg');
    for (const heavy of ['kafkajs', 'typeorm', 'fastify', 'zod', 'pino', 'axios']) {
      expect(status, `status loads ${heavy}`).not.toContain(heavy);
      expect(help, `--help loads ${heavy}`).not.toContain(heavy);
    }
    expect([...help]).toEqual(['commander']);
  });

  it('dlq list and replay work against a real database, as JSON', async () => {
    await db.pool.query(
      `INSERT INTO event_queue (event_id, route, entity, record_id, op, source, state, attempts, last_error, last_status, done_at)
       SELECT gen_random_uuid(), r, 'account', 'a' || i, 'update', 'api', 'dead', 3, 'HTTP 500', 500, now()
         FROM generate_series(1, 3) i, unnest(ARRAY['crm', 'erp']) r`,
    );
    const [list, replay] = await Promise.all([
      sluice(['dlq', 'list', '--route', 'crm', '--json']),
      sluice(['dlq', 'replay', '--route', 'erp', '--json']),
    ]);
    expect(list.code).toBe(0);
    const items = JSON.parse(list.stdout).items;
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ route: 'crm', lastStatus: 500, attempts: 3 });
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({ replayed: 3 });
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'pending' AND attempts = 0`),
    ).toBe(3);
  });

  it('push records its changes with source cli (the API records api)', async () => {
    const r = await sluice(['push', '--entity', 'cli_src', '--op', 'insert', '--ids', 'p1,p2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: 2 });
    const { rows } = await db.pool.query(`SELECT DISTINCT source FROM event_log WHERE entity = 'cli_src'`);
    expect(rows).toEqual([{ source: 'cli' }]);
  });
});
