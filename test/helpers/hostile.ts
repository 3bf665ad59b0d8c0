import fc from 'fast-check';

/** Values that have broken parsers, SQL and URL handling somewhere before (fast-check), shared by the hostile-input suite. */

export const nasty = fc.constantFrom(
  '',
  ' ',
  "'",
  "' OR 1=1 --",
  '1; DROP TABLE event_queue; --',
  '../../etc/passwd',
  '%00',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '%zz',
  '%',
  '💥',
  'é',
  '-1',
  '0',
  '1e309',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '9223372036854775808',
  '99999999999999999999999999',
  '0000-00-00T00:00:00Z',
  '2026-02-31T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999999+14:00',
  '00000000-0000-0000-0000-000000000000',
  'x'.repeat(5000),
  '__proto__',
  'constructor',
);
export const text = fc.oneof(
  nasty,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
);
export const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nasty, fc.constant(null));
