import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { closeHttpClient, createHttpClient } from '../../src/callout/http-client';
import { startSink, type Sink, type SinkReply } from '../helpers/sink';

// The callout HTTP client (src/callout/http-client.ts) against a real loopback server: what its
// response transform returns for each kind of body, and that a reused socket costs no setsockopt().

let sink: Sink | null = null;
afterEach(async () => {
  await sink?.close();
  sink = null;
});

type Opts = { responseType?: 'json' | 'text' };

/** The body as our client returns it, and as a stock axios instance returns it, for one reply. */
async function bodies(reply: SinkReply, opts: Opts = {}) {
  sink = await startSink(() => reply);
  const ours = createHttpClient(2, 2000);
  const stock = axios.create({ validateStatus: () => true, transitional: { clarifyTimeoutError: true } });
  try {
    const req = { method: 'POST', url: `${sink.url}/x`, data: '{}', ...opts };
    return {
      ours: (await ours.request(req)).data as unknown,
      stock: (await stock.request(req)).data as unknown,
    };
  } finally {
    await closeHttpClient(ours);
  }
}

describe('callout HTTP client', () => {
  it('reads response bodies exactly as stock axios does (JSON parsed, anything else kept as text)', async () => {
    const cases: Array<[SinkReply, Opts, unknown]> = [
      [{ body: '{"a":[1,2]}', headers: { 'content-type': 'application/json' } }, {}, { a: [1, 2] }],
      [{ body: ' \n [{"id":"001"}]' }, {}, [{ id: '001' }]],
      [{ body: '42' }, {}, 42],
      [{ body: '-1.5' }, {}, -1.5],
      [{ body: 'null' }, {}, null],
      [{ body: '"quoted"' }, {}, 'quoted'],
      [{ body: 'ok' }, {}, 'ok'],
      [{ body: '<html>busy</html>' }, {}, '<html>busy</html>'],
      [{ body: '{not json' }, {}, '{not json'],
      [{ body: 'true story' }, {}, 'true story'],
      [{ body: '' }, {}, ''],
      [{ body: '{"a":1}' }, { responseType: 'text' }, '{"a":1}'],
      [{ body: 'ok' }, { responseType: 'json' }, 'ok'],
      [{ body: '{"a":1}' }, { responseType: 'json' }, { a: 1 }],
    ];
    for (const [reply, opts, expected] of cases) {
      const { ours, stock } = await bodies(reply, opts);
      expect(ours, JSON.stringify(reply)).toEqual(stock);
      expect(ours, JSON.stringify(reply)).toEqual(expected);
      await sink!.close();
      sink = null;
    }
  });

  it('sends many requests over at most `concurrency` kept-alive sockets', async () => {
    sink = await startSink();
    const client = createHttpClient(4, 2000);
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next++ < 400) {
            const res = await client.request({ method: 'POST', url: `${sink!.url}/x`, data: '{}' });
            expect(res.status).toBe(200);
          }
        }),
      );
    } finally {
      await closeHttpClient(client);
    }
    expect(sink.requests).toHaveLength(400);
    expect(sink.connections.opened).toBeLessThanOrEqual(4);
  });

  it('sends the headers and body axios was given, and returns status and headers as axios does', async () => {
    sink = await startSink(() => ({
      status: 503,
      body: 'busy',
      headers: { 'retry-after': '7', 'x-a': 'b' },
    }));
    const client = createHttpClient(2, 2000);
    try {
      const res = await client.request({
        method: 'PATCH',
        url: `${sink.url}/p/q?x=1&y=%20`,
        data: { id: 1 },
        headers: { 'idempotency-key': 'e1:r', authorization: 'Bearer t' },
      });
      expect(res.status).toBe(503);
      expect(res.data).toBe('busy');
      expect(res.headers['retry-after']).toBe('7');
      expect(res.headers['x-a']).toBe('b');
      const [req] = sink.requests;
      expect(req.method).toBe('PATCH');
      expect(req.path).toBe('/p/q?x=1&y=%20');
      expect(JSON.parse(req.body)).toEqual({ id: 1 });
      expect(req.headers['content-type']).toMatch(/application\/json/);
      expect(req.headers['idempotency-key']).toBe('e1:r');
      expect(req.headers.authorization).toBe('Bearer t');
    } finally {
      await closeHttpClient(client);
    }
  });

  it('a body past maxContentLength and a refused connection are transport errors with a code', async () => {
    sink = await startSink(() => ({ body: 'x'.repeat(64 * 1024) }));
    const client = createHttpClient(2, 2000);
    try {
      const big = await client
        .request({ method: 'GET', url: `${sink.url}/big`, maxContentLength: 1024 })
        .catch((e: unknown) => e);
      expect(axios.isAxiosError(big) && big.code).toBe('ERR_BAD_RESPONSE');
      const refused = await client
        .request({ method: 'GET', url: 'http://127.0.0.1:1/nothing' })
        .catch((e: unknown) => e);
      expect(axios.isAxiosError(refused) && refused.code).toBe('ECONNREFUSED');
      const bad = await client.request({ method: 'GET', url: 'not a url' }).catch((e: unknown) => e);
      expect((bad as { code?: string }).code).toBe('ERR_INVALID_URL');
    } finally {
      await closeHttpClient(client);
    }
  });
});
