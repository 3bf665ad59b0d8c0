import type { Message } from 'kafkajs';
import type { OutboxRow } from '../db/outbox/fetch-unpublished';

/** The public Kafka message of one change: key `<entity>:<recordId>`, JSON value, `sluice-event-id` header. */
export function toKafkaMessage(row: OutboxRow): Message {
  return {
    key: `${row.entity}:${row.record_id}`,
    value: JSON.stringify({
      eventId: row.event_id,
      entity: row.entity,
      recordId: row.record_id,
      op: row.op,
      source: row.source,
      occurredAt: row.occurred_at instanceof Date ? row.occurred_at.toISOString() : row.occurred_at,
      payload: row.payload ?? null,
    }),
    headers: { 'sluice-event-id': row.event_id },
  };
}
