import type autocannon from 'autocannon';

type Run = Awaited<ReturnType<typeof autocannon>>;

/** Answered requests per second that got a 2xx. */
export const okPerSec = (r: Run) => (r.requests.total - r.non2xx) / r.duration;

export const detailOf = (r: Run) => ({
  seconds: r.duration,
  requests: r.requests.total,
  errors: r.errors,
  non2xx: r.non2xx,
  latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
});

/** One POST whose body `make()` builds afresh per request (autocannon's idReplacement miscounts Content-Length). */
export const withBody = (make: () => unknown) => [
  {
    method: 'POST' as const,
    setupRequest: (req: { headers?: Record<string, string>; body?: string }) => ({
      ...req,
      body: JSON.stringify(make()),
    }),
  },
];
