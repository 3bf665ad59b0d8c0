import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../../src/config/env';
import { sessionOptions, sluiceSchema } from '../../src/db/schema-name';

describe('SLUICE_SCHEMA', () => {
  it('defaults to sluice and is read from the environment', () => {
    expect(sluiceSchema({})).toBe('sluice');
    expect(sluiceSchema({ SLUICE_SCHEMA: 'queue_2' })).toBe('queue_2');
  });

  it.each([
    ['public', /must not own/],
    ['pg_sluice', /must not own/],
    ['information_schema', /must not own/],
    ['Sluice', /lower-case plain identifier/],
    ['a-b', /lower-case plain identifier/],
    ['x; DROP TABLE t', /lower-case plain identifier/],
    ['a'.repeat(64), /lower-case plain identifier/],
  ])('refuses %s with the reason, also when the service parses its environment', (name, reason) => {
    expect(() => sluiceSchema({ SLUICE_SCHEMA: name })).toThrow(reason);
    const parsed = EnvSchema.safeParse({ SLUICE_SCHEMA: name });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].message).toMatch(reason);
  });

  it('puts Sluice sessions on its schema alone, JIT off, with any other settings after it', () => {
    const saved = process.env.SLUICE_SCHEMA;
    process.env.SLUICE_SCHEMA = 'q1';
    try {
      expect(sessionOptions()).toBe('-c search_path=q1 -c jit=off');
      expect(sessionOptions('synchronous_commit=off')).toBe(
        '-c search_path=q1 -c jit=off -c synchronous_commit=off',
      );
    } finally {
      if (saved === undefined) delete process.env.SLUICE_SCHEMA;
      else process.env.SLUICE_SCHEMA = saved;
    }
  });
});
