import { z } from 'zod';
import { sign } from '../src/lib/signature';
import { envelope } from './template';
import type { Connector } from './types';

const Options = z
  .object({
    url: z.url(),
    /** Signs each body so receivers can verify it (X-Sluice-Signature, the scheme Sluice accepts). */
    secret: z.string().min(16).optional(),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();
type Options = z.infer<typeof Options>;

/** POSTs one event as JSON to a fixed URL, signed with `t=<unix s>,v1=<hex HMAC-SHA256("t.body")>`. */
export const webhook: Connector<Options> = {
  name: 'webhook',
  optionsSchema: Options,
  buildRequest([e], o) {
    const body = JSON.stringify(envelope(e));
    const headers: Record<string, string> = { ...o.headers, 'content-type': 'application/json' };
    if (o.secret) headers['x-sluice-signature'] = sign(o.secret, body);
    return { method: 'POST', url: o.url, data: body, headers };
  },
};
