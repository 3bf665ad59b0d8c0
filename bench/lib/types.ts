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

/** The lowest and highest value of one figure across the runs of `--repeat`. */
export interface Spread {
  min: number;
  max: number;
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
  /** Named parts of `value` printed beside it, e.g. CPU per 1,000 events: { node: 0.9, Postgres: 0.4 }. */
  parts?: Record<string, number>;
  /** `--repeat`: how many runs produced this result (value, ratios, parts and numeric details are medians). */
  runs?: number;
  /** `--repeat`: min-max across the runs, keyed 'value', 'ratio:<id>', 'part:<name>', 'detail:<key>'. */
  spreads?: Record<string, Spread>;
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
