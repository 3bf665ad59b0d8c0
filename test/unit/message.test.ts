import { describe, expect, it } from 'vitest';
import { toKafkaMessage } from '../../src/relay/message';

describe('Kafka message format', () => {
  it('keys by entity:recordId, carries the contract fields and the event id header', () => {
    const m = toKafkaMessage({
      id: '1',
      event_id: 'e-1',
      entity: 'account',
      record_id: '42',
      op: 'update',
      source: 'api',
      payload: { a: 1 },
      occurred_at: new Date('2026-01-01T00:00:00Z'),
    });
    expect(m.key).toBe('account:42');
    expect(JSON.parse(String(m.value))).toEqual({
      eventId: 'e-1',
      entity: 'account',
      recordId: '42',
      op: 'update',
      source: 'api',
      occurredAt: '2026-01-01T00:00:00.000Z',
      payload: { a: 1 },
    });
    expect(m.headers).toEqual({ 'sluice-event-id': 'e-1' });
  });

  it('a value too big for the broker goes out without its payload, flagged in a header', () => {
    const row = {
      id: '2',
      event_id: 'e-2',
      entity: 'doc',
      record_id: 'd1',
      op: 'insert',
      source: 'trigger:public.docs',
      payload: { body: 'é'.repeat(600) },
      occurred_at: new Date('2026-01-01T00:00:00Z'),
    };
    // 600 two-byte characters: past a 1,000-byte limit in bytes though not in string length.
    const m = toKafkaMessage(row, 1000);
    expect(JSON.parse(String(m.value))).toMatchObject({ eventId: 'e-2', recordId: 'd1', payload: null });
    expect(m.headers).toEqual({ 'sluice-event-id': 'e-2', 'sluice-payload-omitted': 'too-large' });
    expect(JSON.parse(String(toKafkaMessage(row, 2000).value)).payload).toEqual(row.payload);
  });
});
