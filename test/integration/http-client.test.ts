import net from 'node:net';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../src/callout/http-client';
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
    ours.defaults.httpAgent?.destroy();
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

  it('sends many requests over a few kept-alive sockets without re-setting TCP keep-alive each time', async () => {
    sink = await startSink();
    const client = createHttpClient(4, 2000);
    const native = { calls: 0 };
    const original = net.Socket.prototype.setKeepAlive;
    const patched = new WeakSet<object>();
    net.Socket.prototype.setKeepAlive = function (this: net.Socket, ...args) {
      const handle = (this as unknown as { _handle?: { setKeepAlive?: (...a: unknown[]) => unknown } })
        ._handle;
      if (handle?.setKeepAlive && !patched.has(handle)) {
        patched.add(handle);
        const own = handle.setKeepAlive.bind(handle);
        handle.setKeepAlive = (...a: unknown[]) => {
          native.calls++;
          return own(...a);
        };
      }
      return original.apply(this, args);
    };
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next++ < 200) {
            const res = await client.request({ method: 'POST', url: `${sink!.url}/x`, data: '{}' });
            expect(res.status).toBe(200);
          }
        }),
      );
    } finally {
      net.Socket.prototype.setKeepAlive = original;
      client.defaults.httpAgent?.destroy();
    }
    expect(sink.connections.opened).toBeLessThanOrEqual(4);
    // Once per socket (axios and the agent agree on the delay), not twice per request.
    expect(native.calls).toBeLessThanOrEqual(2 * sink.connections.opened);
  });
});
