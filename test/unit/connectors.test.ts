import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AxiosResponse } from 'axios';
import { describe, expect, it } from 'vitest';
import { connectors, type DeliveryEvent } from '../../connectors';
import { rest } from '../../connectors/rest';
import { salesforce } from '../../connectors/salesforce';
import { ALERT_ENTITY, slack } from '../../connectors/slack';
import { webhook } from '../../connectors/webhook';
import { buildCallers } from '../../src/callout/build-callers';
import { parseConfigFile } from '../../src/config/load';
import { RouteSchema } from '../../src/config/route-schema';
import { verify } from '../../src/lib/signature';

const ev = (over: Partial<DeliveryEvent> = {}): DeliveryEvent => ({
  eventId: 'e-1',
  route: 'r',
  entity: 'account',
  recordId: 'a/1',
  op: 'update',
  source: 'api',
  occurredAt: new Date('2026-01-01T00:00:00Z'),
  payload: { name: 'Ada', address: { city: 'London' } },
  attempts: 1,
  mergedCount: 0,
  ...over,
});

const opts = <T>(c: { optionsSchema: { parse(x: unknown): T } }, o: unknown): T => c.optionsSchema.parse(o);

/** Builds callers for one route and returns the start-up error message (or '' when valid). */
function startupError(route: Record<string, unknown>): string {
  try {
    buildCallers([RouteSchema.parse({ name: 'crm', match: { entity: 'a' }, ...route })]);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('webhook connector', () => {
  it('signs the exact body it sends so receivers can verify it with the scheme Sluice accepts', () => {
    const o = opts(webhook, { url: 'http://x/hook', secret: 'sixteen-chars-secret' });
    const req = webhook.buildRequest([ev()], o);
    const body = req.data as string;
    expect(JSON.parse(body)).toMatchObject({ eventId: 'e-1', recordId: 'a/1', payload: { name: 'Ada' } });
    const sig = (req.headers as Record<string, string>)['x-sluice-signature'];
    expect(verify('sixteen-chars-secret', body, sig)).toEqual({ ok: true });
    expect(verify('another-secret-value', body, sig)).toEqual({ ok: false, reason: 'mismatch' });
  });
  it('sends no signature without a secret', () => {
    const req = webhook.buildRequest([ev()], opts(webhook, { url: 'http://x/hook' }));
    expect(req.headers).not.toHaveProperty('x-sluice-signature');
  });
});

describe('rest connector', () => {
  it('fills the URL template (encoded), maps the body and adds bearer auth', () => {
    const o = opts(rest, {
      url: 'https://api.example.com/{entity}/{recordId}?src={source}',
      method: 'PUT',
      body: { id: 'recordId', city: 'payload.address.city', missing: 'payload.nope' },
      auth: { type: 'bearer', token: 't0k' },
    });
    const req = rest.buildRequest([ev()], o);
    expect(req).toMatchObject({ method: 'PUT', url: 'https://api.example.com/account/a%2F1?src=api' });
    expect(JSON.parse(req.data as string)).toEqual({ id: 'a/1', city: 'London' });
    expect(req.headers).toMatchObject({ authorization: 'Bearer t0k', 'content-type': 'application/json' });
  });
  it('uses methodByOp, sends no body for DELETE, and supports basic and custom-header auth', () => {
    const o = opts(rest, {
      url: 'https://api.example.com/{entity}/{recordId}',
      methodByOp: { delete: 'DELETE' },
      auth: { type: 'basic', username: 'u', password: 'p' },
    });
    const del = rest.buildRequest([ev({ op: 'delete' })], o);
    expect(del).toMatchObject({ method: 'DELETE' });
    expect(del.data).toBeUndefined();
    expect(del.headers).toMatchObject({ authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
    const upd = rest.buildRequest([ev()], o);
    expect(upd.method).toBe('POST');
    expect(JSON.parse(upd.data as string)).toMatchObject({ eventId: 'e-1', op: 'update' });
    const hdr = opts(rest, {
      url: 'https://x/{recordId}',
      body: 'payload',
      auth: { type: 'header', name: 'X-Api-Key', value: 'k' },
    });
    const req = rest.buildRequest([ev()], hdr);
    expect(req.headers).toMatchObject({ 'x-api-key': 'k' });
    expect(JSON.parse(req.data as string)).toEqual({ name: 'Ada', address: { city: 'London' } });
  });
  it('refuses unknown placeholders, bad mappings and unknown auth at start-up, naming route and field', () => {
    expect(startupError({ connector: 'rest', options: { url: 'https://x/{recordID}' } })).toMatch(
      /route "crm": options\.url: unknown placeholder \{recordID\}/,
    );
    expect(
      startupError({ connector: 'rest', options: { url: 'https://x/', body: { id: 'record' } } }),
    ).toMatch(/route "crm": options\.body/);
    expect(
      startupError({ connector: 'rest', options: { url: 'https://x/', auth: { type: 'oauth' } } }),
    ).toMatch(/route "crm": options\.auth/);
    expect(startupError({ connector: 'rest', options: { url: 'ftp://x/' } })).toMatch(
      /options\.url: must start with http/,
    );
  });
});

describe('salesforce composite connector', () => {
  const o = opts(salesforce, {
    instanceUrl: 'https://acme.my.salesforce.com/',
    externalIdField: 'Ext__c',
    sObject: 'Account',
    fields: { Name: 'payload.name' },
    auth: { type: 'bearer', token: 'sf' },
  });
  const response = (data: unknown) => ({ status: 200, data }) as AxiosResponse;

  it('upserts up to 200 records by external ID with allOrNone false', () => {
    expect(salesforce.maxBatch).toBe(200);
    const req = salesforce.buildRequest([ev(), ev({ recordId: 'b', payload: { name: 'Bo' } })], o);
    expect(req).toMatchObject({
      method: 'PATCH',
      url: 'https://acme.my.salesforce.com/services/data/v60.0/composite/sobjects/Account/Ext__c',
    });
    expect(JSON.parse(req.data as string)).toEqual({
      allOrNone: false,
      records: [
        { attributes: { type: 'Account' }, Name: 'Ada', Ext__c: 'a/1' },
        { attributes: { type: 'Account' }, Name: 'Bo', Ext__c: 'b' },
      ],
    });
  });
  it('keeps hard deletes apart from upserts, and soft-deletes when deletedField is set', () => {
    expect(salesforce.groupKey!(ev({ op: 'delete' }), o)).not.toBe(salesforce.groupKey!(ev(), o));
    const del = salesforce.buildRequest(
      [ev({ op: 'delete', recordId: '001A' }), ev({ recordId: '001B' })],
      o,
    );
    expect(del).toMatchObject({
      method: 'DELETE',
      url: 'https://acme.my.salesforce.com/services/data/v60.0/composite/sobjects?ids=001A,001B&allOrNone=false',
    });
    const soft = { ...o, deletedField: 'Deleted__c' };
    expect(salesforce.groupKey!(ev({ op: 'delete' }), soft)).toBe(salesforce.groupKey!(ev(), soft));
    const req = salesforce.buildRequest([ev({ op: 'delete' })], soft);
    expect(JSON.parse(req.data as string).records[0]).toMatchObject({ Deleted__c: true, Ext__c: 'a/1' });
  });
  it('maps results back per record: success, retriable lock errors, permanent field errors', () => {
    const events = [ev({ recordId: '1' }), ev({ recordId: '2' }), ev({ recordId: '3' })];
    const out = salesforce.readResponse!(
      events,
      response([
        { id: '001', success: true, errors: [] },
        { success: false, errors: [{ statusCode: 'UNABLE_TO_LOCK_ROW', message: 'locked' }] },
        { success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Name' }] },
      ]),
      o,
    );
    expect(out.map((x) => x.kind)).toEqual(['success', 'retriable', 'permanent']);
    expect(out[2]).toMatchObject({ error: 'REQUIRED_FIELD_MISSING: Name' });
    expect(out[2].kind === 'permanent' && out[2].response).toMatch(/REQUIRED_FIELD_MISSING/);
  });
  it('a response that does not match the records is retriable for all (upserts are safe to repeat)', () => {
    const out = salesforce.readResponse!([ev(), ev()], response([{ success: true }]), o);
    expect(out.map((x) => x.kind)).toEqual(['retriable', 'retriable']);
  });
  it('refuses a batchSize over 200 and batchSize on one-per-request connectors', () => {
    const options = { instanceUrl: 'https://x', externalIdField: 'Ext__c' };
    expect(startupError({ connector: 'salesforce', options, batchSize: 500 })).toMatch(
      /route "crm": batchSize: .* at most 200/,
    );
    expect(startupError({ connector: 'salesforce', options, batchSize: 50 })).toBe('');
    expect(startupError({ connector: 'webhook', options: { url: 'http://x' }, batchSize: 5 })).toMatch(
      /one event per request/,
    );
    expect(startupError({ connector: 'salesforce', options: { instanceUrl: 'https://x' } })).toMatch(
      /options\.externalIdField/,
    );
  });
});

describe('slack connector', () => {
  const o = opts(slack, {
    url: 'https://hooks.slack.com/services/T/B/x',
    text: '{op} {entity} {payload.name}',
  });
  it('renders data events with the text template', () => {
    const req = slack.buildRequest([ev()], o);
    expect(JSON.parse(req.data as string)).toEqual({ text: 'update account Ada' });
  });
  it('posts Sluice alerts as prepared', () => {
    const req = slack.buildRequest([ev({ entity: ALERT_ENTITY, payload: { text: 'breaker open' } })], o);
    expect(JSON.parse(req.data as string)).toEqual({ text: 'breaker open' });
  });
});

describe('config: connectors registry and alerts', () => {
  it('has the four built-in connectors', () => {
    expect(Object.keys(connectors).sort()).toEqual(['rest', 'salesforce', 'slack', 'webhook']);
  });
  it('alerts must name an existing slack route', () => {
    const routes = [
      { name: 'hook', match: { entity: 'a' }, connector: 'webhook', options: { url: 'http://x' } },
      { name: 'ops', match: { entity: 'sluice.alert' }, connector: 'slack', options: { url: 'http://s' } },
    ];
    const parse = (alerts: unknown) => parseConfigFile(JSON.stringify({ routes, alerts }), 'c.json');
    expect(parse({ route: 'ops' }).alerts).toMatchObject({ route: 'ops', minIntervalMs: 60_000 });
    expect(() => parse({ route: 'nope' })).toThrow(/alerts\.route: no route named "nope"/);
    expect(() => parse({ route: 'hook' })).toThrow(
      /alerts\.route: route "hook" must use the slack connector/,
    );
    expect(() => parse({ route: 'ops', kinds: ['fire'] })).toThrow(/alerts\.kinds\[0\]/);
  });
});

describe('README: the Connectors section examples are valid', () => {
  it('every options example validates against its connector, and the alerts config starts', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const start = readme.indexOf('## Connectors');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const blocks = [...section.matchAll(/\*\*`(\w+)`\*\*|```json\n([\s\S]*?)```/g)];
    let connector = '';
    let checked = 0;
    for (const [, name, json] of blocks) {
      if (name) {
        connector = name;
        continue;
      }
      const data = JSON.parse(json) as Record<string, unknown>;
      if ('routes' in data) {
        const cfg = parseConfigFile(json, 'README.json');
        expect(buildCallers(cfg.routes).size).toBe(cfg.routes.length);
      } else {
        const result = connectors[connector].optionsSchema.safeParse(data);
        expect(result.success, `${connector}: ${JSON.stringify(result.error?.issues)}`).toBe(true);
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });
});
