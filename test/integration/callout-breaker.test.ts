import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryEvent } from '../../connectors/types';
import { buildCallers } from '../../src/callout/build-callers';
import type { RouteCaller } from '../../src/callout/route-caller';
import type { CalloutOutcome } from '../../src/callout/outcome';
import { RouteSchema } from '../../src/config/route-schema';
import { startSink, type Sink, type SinkReply } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

// RouteCaller driven directly against real loopback servers that fail, hang, throttle or drop.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function event(i: number): DeliveryEvent {
  return {
    eventId: randomUUID(),
    route: 'r',
    entity: 'account',
    recordId: `acc-${i}`,
    op: 'update',
    source: 'test',
    occurredAt: new Date(),
    payload: { i },
    attempts: 1,
    mergedCount: 0,
  };
}

async function setup(respond: () => SinkReply, route: Record<string, unknown> = {}) {
  const sink = await startSink(respond);
  const cfg = RouteSchema.parse({
    name: 'r',
    match: { entity: 'account' },
    connector: 'webhook',
    options: { url: `${sink.url}/hook` },
    concurrency: 4,
    ...route,
    breaker: {
      timeoutMs: 400,
      volumeThreshold: 4,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 500,
      rollingCountTimeoutMs: 60_000,
      ...(route.breaker as object),
    },
  });
  const caller = buildCallers([cfg]).get('r')!;
  cleanups.push(async () => {
    await caller.shutdown();
    await sink.close();
  });
  return { sink, caller };
}

/** Sends events one request at a time until the breaker defers one; returns the outcomes. */
async function failUntilOpen(caller: RouteCaller): Promise<CalloutOutcome[]> {
  const outcomes: CalloutOutcome[] = [];
  for (let i = 0; i < 50 && caller.stats.state === 'closed'; i++) {
    outcomes.push(...(await caller.deliver([event(i)])));
  }
  return outcomes;
}

/** What the queue does: re-deliver whatever did not succeed until everything has. */
async function deliverAll(caller: RouteCaller, events: DeliveryEvent[]): Promise<void> {
  let left = events;
  await waitFor(
    async () => {
      const outcomes = await caller.deliver(left);
      left = left.filter((_, i) => outcomes[i].kind !== 'success');
      return left.length === 0;
    },
    'every event delivered',
    { intervalMs: 100 },
  );
}

const bodiesOf = (sink: Sink) => sink.requests.map((r) => JSON.parse(r.body) as { eventId: string });

