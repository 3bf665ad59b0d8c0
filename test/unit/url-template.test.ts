import { describe, expect, it } from 'vitest';
import type { DeliveryEvent } from '../../connectors';
import { assertWithin, renderUrl, UrlTemplateSchema } from '../../connectors/url-template';

const ev = (recordId: string, payload: unknown = {}): DeliveryEvent => ({
  eventId: 'e-1',
  route: 'r',
  entity: 'account',
  recordId,
  op: 'update',
  source: 'api',
  occurredAt: new Date('2026-01-01T00:00:00Z'),
  payload,
  attempts: 1,
  mergedCount: 0,
});

describe('URL templates', () => {
  it('keeps each value one literal path segment, whatever it holds', () => {
    const t = 'https://api.example.com/v2/{entity}s/{recordId}';
    for (const id of ['%2e%2e', '/', '?', '#', '\\', '%2F', '../admin', 'a/../../b', '...', '.a', '..;x'])
      expect(renderUrl(t, ev(id))).toBe(`https://api.example.com/v2/accounts/${encodeURIComponent(id)}`);
  });

  it('throws on a value that would be a dot segment, alone or joined with another value', () => {
    for (const id of ['.', '..'])
      expect(() => renderUrl('https://h/v2/{entity}s/{recordId}', ev(id))).toThrow(
        `would be the dot segment "${id}" in the URL path`,
      );
    expect(() => renderUrl('https://h/v2/{recordId}{payload.x}/y', ev('.', { x: '.' }))).toThrow(
      'would be the dot segment ".."',
    );
    expect(() => renderUrl('https://h/api/{recordId}/sub?tag=x', ev('..'))).toThrow('dot segment');
  });

  it('refuses a URL that leaves the origin or the path prefix, or changes a fixed path', () => {
    expect(() => assertWithin('https://h/v1/x', 'https://h', '/v2/')).toThrow(/leave the route's origin/);
    expect(() => assertWithin('https://evil/v2/x', 'https://h', '/v2/')).toThrow(/leave the route's origin/);
    expect(() => assertWithin('https://h/a/b2', 'https://h', '/a/b', true)).toThrow(/leave/);
    expect(() => assertWithin('https://h/v2/%2E%2E/x', 'https://h', '/v2/')).toThrow(/dot segment "%2E%2E"/);
    expect(() => assertWithin('https://h/v2/a\\..\\x', 'https://h', '/v2/')).toThrow(/dot segment/);
    expect(() => assertWithin('https://h/v2/x', 'https://h', '/v2/')).not.toThrow();
    // A placeholder only in the query: the path is fixed.
    expect(renderUrl('https://h/hook?id={recordId}', ev('../x'))).toBe('https://h/hook?id=..%2Fx');
  });

  it('refuses templates whose placeholders could fill the scheme, host or port', () => {
    for (const url of [
      'https://{payload.host}/x',
      'https://api.{payload.tenant}.com/x',
      'http://h:{payload.port}/',
      'https://h{recordId}',
    ])
      expect(UrlTemplateSchema.safeParse(url).success, url).toBe(false);
    for (const url of ['https://h/{recordId}', 'https://h?x={recordId}', 'https://h:8443/a/{entity}/b'])
      expect(UrlTemplateSchema.safeParse(url).success, url).toBe(true);
  });
});
