// A loopback HTTP sink in its own process that answers 200 at once and stamps when each call arrived
// (wall clock in ms with sub-ms precision, comparable across processes), keyed by the body's recordId,
// with the op, the payload's `written_at` (a wall-clock ms a writer put in the row) when there is one, and
// the event's occurredAt (when it was queued).
import { createServer } from 'node:http';

const now = () => performance.timeOrigin + performance.now();
let stamps: Array<[string, number, string?, number?, number?]> = [];
const server = createServer((req, res) => {
  const at = now();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    try {
      const b = JSON.parse(Buffer.concat(chunks).toString()) as {
        recordId: string;
        op?: string;
        payload?: { written_at?: number } | null;
        occurredAt?: string;
      };
      const queued = b.occurredAt ? Date.parse(b.occurredAt) : undefined;
      stamps.push([b.recordId, at, b.op, b.payload?.written_at, queued]);
    } catch {
      // not ours
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('message', (msg) => {
  if (msg === 'stamps') {
    process.send?.({ stamps });
    stamps = [];
  }
});
