import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { join } from 'node:path';
import { aggregateRuns } from './aggregate';
import { renderChart } from './chart';
import type { ScenarioResult, Spread } from './types';

export { aggregateRuns, computeRatios } from './aggregate';

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** Three significant digits, no trailing zeros: 0.05, 1.23, 412. */
function formatRatio(v: number): string {
  return v >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

const num = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 3 });
/** ' [min-max]' when a figure came from several runs that differ; nothing otherwise. */
const range = (s: Spread | undefined, f: (v: number) => string) =>
  s && s.min !== s.max ? ` [${f(s.min)}-${f(s.max)}]` : '';

/** The result cell: median value, its spread, then its parts with theirs ("1.2 ms [1.1-1.4] (node 0.8 + Postgres 0.4)"). */
function valueCell(r: ScenarioResult): string {
  const parts = Object.entries(r.parts ?? {})
    .map(([k, v]) => `${k} ${num(v)}${range(r.spreads?.[`part:${k}`], num)}`)
    .join(' + ');
  return `${num(r.value)} ${r.unit}${range(r.spreads?.value, num)}${parts ? ` (${parts})` : ''}`;
}

export function toMarkdown(date: string, results: ScenarioResult[], quick = false): string {
  const m = machine();
  const runs = Math.max(1, ...results.map((r) => r.runs ?? 1));
  const lines = [
    `Run ${date}${quick ? ' (--quick)' : ''} on ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, Node ${m.node}.` +
      (runs > 1
        ? ` Median of ${runs} runs (\`--repeat ${runs}\`), [min-max] across the runs; ratios are taken within each run, then median'd.`
        : ''),
    '',
    '| scenario (`id`) | result | ratios: value / reference of the same run (by `id`) |',
    '|---|---:|---|',
    ...results.map((r) => {
      const ratios = Object.entries(r.ratios ?? {})
        .map(([k, v]) => `${formatRatio(v)}x${range(r.spreads?.[`ratio:${k}`], formatRatio)} ${k}`)
        .join('; ');
      return `| ${r.name} (\`${r.id}\`) | ${valueCell(r)} | ${ratios || '-'} |`;
    }),
  ];
  return lines.join('\n');
}

/**
 * Folds `runs` (one entry per `--repeat` run) into medians with spreads, writes bench/results/latest.{json,md},
 * bench/results/chart.svg and replaces the table between the README's bench markers.
 */
export function writeReport(
  runs: ScenarioResult[][],
  opts: { quick?: boolean; readme?: string; dir?: string } = {},
): string {
  const results = aggregateRuns(runs);
  const date = new Date().toISOString();
  const dir = opts.dir ?? join('bench', 'results');
  mkdirSync(dir, { recursive: true });
  const md = toMarkdown(date, results, opts.quick);
  writeFileSync(
    join(dir, 'latest.json'),
    JSON.stringify({ date, quick: !!opts.quick, runs: runs.length, machine: machine(), results }, null, 2) +
      '\n',
  );
  writeFileSync(join(dir, 'latest.md'), md + '\n');
  const m = machine();
  const points = results.flatMap((r) => r.chart ?? []);
  writeFileSync(
    join(dir, 'chart.svg'),
    renderChart(points, `${date}, ${m.cores} cores ${m.cpu}, Node ${m.node}`) + '\n',
  );
  const readme = opts.readme ?? 'README.md';
  try {
    const text = readFileSync(readme, 'utf8');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a >= 0 && b > a) writeFileSync(readme, `${text.slice(0, a + start.length)}\n${md}\n${text.slice(b)}`);
  } catch {
    // no README: the results files are enough
  }
  return md;
}

/** Re-formats a markdown file the bench rewrote, so `npm run lint` (prettier --check) stays green. */
export async function prettifyMarkdown(file = 'README.md'): Promise<void> {
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(readFileSync(file, 'utf8'), { ...options, parser: 'markdown' }));
}
