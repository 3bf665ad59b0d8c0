import { describe, expect, it } from 'vitest';
import { chunkByBytes } from '../../src/relay/chunk';

const msg = (i: number, valueBytes: number) => ({
  key: `account:${i}`,
  value: 'x'.repeat(valueBytes),
  headers: { 'sluice-event-id': `e${i}` },
});

describe('chunkByBytes', () => {
  it('keeps order and never lets a chunk pass the limit', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => msg(i, 100 + (i % 7) * 300));
    const chunks = chunkByBytes(messages, 50_000);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(messages);
    for (const c of chunks) {
      const bytes = c.reduce((n, m) => n + String(m.value).length + String(m.key).length + 64 + 20, 0);
      expect(bytes).toBeLessThanOrEqual(50_000);
    }
  });

  it('small messages stay in one chunk; an oversized one goes alone', () => {
    expect(chunkByBytes([msg(1, 10), msg(2, 10)], 10_000)).toHaveLength(1);
    const chunks = chunkByBytes([msg(1, 10), msg(2, 20_000), msg(3, 10)], 10_000);
    expect(chunks.map((c) => c.map((m) => m.key))).toEqual([['account:1'], ['account:2'], ['account:3']]);
    expect(chunkByBytes([], 10)).toEqual([]);
  });
});
