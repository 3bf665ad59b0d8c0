import { z } from 'zod';

/**
 * How webhooks are signed, both ways: `standard` (Standard Webhooks: webhook-id, webhook-timestamp,
 * webhook-signature, `whsec_<base64>` secrets) or `sluice` (X-Sluice-Signature: t=,v1=<hex>). The one
 * rule for a config that names no scheme lives here: `whsec_` secrets mean standard, any other secret
 * means sluice, so configs written before Standard Webhooks keep their signatures unchanged.
 */
export const SCHEMES = ['standard', 'sluice'] as const;
export type SigningScheme = (typeof SCHEMES)[number];
export const SchemeSchema = z.enum(SCHEMES);

/** A verified or signing party: its scheme and one secret, or two during a rotation. */
export interface SigningSecrets {
  scheme: SigningScheme;
  /** Signing sends one signature per secret; verifying accepts a signature made with any of them. */
  secrets: string[];
}

export const STANDARD_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The key bytes of a `whsec_<base64>` secret, or null when it is not one of 24 to 64 bytes (the spec's range). */
export function standardKey(secret: string): Buffer | null {
  if (!secret.startsWith(STANDARD_PREFIX)) return null;
  const b64 = secret.slice(STANDARD_PREFIX.length);
  if (!BASE64.test(b64) || b64.length % 4 !== 0) return null;
  const key = Buffer.from(b64, 'base64');
  return key.length >= 24 && key.length <= 64 ? key : null;
}

/** One secret, or a list of one or two (during a rotation); always read back as a list. */
export const SecretsSchema = z.preprocess(
  (s) => (typeof s === 'string' ? [s] : s),
  z
    .array(z.string(), { error: 'must be a secret or a list of one or two secrets' })
    .min(1, 'must hold a secret')
    .max(2, 'at most two secrets (the new and the old one, during a rotation)'),
);

/** The scheme to use: the explicit one, else standard when every secret is `whsec_`, sluice when none is. */
export function resolveScheme(explicit: SigningScheme | undefined, secrets: string[]): SigningScheme | null {
  if (explicit) return explicit;
  const standard = secrets.filter((s) => s.startsWith(STANDARD_PREFIX)).length;
  if (standard === secrets.length) return 'standard';
  return standard === 0 ? 'sluice' : null;
}

/** What is wrong with these secrets for this scheme (null: nothing). Never repeats a secret's text. */
export function secretsProblem(scheme: SigningScheme, secrets: string[]): string | null {
  for (const [i, s] of secrets.entries()) {
    const which = secrets.length > 1 ? `secret ${i + 1}` : 'secret';
    if (scheme === 'standard' && !standardKey(s))
      return `${which} must be "whsec_" followed by the base64 of 24 to 64 random bytes (Standard Webhooks)`;
    if (scheme === 'sluice' && s.length < 16) return `${which} must be at least 16 chars`;
  }
  return null;
}

/**
 * Resolves and checks a scheme and its secrets, adding an issue at `path` when they don't fit; the
 * result is what signing and verifying use. `key` names the scheme's field in the message.
 */
export function checkSigning(
  explicit: SigningScheme | undefined,
  secrets: string[],
  ctx: z.RefinementCtx,
  key: string,
): SigningSecrets {
  const scheme = resolveScheme(explicit, secrets);
  if (!scheme) {
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message: `some secrets are "whsec_" and some are not: set "${key}" to "standard" or "sluice"`,
    });
    return { scheme: 'sluice', secrets };
  }
  const problem = secretsProblem(scheme, secrets);
  if (problem)
    ctx.addIssue({ code: 'custom', path: ['secret'], message: `${problem} ("${key}": "${scheme}")` });
  return { scheme, secrets };
}
