// The chaos sink, in its own process: records every event it answered 200 (by record id and event id) and
// can be switched by the parent (IPC) between ok, down (port closed), error (500) and slow (delay, then 200).
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

type Mode = { mode: 'ok' | 'down' | 'error' | 'slow'; delayMs?: number };

let mode: Mode = { mode: 'ok' };
let port = 0;
let requests = 0;
const okCount = new Map<string, number>(); // eventId -> 200s answered
const fresh: Array<{ recordId: string; eventId: string }> = []; // first 200 per event, not yet reported
const sockets = new Set<Socket>();

function answer(res: import('node:http').ServerResponse, body: string) {
  let ev: { eventId?: string; recordId?: string } = {};
  try {
    ev = JSON.parse(body);
  } catch {
    // not an event: answered anyway, recorded nowhere
  }
  if (mode.mode === 'error') {
    res.writeHead(500).end('chaos: 500');
    return;
  }
  const reply = () => {
    if (res.destroyed) return; // the caller gave up: not delivered
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (ev.eventId && ev.recordId) {
      const n = okCount.get(ev.eventId) ?? 0;
      okCount.set(ev.eventId, n + 1);
      if (n === 0) fresh.push({ recordId: ev.recordId, eventId: ev.eventId });
    }
  };
  if (mode.mode === 'slow') setTimeout(reply, mode.delayMs ?? 5000);
  else reply();
}

const server: Server = createServer((req, res) => {
  requests++;
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => answer(res, body));
});
server.keepAliveTimeout = 60_000;
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

function listen(p: number) {
  return new Promise<void>((resolve) => server.listen(p, '127.0.0.1', resolve));
}

async function setMode(next: Mode) {
  if (next.mode === 'down' && mode.mode !== 'down') {
    const closed = new Promise((r) => server.close(r));
    for (const s of sockets) s.destroy();
    await closed;
  } else if (next.mode !== 'down' && mode.mode === 'down') {
    await listen(port);
  }
  mode = next;
}

process.on('message', (msg: { type: string } & Partial<Mode>) => {
  void (async () => {
    if (msg.type === 'mode') {
      await setMode({ mode: msg.mode!, delayMs: msg.delayMs });
      process.send?.({ type: 'mode-set' });
    } else if (msg.type === 'poll') {
      const dup = [...okCount.values()].reduce((a, n) => a + n - 1, 0);
      process.send?.({ type: 'poll', fresh: fresh.splice(0), requests, duplicates: dup });
    }
  })();
});

void listen(0).then(() => {
  const a = server.address();
  port = typeof a === 'object' && a ? a.port : 0;
  process.send?.({ type: 'listening', port });
});
