// CPU time spent by a drainer: its own process (process.cpuUsage(), or /proc/<pid>/stat for a child) plus
// the Postgres backends its connections used, found in pg_stat_activity by their application_name and read
// from /proc/<backend pid>/stat (utime + stime). Needs the Postgres server on this machine (its backends
// visible in /proc); otherwise the Postgres part is reported as null.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import type { ScenarioResult } from './types';

/** The application_name the drainer's connections carry, so the meter finds their backends. */
export const DRAINER_APP = 'bench-drainer';

/** `url` with application_name=DRAINER_APP (pg reads it from the connection string). */
export function drainerUrl(url: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', DRAINER_APP);
  return u.toString();
}

let tickMs: number | null = null;
function clockTickMs(): number {
  if (tickMs === null) {
    try {
      tickMs = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
    } catch {
      tickMs = 10; // USER_HZ is 100 on every mainstream Linux
    }
  }
  return tickMs;
}

/** utime + stime of `pid` in ms from /proc/<pid>/stat, or null when it is gone or unreadable. */
export function procCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is the 3rd field overall; utime and stime are the 14th and 15th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * clockTickMs();
  } catch {
    return null;
  }
}

export interface CpuSpent {
  /** The drainer's process, ms. */
  nodeMs: number;
  /** Its Postgres backends, ms (null when their /proc entries are not readable here). */
  postgresMs: number | null;
  /** How many distinct backends carried its application_name. */
  backends: number;
}

/**
 * Starts metering the drainer on database `dbUrl`: samples its backends (those of that database whose
 * application_name is one of `apps`, DRAINER_APP by default) every `everyMs` (a backend that exits between two samples
 * loses at most that much CPU; pools keep their connections while a drain runs). Backends present at the
 * start count from their reading then, later ones from zero. `stop()` takes a last sample and returns the
 * CPU spent since the start. `pid` meters a child process instead of this one.
 */
export async function cpuMeter(
  dbUrl: string,
  opts: { apps?: string[]; pid?: number; everyMs?: number } = {},
) {
  const database = new URL(dbUrl).pathname.slice(1);
  const apps = opts.apps ?? [DRAINER_APP];
  const client = new Client({ connectionString: dbUrl, application_name: 'bench-cpu-meter' });
  client.on('error', () => undefined);
  await client.connect();
  const base = new Map<number, number>();
  const last = new Map<number, number>();
  // A backend can exit between the pg_stat_activity query and its /proc read (that read is skipped); the
  // Postgres part is unreadable only when backends were seen and none could ever be read (another machine).
  let seen = 0;
  let read = 0;
  const sample = async (first: boolean) => {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = ANY($2)',
      [database, apps],
    );
    for (const { pid } of rows) {
      const ms = procCpuMs(pid);
      seen++;
      if (ms === null) continue;
      read++;
      if (!base.has(pid)) base.set(pid, first ? ms : 0);
      last.set(pid, ms);
    }
  };
  const nodeStart = opts.pid ? (procCpuMs(opts.pid) ?? 0) : 0;
  const usage = process.cpuUsage();
  await sample(true);
  let busy: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    busy = busy.then(() => sample(false)).catch(() => undefined);
  }, opts.everyMs ?? 250);
  return {
    stop: async (): Promise<CpuSpent> => {
      clearInterval(timer);
      await busy;
      await sample(false).catch(() => undefined);
      const used = process.cpuUsage(usage);
      const nodeMs = opts.pid
        ? (procCpuMs(opts.pid) ?? nodeStart) - nodeStart
        : (used.user + used.system) / 1000;
      await client.end().catch(() => undefined);
      let postgresMs = 0;
      for (const [pid, b] of base) postgresMs += (last.get(pid) ?? b) - b;
      return { nodeMs, postgresMs: seen > 0 && read === 0 ? null : postgresMs, backends: base.size };
    },
  };
}

/**
 * The "CPU per 1,000 delivered events" result of one drainer: value = node + Postgres ms per 1,000 events
 * (lower is better), both parts beside it.
 */
export function cpuResult(
  id: string,
  who: string,
  events: number,
  cpu: CpuSpent,
  compareTo: string[] = [],
): ScenarioResult {
  const per1k = (ms: number) => Number(((ms / events) * 1000).toFixed(1));
  const node = per1k(cpu.nodeMs);
  const pg = cpu.postgresMs === null ? null : per1k(cpu.postgresMs);
  return {
    id,
    name: `CPU per 1,000 delivered events, ${who} (node process + Postgres backends; lower is better)`,
    unit: 'ms',
    value: Number((node + (pg ?? 0)).toFixed(1)),
    better: 'lower',
    parts: pg === null ? { node } : { node, Postgres: pg },
    compareTo,
    detail: { events, backends: cpu.backends, postgresReadable: pg !== null },
  };
}

/** One line for the scenario's log: "CPU per 1,000 events: node 412 ms + Postgres 230 ms (5 backends)". */
export function cpuLine(cpu: CpuSpent, events: number): string {
  const per1k = (ms: number) => ((ms / events) * 1000).toFixed(1);
  const pg = cpu.postgresMs === null ? 'unreadable' : `${per1k(cpu.postgresMs)} ms`;
  return `CPU per 1,000 events: node ${per1k(cpu.nodeMs)} ms + Postgres ${pg} (${cpu.backends} backends)`;
}
