import axios, {
  type AxiosInstance,
  type AxiosRequestTransformer,
  type AxiosResponseTransformer,
} from 'axios';
import { Agent } from 'undici';
import { undiciAdapter } from './undici-adapter';

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

const defaultTransformRequest = axios.defaults.transformRequest as AxiosRequestTransformer[];

/**
 * axios's request transform, minus its cost on bodies already serialised: for a string body sent as
 * JSON it runs JSON.parse over it only to check it, then trims it. Connectors hand over finished
 * strings (or bytes), which go out as they are; objects still take axios's path.
 */
const transformRequest: AxiosRequestTransformer = function (this, data, headers) {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  let out: unknown = data;
  for (const t of defaultTransformRequest) out = t.call(this, out, headers);
  return out;
};

const agents = new WeakMap<AxiosInstance, Agent>();

/**
 * One axios instance per route, sending through its own undici Agent (src/callout/undici-adapter.ts):
 * up to `concurrency` kept-alive connections per origin, no status-based throws, `timeoutMs` until the
 * response starts and then between body chunks (a timeout destroys the socket). closeHttpClient()
 * destroys the agent, in-use sockets included, so in-flight requests fail at once on shutdown.
 */
export function createHttpClient(concurrency: number, timeoutMs: number): AxiosInstance {
  const agent = new Agent({ connections: concurrency, pipelining: 1 });
  const client = axios.create({
    adapter: undiciAdapter(agent),
    // The callout layer classifies every status itself.
    validateStatus: () => true,
    maxRedirects: 0,
    maxContentLength: 10 * 1024 * 1024,
    timeout: timeoutMs,
    transformRequest,
    transformResponse,
  });
  agents.set(client, agent);
  return client;
}

/** Destroys the client's connections (requests in flight fail with a transport error). */
export async function closeHttpClient(client: AxiosInstance): Promise<void> {
  await agents.get(client)?.destroy();
}
