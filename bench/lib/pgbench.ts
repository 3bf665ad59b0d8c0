import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** pgbench's version line, or null when it is not installed (Debian: apt-get install postgresql-client). */
export function pgbenchVersion(): string | null {
  const r = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export interface PgbenchRun {
  tps: number;
  transactions: number;
  /** Wall-clock ms (performance.timeOrigin based) when pgbench exited: the workload's end. */
  endedAt: number;
  /** CPU ms of the writers' Postgres backends per transaction; null when /proc cannot see them (remote server). */
  writerCpuMsPerTx: number | null;
}

const now = () => performance.timeOrigin + performance.now();

/** Utime + stime of a local process, ms; null when it is not visible. */
function cpuMs(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

/** Writes a pgbench custom script to a temp file and returns its path. */
export function pgbenchScript(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-pgbench-')), `${name}.sql`);
  writeFileSync(file, text);
  return file;
}

/**
 * Runs pgbench (`clients` connections, `threads` threads, `seconds` long, no vacuum, the given script,
 * `rate` transactions per second in all if given, else as fast as it can) against `url`; the CPU of its backends is sampled from /proc between its first and its last second.
 */
export async function runPgbench(
  url: string,
  o: { script: string; clients: number; threads: number; seconds: number; rate?: number },
): Promise<PgbenchRun> {
  const u = new URL(url);
  const db = u.pathname.slice(1);
  const args = ['-n', '-c', `${o.clients}`, '-j', `${o.threads}`, '-T', `${o.seconds}`, '-f', o.script];
  if (o.rate) args.push('-R', `${o.rate}`);
  args.push('-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), db);
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) || process.env.PGPASSWORD };
  const child = spawn('pgbench', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  const probe = new Client({ connectionString: url });
  await probe.connect();
  const sample = async () => {
    const { rows } = await probe.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND datname = current_database()`,
    );
    const cpu = rows.map((r) => cpuMs(r.pid));
    return { at: now(), pids: rows.map((r) => r.pid), cpu };
  };
  let first: Awaited<ReturnType<typeof sample>>;
  let last: { at: number; cpu: Array<number | null> };
  try {
    await new Promise((r) => setTimeout(r, 1000));
    first = await sample();
    await new Promise((r) => setTimeout(r, Math.max(0, o.seconds * 1000 - 2000)));
    last = { at: now(), cpu: first.pids.map(cpuMs) };
  } catch (err) {
    child.kill();
    throw err;
  } finally {
    await probe.end();
  }
  const code = await exited;
  const endedAt = now();
  const tps = Number(/tps = ([\d.]+) \(without/.exec(out)?.[1]);
  const transactions = Number(/actually processed: (\d+)/.exec(out)?.[1]);
  if (code !== 0 || !Number.isFinite(tps))
    throw new Error(`pgbench failed (exit ${code}): ${out.slice(-500)}`);
  let writerCpuMsPerTx: number | null = null;
  const [before, after] = [first.cpu, last.cpu];
  if (before.length && [...before, ...after].every((c) => c !== null)) {
    const used = after.reduce<number>((sum, c, i) => sum + c! - before[i]!, 0);
    writerCpuMsPerTx = Number((used / ((tps * (last.at - first.at)) / 1000)).toFixed(3));
  }
  return { tps, transactions, endedAt, writerCpuMsPerTx };
}
