import { createHmac, timingSafeEqual } from 'node:crypto';
import { standardKey } from '../config/signing';
import type { VerifyResult } from './signature';

/** The three headers of the Standard Webhooks specification (https://www.standardwebhooks.com). */
export const STANDARD_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

function keyOf(secret: string): Buffer {
  const key = standardKey(secret);
  // Config validation refuses such secrets; reaching here is a bug, not a caller's mistake.
  if (!key) throw new Error('not a whsec_ secret of 24 to 64 bytes');
  return key;
}

const mac = (key: Buffer, id: string, timestamp: string, body: string | Buffer) =>
  createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();

/**
 * The headers of a Standard Webhooks message: `webhook-signature` is `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`, one per secret, space-separated (two during a rotation).
 */
export function signStandard(
  secrets: string[],
  id: string,
  body: string | Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const timestamp = String(nowSeconds);
  const signature = secrets
    .map((s) => `v1,${mac(keyOf(s), id, timestamp, body).toString('base64')}`)
    .join(' ');
  return {
    [STANDARD_HEADERS.id]: id,
    [STANDARD_HEADERS.timestamp]: timestamp,
    [STANDARD_HEADERS.signature]: signature,
  };
}

export interface StandardHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

/**
 * Constant-time check of a Standard Webhooks message against any of `secrets`, with a tolerance on its
 * timestamp both ways (default 5 minutes). Signatures of other versions than v1 are ignored.
 */
export function verifyStandard(
  secrets: string[],
  body: string | Buffer,
  h: StandardHeaders,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): VerifyResult {
  if (!h.id || !h.timestamp || !h.signature || !/^\d{1,12}$/.test(h.timestamp))
    return { ok: false, reason: 'malformed' };
  const candidates = h.signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'))
    .filter((b) => b.length === 32);
  if (candidates.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - Number(h.timestamp)) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = secrets.map((s) => mac(keyOf(s), h.id!, h.timestamp!, body));
  // Every pair is compared (no early exit), each in constant time.
  let match = false;
  for (const e of expected) for (const c of candidates) match = timingSafeEqual(e, c) || match;
  return match ? { ok: true } : { ok: false, reason: 'mismatch' };
}
