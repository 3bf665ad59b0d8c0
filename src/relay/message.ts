import type { Message } from 'kafkajs';
import type { OutboxRow } from '../db/outbox/fetch-unpublished';

/**
 * Bytes safely below the broker's default message.max.bytes (1 MiB, per partition's record batch): the
 * most one message's value may hold, and the most one produce request carries (all of it may land in
 * one partition).
 */
export const BROKER_SAFE_BYTES = 900 * 1024;

/**
 * The public Kafka message of one change: key `<entity>:<recordId>`, JSON value, `sluice-event-id` header.
 * A value too big for the broker goes out with `payload: null` and the header `sluice-payload-omitted`
 * (the callouts still carry the payload): a change the broker can never accept would otherwise stall
 * the relay for every change behind it.
 */
export function toKafkaMessage(row: OutboxRow, maxValueBytes = BROKER_SAFE_BYTES): Message {
  const fields = {
    eventId: row.event_id,
    entity: row.entity,
    recordId: row.record_id,
    op: row.op,
    source: row.source,
    occurredAt: row.occurred_at instanceof Date ? row.occurred_at.toISOString() : row.occurred_at,
  };
  const key = `${row.entity}:${row.record_id}`;
  const value = JSON.stringify({ ...fields, payload: row.payload ?? null });
  // Byte length is at most 3 x UTF-16 length: measure only when it could matter.
  if (value.length * 3 > maxValueBytes && Buffer.byteLength(value) > maxValueBytes) {
    return {
      key,
      value: JSON.stringify({ ...fields, payload: null }),
      headers: { 'sluice-event-id': row.event_id, 'sluice-payload-omitted': 'too-large' },
    };
  }
  return { key, value, headers: { 'sluice-event-id': row.event_id } };
}
