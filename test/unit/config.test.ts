import { describe, expect, it } from 'vitest';
import { buildCallers } from '../../src/callout/build-callers';
import { ConfigError, loadConfig, parseConfigFile } from '../../src/config/load';
import { parseWebhookSecrets } from '../../src/config/env';

describe('config file', () => {
  it('applies defaults to a minimal route', () => {
    const cfg = parseConfigFile(
      JSON.stringify({
        routes: [
          { name: 'r', match: { entity: 'account' }, connector: 'webhook', options: { url: 'http://x' } },
        ],
      }),
      'c.json',
    );
    expect(cfg.routes[0]).toMatchObject({
      concurrency: 16,
      coalesce: true,
      retry: { maxAttempts: 10 },
      breaker: { resetTimeoutMs: 30_000 },
    });
  });
  it('reads YAML', () => {
    const cfg = parseConfigFile(
      'routes:\n  - name: r\n    match: { entity: "*" }\n    connector: webhook\n',
      'c.yaml',
    );
    expect(cfg.routes[0].match.entity).toBe('*');
  });
  it('names the route and the field of a bad route', () => {
    const bad = {
      routes: [{ name: 'billing', match: { entity: 'a' }, connector: 'webhook', concurrency: 0 }],
    };
    expect(() => parseConfigFile(JSON.stringify(bad), 'c.json')).toThrow(
      /routes\[0\]\.concurrency \(route "billing"\)/,
    );
  });
  it('refuses duplicate route names, unknown keys and unparsable files', () => {
    const r = { name: 'a', match: { entity: 'x' }, connector: 'webhook' };
    expect(() => parseConfigFile(JSON.stringify({ routes: [r, r] }), 'c.json')).toThrow(
      /duplicate route name/,
    );
    expect(() => parseConfigFile(JSON.stringify({ routez: [] }), 'c.json')).toThrow(ConfigError);
    expect(() => parseConfigFile('{', 'c.json')).toThrow(/cannot parse/);
  });
  it('validates connector options per route at build time', () => {
    const routes = parseConfigFile(
      JSON.stringify({
        routes: [
          { name: 'crm', match: { entity: 'a' }, connector: 'webhook', options: { url: 'not a url' } },
        ],
      }),
      'c.json',
    ).routes;
    expect(() => buildCallers(routes)).toThrow(/route "crm": options\.url/);
    const unknown = parseConfigFile(
      JSON.stringify({ routes: [{ name: 'x', match: { entity: 'a' }, connector: 'fax' }] }),
      'c.json',
    ).routes;
    expect(() => buildCallers(unknown)).toThrow(/route "x": connector: unknown "fax"/);
  });
});

describe('environment', () => {
  it('defaults', () => {
    const { env } = loadConfig({ SLUICE_CONFIG: undefined });
    expect(env).toMatchObject({
      PORT: 8080,
      KAFKA_TOPIC: 'sluice.changes',
      SLUICE_BATCH_SIZE: 500,
      SLUICE_TIME_ZONE: 'UTC',
    });
    // Unset, the planner settings in the database stand (see applyConfig): no default may override them.
    expect(env.SLUICE_MAX_ACTIVE).toBeUndefined();
    expect(env.SLUICE_RESERVE_HORIZON_MINUTES).toBeUndefined();
  });
  it('rejects bad values with the variable named', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ SLUICE_TIME_ZONE: 'Mars/Olympus_Mons' })).toThrow(/SLUICE_TIME_ZONE/);
    expect(() => loadConfig({ SLUICE_MAX_ACTIVE: '0' })).toThrow(/SLUICE_MAX_ACTIVE/);
    expect(loadConfig({ SLUICE_TIME_ZONE: 'europe/paris' }).env.SLUICE_TIME_ZONE).toBe('Europe/Paris');
    expect(() => loadConfig({ SLUICE_CONFIG: '/nonexistent.json' })).toThrow(/file not found/);
  });
  it('parses webhook secrets and refuses weak ones', () => {
    expect(parseWebhookSecrets(['github:0123456789abcdef0'])).toEqual({ github: '0123456789abcdef0' });
    // Named by position, never by its text (a pair without its colon is all secret).
    expect(() => parseWebhookSecrets(['a:0123456789abcdef', 'github:short'])).toThrow(
      /pair 2 of 2 has a secret shorter than 16 chars/,
    );
    expect(() => parseWebhookSecrets(['nocolon'])).toThrow(/pair 1 of 1 has no "source:"/);
    expect(() => parseWebhookSecrets(['nocolon'])).not.toThrow(/nocolon/);
  });
});
