import { z } from 'zod';
import { OPS } from '../src/config/route-schema';
import { authHeaders, AuthSchema } from './auth';
import { envelope, mapFields, PathSchema } from './template';
import { renderUrl, UrlTemplateSchema } from './url-template';
import type { Connector } from './types';

const Method = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

const Options = z
  .object({
    /**
     * URL template: {entity}, {recordId}, {op}, {eventId}, {source}, {payload.<field>} in the path or query
     * (each value URL-encoded as one segment; the URL must keep the template's origin and path prefix).
     */
    url: UrlTemplateSchema,
    method: Method.default('POST'),
    /** Per-op method, e.g. { "delete": "DELETE" }; other ops use `method`. */
    methodByOp: z.partialRecord(z.enum(OPS), Method).default({}),
    /**
     * "event": Sluice's event envelope; "payload": the payload alone; "none": no body (always for GET/DELETE);
     * or a mapping { "<body field>": "<event path>" }, e.g. { "id": "recordId", "name": "payload.name" }.
     */
    body: z.union([z.enum(['event', 'payload', 'none']), z.record(z.string(), PathSchema)]).default('event'),
    auth: AuthSchema.optional(),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();
type Options = z.infer<typeof Options>;

/** One event -> one request to a templated URL, with a mapped body and auth. */
export const rest: Connector<Options> = {
  name: 'rest',
  optionsSchema: Options,
  buildRequest([e], o) {
    const method = o.methodByOp[e.op] ?? o.method;
    const url = renderUrl(o.url, e);
    const headers: Record<string, string> = { ...o.headers, ...authHeaders(o.auth) };
    if (method === 'GET' || method === 'DELETE' || o.body === 'none') return { method, url, headers };
    const data =
      o.body === 'event' ? envelope(e) : o.body === 'payload' ? (e.payload ?? null) : mapFields(e, o.body);
    headers['content-type'] = 'application/json';
    return { method, url, headers, data: JSON.stringify(data) };
  },
};
