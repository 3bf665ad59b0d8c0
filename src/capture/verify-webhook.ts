import type { IncomingHttpHeaders } from 'node:http';
import type { SigningSecrets } from '../config/signing';
import { verify, type VerifyResult } from '../lib/signature';
import { STANDARD_HEADERS, verifyStandard } from '../lib/standard-webhooks';

export const SLUICE_SIGNATURE_HEADER = 'x-sluice-signature';

/** The longest delivery id kept for dedupe (a webhook body's `deliveryId` has the same bound). */
export const MAX_DELIVERY_ID = 200;

/**
 * What the signature check found: the verified raw body and, for Standard Webhooks, the signed
 * `webhook-id` (the delivery id); or the refusal to send.
 */
export type Verdict =
  { ok: true; deliveryId?: string } | { ok: false; status: number; code: string; message: string };

const MALFORMED = {
  sluice: `missing or malformed ${SLUICE_SIGNATURE_HEADER} header (t=<unix seconds>,v1=<hex>)`,
  standard: `missing or malformed ${Object.values(STANDARD_HEADERS).join(', ')} headers (Standard Webhooks: webhook-signature is v1,<base64>)`,
};
const STALE = 'signature timestamp is outside the 5 minute tolerance';
const MISMATCH = 'signature does not match the body';

const one = (h: string | string[] | undefined) => (typeof h === 'string' ? h : undefined);

/** Checks a webhook's raw body against its source's scheme and secrets (constant time, 5 minute tolerance). */
export function verifyWebhook(source: SigningSecrets, raw: Buffer, headers: IncomingHttpHeaders): Verdict {
  let result: VerifyResult;
  let deliveryId: string | undefined;
  if (source.scheme === 'standard') {
    deliveryId = one(headers[STANDARD_HEADERS.id]);
    result = verifyStandard(source.secrets, raw, {
      id: deliveryId,
      timestamp: one(headers[STANDARD_HEADERS.timestamp]),
      signature: one(headers[STANDARD_HEADERS.signature]),
    });
  } else {
    const header = one(headers[SLUICE_SIGNATURE_HEADER]);
    const results = source.secrets.map((s) => verify(s, raw, header));
    result = results.find((r) => r.ok) ?? results[0];
  }
  if (!result.ok) {
    const message =
      result.reason === 'malformed' ? MALFORMED[source.scheme] : result.reason === 'stale' ? STALE : MISMATCH;
    return { ok: false, status: 401, code: 'invalid_signature', message };
  }
  if (deliveryId !== undefined && deliveryId.length > MAX_DELIVERY_ID)
    return {
      ok: false,
      status: 400,
      code: 'invalid_webhook_id',
      message: `webhook-id must be at most ${MAX_DELIVERY_ID} chars (it is the delivery id)`,
    };
  return { ok: true, deliveryId };
}
