import { z } from 'zod';
import { checkSigning, SchemeSchema, SecretsSchema } from '../src/config/signing';
import { sign } from '../src/lib/signature';
import { signStandard } from '../src/lib/standard-webhooks';
import { envelope } from './template';
import type { Connector } from './types';

const Options = z
  .object({
    url: z.url(),
    /** Signs each body: one secret, or two during a rotation (both signatures are sent). */
    secret: SecretsSchema.optional(),
    /** standard: Standard Webhooks headers; sluice: X-Sluice-Signature. Absent: see src/config/signing.ts. */
    signing: SchemeSchema.optional(),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .transform(({ secret, signing, ...rest }, ctx) => {
    if (!secret) {
      if (signing) ctx.addIssue({ code: 'custom', path: ['secret'], message: `"signing" needs a "secret"` });
      return { ...rest, signing: null };
    }
    return { ...rest, signing: checkSigning(signing, secret, ctx, 'signing') };
  });
type Options = z.infer<typeof Options>;

/**
 * POSTs one event as JSON to a fixed URL, signed per Standard Webhooks (webhook-id is
 * `<eventId>:<route>`, the Idempotency-Key: the same on every retry) or with
 * `X-Sluice-Signature: t=<unix s>,v1=<hex HMAC-SHA256("t.body")>` (one v1 per secret).
 */
export const webhook: Connector<Options> = {
  name: 'webhook',
  optionsSchema: Options,
  buildRequest([e], o) {
    const body = JSON.stringify(envelope(e));
    const headers: Record<string, string> = { ...o.headers, 'content-type': 'application/json' };
    if (o.signing?.scheme === 'standard')
      Object.assign(headers, signStandard(o.signing.secrets, `${e.eventId}:${e.route}`, body));
    else if (o.signing) headers['x-sluice-signature'] = signSluice(o.signing.secrets, body);
    return { method: 'POST', url: o.url, data: body, headers };
  },
};

/** `t=<s>,v1=<hex>[,v1=<hex>]`: one timestamp, one v1 per secret (the receiver accepts any). */
function signSluice(secrets: string[], body: string): string {
  const now = Math.floor(Date.now() / 1000);
  const [first, ...more] = secrets.map((s) => sign(s, body, now));
  return [first, ...more.map((h) => h.slice(h.indexOf(',') + 1))].join(',');
}
