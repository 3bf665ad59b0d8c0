import { describe, expect, it } from 'vitest';
import type { DeliveryEvent } from '../../connectors/types';
import { chunkEvents } from '../../src/callout/chunks';

const ev = (recordId: string, op: DeliveryEvent['op']): DeliveryEvent => ({
  eventId: `e-${recordId}`,
  route: 'crm',
  entity: 'account',
  recordId,
  op,
  source: 'api',
  occurredAt: new Date(0),
  payload: null,
  attempts: 1,
  mergedCount: 1,
});

describe('chunkEvents (events into requests)', () => {
  const events = [
    ev('1', 'update'),
    ev('2', 'delete'),
    ev('3', 'update'),
    ev('4', 'update'),
    ev('5', 'delete'),
  ];

  it('without a group key: requests of at most `batch` events in arrival order, each with its positions', () => {
    expect(chunkEvents(events, 2).map((c) => c.at)).toEqual([[0, 1], [2, 3], [4]]);
    expect(chunkEvents(events, 2)[1].events.map((e) => e.recordId)).toEqual(['3', '4']);
  });

  it('with a group key: events of different keys never share a request, each group keeps its order', () => {
    const chunks = chunkEvents(events, 2, (e) => (e.op === 'delete' ? 'd' : 'u'));
    expect(chunks.map((c) => c.at)).toEqual([[0, 2], [3], [1, 4]]);
  });

  it('a batch of 1 is one request per event whatever the key', () => {
    expect(chunkEvents(events, 1, () => 'k').map((c) => c.at)).toEqual([[0], [1], [2], [3], [4]]);
  });
});
