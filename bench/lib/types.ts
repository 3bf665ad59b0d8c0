import type { BenchSink } from './sink';
import type { freshDatabase } from './database';

/** One point of the backlog chart: drain rate and/or latency measured at one backlog size. */
export interface ChartPoint {
  /** Line name, e.g. "sluice", "graphile-worker". */
  series: string;
  backlog: number;
  eventsPerSec?: number;
  /** Median time from commit to delivery at the sink. */
  latencyMs?: number;
}

export interface ScenarioResult {
  /** Stable key, unique in a run; other results name it in `compareTo`. */
  id: string;
  name: string;
  unit: string;
  value: number;
  /** 'higher' for rates (default), 'lower' for latencies: decides how ratios read. */
  better?: 'higher' | 'lower';
  /** Ids of peer or limit results of the same run to report ratios against (missing ones are skipped). */
  compareTo?: string[];
  /** Filled by the report: value / reference value, per compared result's name. */
  ratios?: Record<string, number>;
  chart?: ChartPoint[];
  detail?: Record<string, unknown>;
}

export interface BenchContext {
  /** The shared loopback sink, in its own process; `reset()` before measuring. */
  sink: BenchSink;
  /** A fresh database on the run's Postgres server, dropped by `drop()`. */
  freshDatabase: typeof freshDatabase;
  /** The callout concurrency every scenario uses, so peers and limits compare like with like. */
  concurrency: number;
  log(msg: string): void;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: BenchContext, opts: { quick: boolean }): Promise<ScenarioResult[]>;
}
