import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { webhook } from '../../connectors/webhook';
import { ConfigError, describeIssues, loadConfig, parseConfigFile } from '../../src/config/load';

const whsec = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;
const PLAIN = 'plain-secret-0123456789';

/** The webhook connector's resolved signing, or its validation messages. */
function signing(options: Record<string, unknown>) {
  const parsed = webhook.optionsSchema.safeParse({ url: 'http://x/hook', ...options });
  return parsed.success ? parsed.data.signing : describeIssues(parsed.error);
}
function source(config: unknown) {
  try {
    return parseConfigFile(JSON.stringify({ webhooks: { shop: config } }), 'c.json').webhooks.shop;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('webhook connector: signing option', () => {
  it('defaults to standard for whsec_ secrets and to sluice for any other secret (existing configs)', () => {
    const s = whsec();
    expect(signing({ secret: s })).toEqual({ scheme: 'standard', secrets: [s] });
    expect(signing({ secret: PLAIN })).toEqual({ scheme: 'sluice', secrets: [PLAIN] });
    expect(signing({})).toBeNull();
  });
  it('takes two secrets for a rotation and an explicit scheme over the default', () => {
    const [a, b] = [whsec(), whsec()];
    expect(signing({ secret: [a, b] })).toEqual({ scheme: 'standard', secrets: [a, b] });
    expect(signing({ secret: a, signing: 'sluice' })).toEqual({ scheme: 'sluice', secrets: [a] });
  });
  it.each<[Record<string, unknown>, string]>([
    [
      { secret: PLAIN, signing: 'standard' },
      'secret: secret must be "whsec_" followed by the base64 of 24 to 64',
    ],
    [{ secret: whsec(16) }, 'base64 of 24 to 64 random bytes'],
    [{ secret: 'whsec_not base64!' }, 'base64 of 24 to 64 random bytes'],
    [{ secret: [whsec(), PLAIN] }, 'signing: some secrets are "whsec_" and some are not'],
    [{ secret: [whsec(), whsec(), whsec()] }, 'at most two secrets'],
    [{ secret: 'short', signing: 'sluice' }, 'secret must be at least 16 chars'],
    [{ signing: 'standard' }, '"signing" needs a "secret"'],
    [{ secret: whsec(), signing: 'svix' }, 'signing'],
  ])('refuses %j: %s', (options, message) => {
    expect(signing(options)).toContain(message);
  });
  it('never repeats a secret in its messages', () => {
    const secret = 'whsec_c2VjcmV0LXRleHQ=';
    expect(signing({ secret })).not.toContain('c2VjcmV0LXRleHQ');
  });
});

describe('webhook sources: scheme option', () => {
  it('resolves the scheme like the connector: explicit, else by the secrets', () => {
    const s = whsec();
    expect(source({ secret: s })).toEqual({ scheme: 'standard', secrets: [s] });
    expect(source({ secret: s, scheme: 'standard' })).toEqual({ scheme: 'standard', secrets: [s] });
    expect(source({ secret: PLAIN })).toEqual({ scheme: 'sluice', secrets: [PLAIN] });
  });
  it('refuses a non-whsec_ secret for the standard scheme, naming the source', () => {
    expect(source({ secret: PLAIN, scheme: 'standard' })).toMatch(
      /webhooks\.shop\.secret: secret must be "whsec_"/,
    );
  });
  it('SLUICE_WEBHOOK_SECRETS: a whsec_ secret is a standard source, a malformed one stops start-up', () => {
    const s = whsec();
    const env = (secret: string) => ({ SLUICE_WEBHOOK_SECRETS: `erp:${secret}`, SLUICE_CONFIG: undefined });
    expect(loadConfig(env(s)).webhookSecrets.erp).toEqual({ scheme: 'standard', secrets: [s] });
    expect(loadConfig(env(PLAIN)).webhookSecrets.erp).toEqual({ scheme: 'sluice', secrets: [PLAIN] });
    expect(() => loadConfig(env('whsec_tooshort0123456'))).toThrow(ConfigError);
    expect(() => loadConfig(env('whsec_tooshort0123456'))).toThrow(/source "erp": secret must be "whsec_"/);
  });
});
