import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponseTransformer } from 'axios';

/**
 * axios sets TCP keep-alive with a 60 s initial delay on the socket of every request it sends; the agent
 * sets its own `keepAliveMsecs` again when the socket goes back to the pool. With the same value in
 * both places Node skips the call; with different ones (the agent's default is 1 s) every request
 * costs two setsockopt() system calls.
 */
const KEEP_ALIVE_MS = 60_000;

/** Characters a JSON text may start with (after whitespace). */
const JSON_START = new Set([
  '{',
  '[',
  '"',
  '-',
  't',
  'f',
  'n',
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
]);

function mayBeJson(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return JSON_START.has(c);
  }
  return false;
}

const defaultTransformResponse = axios.defaults.transformResponse as AxiosResponseTransformer[];

/**
 * axios's own response transform (JSON bodies parsed, anything else kept as text), minus its cost on
 * plain-text bodies: it tries JSON.parse on every string and swallows the SyntaxError, and building that
 * exception is the dearest step of a callout whose endpoint answers "ok". A body that cannot be JSON
 * (its first character rules it out) is returned as it is, which is what axios ends up returning too.
 */
const transformResponse: AxiosResponseTransformer = function (this, data, headers, status) {
  if (typeof data === 'string' && !this.responseType && !mayBeJson(data)) return data;
  let out: unknown = data;
  for (const t of defaultTransformResponse) out = t.call(this, out, headers, status);
  return out;
};

/**
 * One axios instance per route: keep-alive sockets sized to the route's concurrency, no status-based
 * throws. The timeout is axios's own: a wall-clock timer until the response starts, then an idle timer;
 * either aborts the request through axios's internal abort, which destroys the socket (the server sees
 * it close). A per-request AbortSignal would do the same at ~40 us of CPU per request (measured, ~15% of
 * a loopback callout), so the caller's shutdown destroys the agents instead, in-use sockets included.
 */
export function createHttpClient(concurrency: number, timeoutMs: number): AxiosInstance {
  const agentOpts = {
    keepAlive: true,
    keepAliveMsecs: KEEP_ALIVE_MS,
    maxSockets: concurrency,
    maxFreeSockets: concurrency,
  };
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
    transformResponse,
  });
}
