import { describe, expect, it } from 'vitest';
import { tally } from '../../chaos/lib/tally';

const seen = (pairs: Array<[string, string[]]>) => new Map(pairs.map(([r, e]) => [r, new Set(e)]));

describe('chaos tally', () => {
  it('counts an accepted event missing at either leg as lost', () => {
    const r = tally(
      'x',
      {
        accepted: ['a', 'b', 'c'],
        refused: 5,
        sink: seen([
          ['a', ['e1']],
          ['b', ['e2']],
        ]),
        sinkDuplicates: 0,
        kafka: seen([
          ['a', ['e1']],
          ['c', ['e3']],
        ]),
        kafkaDuplicates: 2,
      },
      1000,
      [],
    );
    expect(r).toMatchObject({
      sent: 3,
      refused: 5,
      deliveredSink: 2,
      deliveredKafka: 2,
      lost: 2,
      duplicatesKafka: 2,
    });
  });
  it('ignores deliveries of events nobody was promised, and counts a record under two event ids as a duplicate', () => {
    const r = tally(
      'x',
      {
        accepted: ['a'],
        refused: 0,
        sink: seen([
          ['a', ['e1', 'e9']],
          ['unacked', ['e5']],
        ]),
        sinkDuplicates: 1,
        kafka: seen([['a', ['e1']]]),
        kafkaDuplicates: 0,
      },
      null,
      ['n'],
    );
    expect(r).toMatchObject({ sent: 1, deliveredSink: 1, lost: 0, duplicatesSink: 2, recoveryMs: null });
    expect(r.notes).toEqual(['n', '1 records reached the sink under more than one event id']);
  });
});
