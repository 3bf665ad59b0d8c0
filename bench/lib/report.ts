import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { join } from 'node:path';
import { renderChart } from './chart';
import type { ScenarioResult } from './types';

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/**
 * Fills `ratios` of every result that names others in `compareTo`: value / reference value, keyed by the
 * reference's id. Both are from the same run; references that did not run (e.g. `--only`) are skipped.
 */
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

/** Three significant digits, no trailing zeros: 0.05, 1.23, 412. */
function formatRatio(v: number): string {
  return v >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

export function toMarkdown(date: string, results: ScenarioResult[], quick = false): string {
  const m = machine();
  const lines = [
    `Run ${date}${quick ? ' (--quick)' : ''} on ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, Node ${m.node}.`,
    '',
    '| scenario (`id`) | result | ratios: value / reference of the same run (by `id`) |',
    '|---|---:|---|',
    ...results.map((r) => {
      const ratios = Object.entries(r.ratios ?? {})
        .map(([k, v]) => `${formatRatio(v)}x ${k}`)
        .join('; ');
      return `| ${r.name} (\`${r.id}\`) | ${r.value.toLocaleString('en-US')} ${r.unit} | ${ratios || '-'} |`;
    }),
  ];
  return lines.join('\n');
}

/** Writes bench/results/latest.{json,md}, bench/results/chart.svg and replaces the table between the README's bench markers. */
export function writeReport(raw: ScenarioResult[], opts: { quick?: boolean; readme?: string } = {}): string {
  const results = computeRatios(raw);
  const date = new Date().toISOString();
  const dir = join('bench', 'results');
  mkdirSync(dir, { recursive: true });
  const md = toMarkdown(date, results, opts.quick);
  writeFileSync(
    join(dir, 'latest.json'),
    JSON.stringify({ date, quick: !!opts.quick, machine: machine(), results }, null, 2) + '\n',
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
