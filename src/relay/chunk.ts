import type { Message } from 'kafkajs';

/** Bytes a message adds to a produce request, near enough: key, value and header keys and values. */
function size(m: Message): number {
  let n = 64; // record overhead: lengths, offsets, timestamps
  if (m.key) n += Buffer.byteLength(m.key);
  if (m.value) n += Buffer.byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {}))
    n += Buffer.byteLength(k) + (v ? Buffer.byteLength(v as string | Buffer) : 0);
  return n;
}

/**
 * Splits messages, in order, into runs of at most `maxBytes` each, so no produce request carries a
 * record batch past the broker's message.max.bytes (1 MiB by default) whatever the payload sizes. A
 * single message bigger than `maxBytes` goes alone.
 */
export function chunkByBytes(messages: Message[], maxBytes: number): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const s = size(m);
    if (current.length > 0 && bytes + s > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += s;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