describe('RouteCaller breaker against failing endpoints', () => {
  it('5xx: opens at its volume threshold, defers while open, lets exactly halfOpenProbes probes through, recovers', async () => {
    let reply: SinkReply = { status: 500, body: 'boom' };
    const { sink, caller } = await setup(() => reply, { breaker: { halfOpenProbes: 2 } });

    const first = await failUntilOpen(caller);
    expect(first.map((o) => o.kind)).toEqual(['retriable', 'retriable', 'retriable', 'retriable']);
    expect(first[0]).toMatchObject({ status: 500, error: 'HTTP 500', response: 'boom' });
    expect(sink.requests).toHaveLength(4);
    const st = caller.stats;
    expect(st).toMatchObject({ state: 'open', opens: 1, calls: 4, failures: 4, inFlight: 0 });
    expect(st.nextAttemptAt).toBe(st.openedAt! + 500);

    // While open: nothing reaches the endpoint, every event is deferred to the reset time.
    const blocked = await caller.deliver(Array.from({ length: 20 }, (_, i) => event(100 + i)));
    expect(sink.requests).toHaveLength(4);
    for (const o of blocked) {
      expect(o.kind).toBe('deferred');
      if (o.kind === 'deferred') expect(o.retryAt.getTime()).toBe(st.nextAttemptAt);
    }
    expect(caller.stats.deferred).toBe(20);

    // Half-open with the endpoint still down (and slow): exactly 2 probes reach it, then it reopens.
    reply = { status: 503, delayMs: 150 };
    await waitFor(() => caller.stats.state === 'half-open', 'half-open');
    const probing = await caller.deliver(Array.from({ length: 12 }, (_, i) => event(200 + i)));
    expect(sink.requests).toHaveLength(6);
    // Every event is deferred: failed probes do not spend their rows' attempts either.
    expect(probing.every((o) => o.kind === 'deferred')).toBe(true);
    const probeErrors = probing.filter(
      (o) => o.kind === 'deferred' && /^probe failed: HTTP 503/.test(o.error),
    );
    expect(probeErrors).toHaveLength(2);
    expect(caller.stats).toMatchObject({ state: 'open', opens: 2, probes: 2 });

    // Recovery: the next half-open probe succeeds, the breaker closes, and everything is delivered.
    reply = { status: 200 };
    await waitFor(() => caller.stats.state === 'half-open', 'half-open again');
    const events = Array.from({ length: 30 }, (_, i) => event(300 + i));
    await deliverAll(caller, events);
    expect(caller.stats.state).toBe('closed');
    const seen = new Set(bodiesOf(sink).map((b) => b.eventId));
    for (const e of events) expect(seen.has(e.eventId)).toBe(true);
  });

  it('hang: the timeout cancels the request and closes the socket on the server side', async () => {
    const { sink, caller } = await setup(() => ({ hang: true }));
    const [o] = await caller.deliver([event(1)]);
    expect(o).toMatchObject({ kind: 'retriable', status: null });
    expect(o.kind === 'retriable' && o.error).toMatch(/ETIMEDOUT: timed out after 400 ms/);
    await waitFor(() => sink.connections.closed === sink.connections.opened, 'server sees the socket closed');
    expect(sink.connections.opened).toBe(1);
    expect(sink.inFlight).toBe(0);
    expect(caller.stats).toMatchObject({ timeouts: 1, inFlight: 0, failures: 1 });

    // Hanging requests count against the endpoint: the breaker opens at its threshold.
    await failUntilOpen(caller);
    expect(caller.stats.state).toBe('open');
    expect(sink.requests).toHaveLength(4);
  });

  it('shutdown cancels a request in flight: its event comes back retriable and the socket is closed', async () => {
    const { sink, caller } = await setup(() => ({ hang: true }), { breaker: { timeoutMs: 60_000 } });
    const pending = caller.deliver([event(1)]);
    await waitFor(() => sink.requests.length === 1, 'request reached the server');
    await caller.shutdown();
    const [o] = await pending;
    expect(o.kind).toBe('retriable');
    await waitFor(() => sink.connections.closed === sink.connections.opened, 'server sees the socket closed');
    // After shutdown nothing is sent; events are deferred, never lost or dead-lettered.
    const [after] = await caller.deliver([event(2)]);
    expect(after.kind).toBe('deferred');
    expect(sink.requests).toHaveLength(1);
  });

  it('429 with Retry-After: retriable after the server-given delay, and it counts against the breaker', async () => {
    const { sink, caller } = await setup(() => ({
      status: 429,
      headers: { 'retry-after': '7' },
      body: 'slow down',
    }));
    const outcomes = await failUntilOpen(caller);
    expect(outcomes).toHaveLength(4);
    for (const o of outcomes)
      expect(o).toMatchObject({ kind: 'retriable', status: 429, retryAfterMs: 7000, response: 'slow down' });
    expect(caller.stats.state).toBe('open');
    expect(sink.requests).toHaveLength(4);
  });

  it('dropped connections are retriable network errors and open the breaker', async () => {
    const { sink, caller } = await setup(() => ({ drop: true }));
    const outcomes = await failUntilOpen(caller);
    expect(outcomes).toHaveLength(4);
    for (const o of outcomes) {
      expect(o.kind).toBe('retriable');
      expect(o.kind === 'retriable' && o.error).toMatch(/ECONNRESET|socket hang up/);
    }
    expect(caller.stats.state).toBe('open');
    expect(sink.requests).toHaveLength(4);
  });

  it('4xx other than 408/429 are permanent (with the response excerpt) and never open the breaker', async () => {
    const statuses = [400, 404, 422, 401];
    let n = 0;
    const { sink, caller } = await setup(() => ({
      status: statuses[n++ % statuses.length],
      body: '{"error":"no such account"}',
    }));
    const outcomes = await caller.deliver(Array.from({ length: 20 }, (_, i) => event(i)));
    expect(sink.requests).toHaveLength(20);
    for (const o of outcomes) {
      expect(o.kind).toBe('permanent');
      expect(o.kind === 'permanent' && o.response).toBe('{"error":"no such account"}');
    }
    expect(caller.stats).toMatchObject({ state: 'closed', opens: 0 });
  });

  it('caps concurrent requests at the route concurrency; slow answers still succeed', async () => {
    const { sink, caller } = await setup(() => ({ status: 200, delayMs: 60 }), { concurrency: 3 });
    const outcomes = await caller.deliver(Array.from({ length: 15 }, (_, i) => event(i)));
    expect(outcomes.every((o) => o.kind === 'success')).toBe(true);
    expect(sink.requests).toHaveLength(15);
    expect(sink.maxInFlight).toBe(3);
  });

  it('rate limit: requests are never faster than perSecond', async () => {
    const { sink, caller } = await setup(() => ({ status: 200 }), { rateLimit: { perSecond: 10 } });
    const outcomes = await caller.deliver(Array.from({ length: 6 }, (_, i) => event(i)));
    expect(outcomes.every((o) => o.kind === 'success')).toBe(true);
    const at = sink.requests.map((r) => r.at);
    // 6 requests at 10/s: five more tokens after the first, 100 ms apart (a lower bound, load only adds).
    expect(at[5] - at[0]).toBeGreaterThanOrEqual(380);
  });
});
