import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';

/**
 * One axios instance per route: keep-alive sockets sized to the route's concurrency, no status-based
 * throws. The timeout is axios's own: a wall-clock timer until the response starts, then an idle timer;
 * either aborts the request through axios's internal abort, which destroys the socket (the server sees
 * it close). A per-request AbortSignal would do the same at ~40 us of CPU per request (measured, ~15% of
 * a loopback callout), so the caller's shutdown destroys the agents instead, in-use sockets included.
 */
export function createHttpClient(concurrency: number, timeoutMs: number): AxiosInstance {
  const agentOpts = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
  return axios.create({
    httpAgent: new http.Agent(agentOpts),
    httpsAgent: new https.Agent(agentOpts),
    // The callout layer classifies every status itself.
    validateStatus: () => true,
    maxRedirects: 0,
    maxContentLength: 10 * 1024 * 1024,
    timeout: timeoutMs,
    // ETIMEDOUT rather than ECONNABORTED, so a timeout reads as one.
    transitional: { clarifyTimeoutError: true },
  });
}
