import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioResult } from './types';

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function toMarkdown(date: string, results: ScenarioResult[]): string {
  const m = machine();
  const lines = [
    `Run ${date} on ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, Node ${m.node}.`,
    '',
    '| scenario | result | ratios (same run) |',
    '|---|---:|---|',
    ...results.map((r) => {
      const ratios = Object.entries(r.ratios ?? {})
        .map(([k, v]) => `${v.toFixed(2)}x ${k}`)
        .join(', ');
      return `| ${r.name} | ${r.value.toLocaleString('en-US')} ${r.unit} | ${ratios || '-'} |`;
    }),
  ];
  return lines.join('\n');
}

/** Writes bench/results/latest.{json,md} and replaces the table between the README's bench markers. */
export function writeReport(results: ScenarioResult[], readme = 'README.md'): string {
  const date = new Date().toISOString();
  const dir = join('bench', 'results');
  mkdirSync(dir, { recursive: true });
  const md = toMarkdown(date, results);
  writeFileSync(
    join(dir, 'latest.json'),
    JSON.stringify({ date, machine: machine(), results }, null, 2) + '\n',
  );
  writeFileSync(join(dir, 'latest.md'), md + '\n');
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
