import { describe, expect, it } from 'vitest';
import { computeRatios, toMarkdown } from '../../bench/lib/report';
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
