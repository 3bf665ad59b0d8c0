import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyError,
  classifyFailure,
  classifyResponse,
  excerpt,
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

  describe('excerpt', () => {
    // What excerpt() was before long arrays were written only as far as the excerpt reaches.
    const whole = (data: unknown, max: number) => {
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      return text.length > max ? `${text.slice(0, max)}…` : text;
    };

    it('keeps a long array response to its first characters, as if the whole were written', () => {
      const results = Array.from({ length: 200 }, (_, i) => ({ id: `001${i}`, success: true, errors: [] }));
      const got = excerpt(results, 512);
      expect(got).toBe(whole(results, 512));
      expect(got).toHaveLength(513);
      expect(excerpt(results.slice(0, 3), 512)).toBe(JSON.stringify(results.slice(0, 3)));
      for (const n of [15, 16, 17, 20, 63, 64, 65, 200])
        for (const max of [0, 1, 40, 41, 42, 500, 2_600, 10_000])
          expect(excerpt(results.slice(0, n), max)).toBe(whole(results.slice(0, n), max));
    });

    it('is exact at the boundary where the first elements alone reach max', () => {
      const data = Array.from({ length: 70 }, (_, i) => ({ n: i, ok: true }));
      for (const n of [16, 64]) {
        const head = JSON.stringify(data.slice(0, n)).length;
        for (let max = head - 3; max <= head + 2; max++) expect(excerpt(data, max)).toBe(whole(data, max));
      }
    });

    it('matches the whole text for any JSON array or value and any max', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 300, size: 'max' }), fc.jsonValue()),
          fc.integer({ min: 0, max: 600 }),
          (data, max) => {
            if (data === null) return;
            expect(excerpt(data, max)).toBe(whole(data, max));
          },
        ),
        { numRuns: 300 },
      );
    });

    it('writes holes, undefined and toJSON elements as the whole text does', () => {
      const at = { toJSON: (key: string) => `at ${key}` };
      // eslint-disable-next-line no-sparse-arrays
      const data = [...Array.from({ length: 40 }, (_, i) => (i % 3 ? at : undefined)), , 'x'.repeat(300)];
      for (const max of [0, 5, 100, 200, 2000]) expect(excerpt(data, max)).toBe(whole(data, max));
      const own = Object.assign([1, 2, 3], { toJSON: () => 'own' });
      expect(excerpt(own, 100)).toBe('"own"');
    });
  });
});
