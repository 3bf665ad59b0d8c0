import axios, {
  AxiosError,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import type { Agent, Dispatcher } from 'undici';

/** undici's error codes for a request that ran out of time (connect, headers, or idle body). */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The body axios's transformRequest left: strings and bytes go out as they are. */
function requestBody(config: InternalAxiosRequestConfig): string | Buffer | Uint8Array | undefined {
  const d: unknown = config.data;
  if (d === undefined || d === null) return undefined;
  if (typeof d === 'string' || d instanceof Uint8Array) return d;
  if (d instanceof ArrayBuffer) return Buffer.from(d);
  if (d instanceof URLSearchParams) return d.toString();
  throw new AxiosError('request body must be a string or bytes', AxiosError.ERR_BAD_REQUEST, config);
}

function requestHeaders(config: InternalAxiosRequestConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.headers.toJSON() as Record<string, unknown>)) {
    if (v !== undefined && v !== null && v !== false) out[k.toLowerCase()] = String(v);
  }
  out['user-agent'] ??= `sluice axios/${axios.VERSION}`;
  return out;
}

/** undici's errors as the axios http adapter would report them (a timeout is ETIMEDOUT either way). */
function asAxiosError(err: unknown, config: InternalAxiosRequestConfig): AxiosError {
  if (err instanceof AxiosError) return err;
  const e = err as { code?: string; message?: string };
  if (e?.code && TIMEOUT_CODES.has(e.code))
    return new AxiosError(`timeout of ${config.timeout}ms exceeded`, AxiosError.ETIMEDOUT, config);
  // "other side closed" and friends: what Node's http client calls a socket hang up.
  const code = e?.code === 'UND_ERR_SOCKET' ? 'ECONNRESET' : e?.code;
  return Object.assign(new AxiosError(e?.message ?? String(err), code, config), { cause: err });
}

/** Reads the body as text (bytes for responseType arraybuffer), failing past `max` bytes. */
async function readBody(
  body: Dispatcher.ResponseData['body'],
  config: InternalAxiosRequestConfig,
  max: number,
): Promise<string | Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (max > -1 && size > max) {
      body.destroy();
      throw new AxiosError(`maxContentLength size of ${max} exceeded`, AxiosError.ERR_BAD_RESPONSE, config);
    }
    chunks.push(chunk as Buffer);
  }
  const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  return config.responseType === 'arraybuffer' ? buf : buf.toString('utf8');
}

/**
 * An axios adapter that sends through an undici Agent instead of Node's http module: the same axios
 * config, headers, transforms and errors for the callout layer, at less than half the CPU per request
 * (about 97 us against 225 us on a loopback call here). Timeouts: axios's `timeout` until the response
 * headers arrive, then as the longest pause between body chunks; undici then destroys the socket (the
 * server sees it close). No redirects are followed (maxRedirects 0, as before); no response decompression
 * (no Accept-Encoding is sent unless a connector sets one).
 */
export function undiciAdapter(agent: Agent): AxiosAdapter {
  return async (config): Promise<AxiosResponse> => {
    // 0 means no timeout to axios and to undici alike.
    const timeoutMs = config.timeout ?? 0;
    // axios.getUri merges the config with the defaults again: only needed for baseURL or params.
    const url = new URL(config.baseURL || config.params ? axios.getUri(config) : (config.url ?? ''));
    let res: Dispatcher.ResponseData;
    try {
      res = await agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: (config.method ?? 'get').toUpperCase() as Dispatcher.HttpMethod,
        headers: requestHeaders(config),
        body: requestBody(config),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      throw asAxiosError(err, config);
    }
    let data: string | Buffer;
    try {
      data = await readBody(res.body, config, config.maxContentLength ?? -1);
    } catch (err) {
      throw asAxiosError(err, config);
    }
    const response: AxiosResponse = {
      data,
      status: res.statusCode,
      statusText: '',
      headers: res.headers as AxiosResponse['headers'],
      config,
      request: null,
    };
    const valid = config.validateStatus;
    if (valid && !valid(res.statusCode)) {
      throw new AxiosError(
        `Request failed with status code ${res.statusCode}`,
        res.statusCode >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST,
        config,
        null,
        response,
      );
    }
    return response;
  };
}
