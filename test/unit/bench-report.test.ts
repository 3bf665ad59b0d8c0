import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { median } from '../../bench/lib/aggregate';
import { aggregateRuns, computeRatios, toMarkdown, writeReport } from '../../bench/lib/report';
import type { ScenarioResult } from '../../bench/lib/types';

const sink: ScenarioResult = {
  id: 'limit-sink-capacity',
  name: 'sink capacity',
  unit: 'req/s',
  value: 10_000,
};
const peer: ScenarioResult = { id: 'peer-pg-boss', name: 'pg-boss drain', unit: 'events/s', value: 500 };

describe('computeRatios', () => {
  it('divides by each reference that ran in the same run, keyed by its id', () => {
    const sluice: ScenarioResult = {
      id: 'drain',
      name: 'drain',
      unit: 'events/s',
      value: 2_000,
      compareTo: ['limit-sink-capacity', 'peer-pg-boss', 'peer-graphile-worker'],
    };
    const [out] = computeRatios([sluice, sink, peer]);
    expect(out.ratios).toEqual({ 'limit-sink-capacity': 0.2, 'peer-pg-boss': 4 });
  });
  it('skips zero references and leaves results without compareTo alone', () => {
    const zero = { ...peer, value: 0 };
    const [a, b] = computeRatios([{ ...sink, compareTo: ['peer-pg-boss'] }, zero]);
    expect(a.ratios).toBeUndefined();
    expect(b).toBe(zero);
  });
  it('prints the ratios in the markdown row', () => {
    const [r] = computeRatios([{ ...peer, compareTo: ['limit-sink-capacity'] }, sink]);
    expect(toMarkdown('2026-01-01', [r])).toContain(
      '| pg-boss drain (`peer-pg-boss`) | 500 events/s | 0.05x limit-sink-capacity |',
    );
  });
});

const drain = (value: number, extra: Partial<ScenarioResult> = {}): ScenarioResult => ({
  id: 'drain',
  name: 'drain',
  unit: 'events/s',
  value,
  compareTo: ['peer-pg-boss'],
  ...extra,
});
const boss = (value: number): ScenarioResult => ({ ...peer, value });

describe('aggregateRuns (--repeat)', () => {
  it('with one run returns that run with ratios filled in and no runs count or spreads', () => {
    const [a, b] = aggregateRuns([[drain(1_000), boss(500)]]);
    expect(a.ratios).toEqual({ 'peer-pg-boss': 2 });
    expect(a.runs).toBeUndefined();
    expect(a.spreads).toBeUndefined();
    expect(b.value).toBe(500);
  });
  it('reports the median value of the runs and its min-max spread, with how many runs', () => {
    const [a] = aggregateRuns([[drain(100)], [drain(300)], [drain(200)]]);
    expect(a.value).toBe(200);
    expect(a.runs).toBe(3);
    expect(a.spreads?.value).toEqual({ min: 100, max: 300 });
  });
  it('takes the median of an even number of runs as the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([1.25, 1.5])).toBe(1.375);
    expect(median([3, 1, 2])).toBe(2);
  });
  it('computes each ratio within its own run and reports their median, not the ratio of the medians', () => {
    const runs = [
      [drain(100), boss(50)],
      [drain(300), boss(300)],
      [drain(200), boss(40)],
    ];
    const [a, b] = aggregateRuns(runs);
    // Ratio of medians would be 200 / 50 = 4; the per-run ratios are 2, 1 and 5.
    expect(a.ratios).toEqual({ 'peer-pg-boss': 2 });
    expect(a.spreads?.['ratio:peer-pg-boss']).toEqual({ min: 1, max: 5 });
    expect(b.value).toBe(50);
  });
  it('medians the parts and numeric details with their spreads, keeps other details from the first run', () => {
    const run = (node: number, seconds: number, label: string) => [
      drain(1, { parts: { node, Postgres: node / 2 }, detail: { seconds, label } }),
    ];
    const [a] = aggregateRuns([run(10, 3, 'a'), run(30, 1, 'b'), run(20, 2, 'c')]);
    expect(a.parts).toEqual({ node: 20, Postgres: 10 });
    expect(a.spreads?.['part:node']).toEqual({ min: 10, max: 30 });
    expect(a.detail).toEqual({ seconds: 2, label: 'a' });
    expect(a.spreads?.['detail:seconds']).toEqual({ min: 1, max: 3 });
  });
  it('medians an id over the runs that produced it and counts only those', () => {
    const [a, b] = aggregateRuns([[drain(10), boss(5)], [drain(30)]]);
    expect(a.runs).toBe(2);
    expect(a.value).toBe(20);
    expect(a.ratios).toEqual({ 'peer-pg-boss': 2 });
    expect(b.runs).toBe(1);
  });
  it('medians the chart points of the runs, point by point', () => {
    const c = (eventsPerSec: number) =>
      drain(1, { chart: [{ series: 'sluice', backlog: 10, eventsPerSec }] });
    const [a] = aggregateRuns([[c(1)], [c(9)], [c(5)]]);
    expect(a.chart).toEqual([{ series: 'sluice', backlog: 10, eventsPerSec: 5 }]);
  });
});

describe('toMarkdown with --repeat', () => {
  it('prints the spread beside the median value, each part and each ratio, and says how many runs', () => {
    const run = (v: number, node: number, ref: number) => [
      drain(v, { unit: 'ms', parts: { node, Postgres: 1 } }),
      boss(ref),
    ];
    const results = aggregateRuns([run(10, 6, 5), run(12, 8, 4), run(11, 7, 5)]);
    const md = toMarkdown('2026-01-01', results);
    expect(md).toContain('Median of 3 runs (`--repeat 3`)');
    expect(md).toContain(
      '| drain (`drain`) | 11 ms [10-12] (node 7 [6-8] + Postgres 1) | 2.2x [2-3] peer-pg-boss |',
    );
  });
  it('prints no spread for a figure that was the same in every run', () => {
    const md = toMarkdown('2026-01-01', aggregateRuns([[boss(7)], [boss(7)]]));
    expect(md).toContain('| pg-boss drain (`peer-pg-boss`) | 7 events/s | - |');
  });
});

describe('writeReport', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  it('writes the medians of the runs to latest.json and latest.md and replaces the README table', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    const readme = join(dir, 'README.md');
    writeFileSync(readme, 'before\n<!-- bench:start -->\nold table\n<!-- bench:end -->\nafter\n');
    writeReport(
      [
        [drain(10), boss(5)],
        [drain(30), boss(5)],
        [drain(20), boss(5)],
      ],
      { dir, readme },
    );
    const json = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as {
      runs: number;
      results: ScenarioResult[];
    };
    expect(json.runs).toBe(3);
    expect(json.results[0]).toMatchObject({
      id: 'drain',
      value: 20,
      runs: 3,
      spreads: { value: { min: 10, max: 30 } },
    });
    expect(readFileSync(join(dir, 'latest.md'), 'utf8')).toContain('20 events/s [10-30]');
    const text = readFileSync(readme, 'utf8');
    expect(text).not.toContain('old table');
    expect(text).toMatch(
      /^before\n<!-- bench:start -->\nRun .*\n\n\| scenario[\s\S]*\n<!-- bench:end -->\nafter\n$/,
    );
  });
});
