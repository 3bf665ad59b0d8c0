import { describe, expect, it } from 'vitest';
import {
  classifyError,
  classifyFailure,
  classifyResponse,
  HttpStatusError,
  parseRetryAfter,
} from '../../src/callout/classify';

describe('callout classification', () => {
  it.each([500, 502, 503, 504, 408, 429])('%i is retriable', (status) => {
    expect(classifyResponse({ status, data: 'x' }).kind).toBe('retriable');
  });
  it.each([400, 401, 403, 404, 409, 410, 422, 301])('%i is permanent, with an excerpt', (status) => {
    const o = classifyResponse({ status, data: { message: 'no such account' } });
    expect(o).toMatchObject({ kind: 'permanent', status, response: '{"message":"no such account"}' });
  });
  it('reads Retry-After on 429 and 503 only', () => {
    expect(classifyResponse({ status: 429, headers: { 'retry-after': '7' } })).toMatchObject({
      retryAfterMs: 7000,
    });
    expect(classifyResponse({ status: 503, headers: { 'retry-after': '1.5' } })).toMatchObject({
      retryAfterMs: 1500,
    });
    expect(classifyResponse({ status: 500, headers: { 'retry-after': '7' } })).not.toHaveProperty(
      'retryAfterMs',
    );
  });
  it('parses HTTP-date Retry-After and ignores junk', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
  it('network errors and timeouts are retriable; others permanent', () => {
    expect(classifyError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).kind).toBe(
      'retriable',
    );
    expect(classifyError(Object.assign(new Error('t'), { code: 'ECONNABORTED' })).kind).toBe('retriable');
    expect(classifyError(Object.assign(new Error('aborted'), { name: 'AbortError' })).kind).toBe('retriable');
    expect(classifyError(new TypeError('bad url')).kind).toBe('permanent');
  });
  it('TLS and unknown network codes are retriable; a bad URL or option is not', () => {
    const coded = (code: string) => classifyError(Object.assign(new Error(code), { code }));
    expect(coded('CERT_HAS_EXPIRED').kind).toBe('retriable');
    expect(coded('EPROTO').kind).toBe('retriable');
    expect(coded('ERR_CANCELED').kind).toBe('retriable');
    expect(coded('ERR_INVALID_URL').kind).toBe('permanent');
    expect(coded('ERR_BAD_OPTION_VALUE').kind).toBe('permanent');
  });
  it('classifyFailure: responses by status, transport errors by code', () => {
    const res = { status: 404, headers: {}, data: 'nope' };
    expect(classifyFailure(new HttpStatusError(res))).toMatchObject({ kind: 'permanent', status: 404 });
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' })).kind).toBe('retriable');
  });
  it('truncates long bodies', () => {
    const o = classifyResponse({ status: 400, data: 'y'.repeat(2000) });
    expect(o.kind === 'permanent' && o.response!.length).toBeLessThanOrEqual(501);
  });
});
