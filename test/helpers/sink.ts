import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface SinkRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface SinkReply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Never answer (the client has to give up and close the socket). */
  hang?: boolean;
}

export interface Sink {
  url: string;
  requests: SinkRequest[];
  /** Swap the behaviour while running (fail, recover, slow down...). */
  respond: (req: SinkRequest) => SinkReply;
  /** TCP connections the server saw open and close (a client that gives up must close its socket). */
  connections: { opened: number; closed: number };
  /** Requests received and not yet answered; and the most at once. */
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

/** A real loopback HTTP server that records every request and answers as told (200 by default). */
export async function startSink(respond: (req: SinkRequest) => SinkReply = () => ({})): Promise<Sink> {
  const sink = {
    requests: [] as SinkRequest[],
    respond,
    connections: { opened: 0, closed: 0 },
    inFlight: 0,
    maxInFlight: 0,
  } as Sink;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: SinkRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      sink.requests.push(r);
      sink.inFlight++;
      sink.maxInFlight = Math.max(sink.maxInFlight, sink.inFlight);
      res.once('close', () => sink.inFlight--);
      const reply = sink.respond(r);
      if (reply.hang) return;
      const answer = () => {
        if (reply.drop) return req.socket.destroy();
        res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...reply.headers });
        res.end(reply.body ?? 'ok');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  server.on('connection', (socket) => {
    sink.connections.opened++;
    socket.once('close', () => sink.connections.closed++);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  sink.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  sink.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sink;
}
