import { describe, expect, it } from 'vitest';
import { sign, verify } from '../../src/lib/signature';

const secret = 'a-very-secret-value-123';

describe('t=,v1= signatures', () => {
  it('verifies what it signs', () => {
    const header = sign(secret, '{"a":1}', 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verify(secret, '{"a":1}', header, 300, 1_700_000_100)).toEqual({ ok: true });
  });
  it('rejects a changed body, another secret, a stale or future time', () => {
    const header = sign(secret, 'body', 1_700_000_000);
    expect(verify(secret, 'body2', header, 300, 1_700_000_000)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify('another-secret-value-x', 'body', header, 300, 1_700_000_000)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verify(secret, 'body', header, 300, 1_700_000_301)).toEqual({ ok: false, reason: 'stale' });
    expect(verify(secret, 'body', header, 300, 1_699_999_699)).toEqual({ ok: false, reason: 'stale' });
  });
  it.each([undefined, '', 't=1', 'v1=abc', 't=x,v1=' + 'a'.repeat(64), 't=1,v1=zz', 'garbage'])(
    'treats %j as malformed',
    (header) => {
      expect(verify(secret, 'b', header, 300, 1)).toEqual({ ok: false, reason: 'malformed' });
    },
  );
});
