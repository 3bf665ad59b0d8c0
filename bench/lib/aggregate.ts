// `--repeat N`: folds N runs of the same scenarios into one result per id: the median of every figure
// (value, ratios, parts, numeric details, chart points) and its spread (min-max) across the runs.
// Ratios are computed inside each run first (value / reference of the same run), then median'd: a
// ratio of medians could pair a quiet run's Sluice with a noisy run's peer.
import type { ChartPoint, ScenarioResult, Spread } from './types';

/** Value / reference value of the same run for every result naming others in `compareTo`. */
export function computeRatios(results: ScenarioResult[]): ScenarioResult[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  return results.map((r) => {
    const ratios: Record<string, number> = { ...r.ratios };
    for (const id of r.compareTo ?? []) {
      const ref = byId.get(id);
      if (ref && ref !== r && ref.value > 0) ratios[ref.id] = r.value / ref.value;
    }
    return Object.keys(ratios).length ? { ...r, ratios } : r;
  });
}

const decimals = (v: number) => (Number.isInteger(v) ? 0 : (String(v).split('.')[1]?.length ?? 0));

/** The median of `values` (the mean of the middle two for an even count, one decimal finer than the inputs). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const m = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const d = Math.min(6, Math.max(...values.map(decimals)) + (s.length % 2 ? 0 : 1));
  return Number(m.toFixed(d));
}

const spreadOf = (values: number[]): Spread => ({ min: Math.min(...values), max: Math.max(...values) });

/** Median and spread of one numeric field over the results that have it, keyed into `spreads`. */
function fold(
  values: Array<number | undefined>,
  key: string,
  spreads: Record<string, Spread>,
): number | undefined {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!present.length) return undefined;
  spreads[key] = spreadOf(present);
  return median(present);
}

function foldRecord(
  records: Array<Record<string, unknown> | undefined>,
  prefix: string,
  spreads: Record<string, Spread>,
): Record<string, unknown> | undefined {
  if (!records.some(Boolean)) return undefined;
  const out: Record<string, unknown> = {};
  const keys = [...new Set(records.flatMap((r) => Object.keys(r ?? {})))];
  for (const k of keys) {
    const vs = records.map((r) => r?.[k]);
    const numeric = vs.every((v) => v === undefined || typeof v === 'number');
    out[k] = numeric
      ? fold(vs as Array<number | undefined>, `${prefix}${k}`, spreads)
      : vs.find((v) => v !== undefined);
  }
  return out;
}

function foldChart(charts: Array<ChartPoint[] | undefined>): ChartPoint[] | undefined {
  const first = charts.find(Boolean);
  if (!first) return undefined;
  const ignore: Record<string, Spread> = {};
  return first.map((p, i) => {
    const same = charts.map((c) => c?.[i]).filter((q) => q?.series === p.series && q.backlog === p.backlog);
    const out: ChartPoint = { series: p.series, backlog: p.backlog };
    const eps = fold(
      same.map((q) => q?.eventsPerSec),
      'eps',
      ignore,
    );
    const lat = fold(
      same.map((q) => q?.latencyMs),
      'lat',
      ignore,
    );
    if (eps !== undefined) out.eventsPerSec = eps;
    if (lat !== undefined) out.latencyMs = lat;
    return out;
  });
}

/**
 * One result per id (in first-seen order) from `runs` (each one run of the chosen scenarios). With a
 * single run the results are that run's, ratios filled in. With more: `value`, `ratios`, `parts` and
 * numeric `detail` fields are medians over the runs that produced the id, `runs` says how many, and
 * `spreads` holds each figure's min-max under 'value', 'ratio:<id>', 'part:<name>', 'detail:<key>'.
 */
export function aggregateRuns(runs: ScenarioResult[][]): ScenarioResult[] {
  const perRun = runs.map(computeRatios);
  if (perRun.length === 1) return perRun[0];
  const ids = [...new Set(perRun.flat().map((r) => r.id))];
  return ids.map((id) => {
    const list = perRun.flatMap((run) => run.filter((r) => r.id === id));
    const spreads: Record<string, Spread> = {};
    const out: ScenarioResult = {
      ...list[0],
      value: fold(
        list.map((r) => r.value),
        'value',
        spreads,
      )!,
      runs: list.length,
    };
    const ratios = foldRecord(
      list.map((r) => r.ratios),
      'ratio:',
      spreads,
    );
    if (ratios) out.ratios = ratios as Record<string, number>;
    const parts = foldRecord(
      list.map((r) => r.parts),
      'part:',
      spreads,
    );
    if (parts) out.parts = parts as Record<string, number>;
    const detail = foldRecord(
      list.map((r) => r.detail),
      'detail:',
      spreads,
    );
    if (detail) out.detail = detail;
    const chart = foldChart(list.map((r) => r.chart));
    if (chart) out.chart = chart;
    out.spreads = spreads;
    return out;
  });
}
