import { describe, expect, it } from 'vitest';
import { describeIssues } from '../../src/config/load';
import { ConfigFileSchema } from '../../src/config/route-schema';
import type { Where } from '../../src/config/where-schema';
import { compileWhere, quote } from '../../src/db/queue/where-jsonpath';

const route = (where: unknown) => ({
  routes: [{ name: 'erp', match: { entity: 'account', where }, connector: 'webhook', options: {} }],
});
/** The config loader's message for a route with this `where`, or null when it is valid. */
function problem(where: unknown): string | null {
  const data = route(where);
  const parsed = ConfigFileSchema.safeParse(data);
  return parsed.success ? null : describeIssues(parsed.error, data);
}

describe('match.where validation', () => {
  it('accepts every operator and nested all/any/not groups', () => {
    expect(
      problem({
        all: [
          { field: 'status', eq: 'active' },
          { field: 'status', ne: null },
          { field: ['meta', 'a.b'], in: ['x', 1, true] },
          { field: 'deleted_at', exists: false },
          {
            any: [
              { field: 'amount', gt: 10 },
              { field: 'amount', lte: -2.5 },
              { field: 'n', gte: 'b' },
            ],
          },
          { not: { field: 'email', prefix: 'test+' } },
          { field: 'x', lt: 3 },
        ],
      }),
    ).toBeNull();
  });

  it.each<[unknown, string]>([
    [{ field: 'a', eq: 1, ne: 2 }, 'routes[0].match.where (route "erp"): give exactly one of eq, ne, in'],
    [
      { field: 'a' },
      'give exactly one of eq, ne, in, exists, gt, gte, lt, lte, prefix, all, any, not (found none)',
    ],
    [{ eq: 1 }, '"eq" needs a "field"'],
    [{ field: 'a', all: [{ field: 'b', eq: 1 }] }, '"all" is a group: it takes no "field"'],
    [{ any: [{ field: 'a', eq: 1 }], field: 'x' }, '"any" is a group: it takes no "field"'],
    [{ field: 'a', like: 'x%' }, 'Unrecognized key: "like"'],
    [{ field: 'a..b', eq: 1 }, 'a dotted path needs a key between dots'],
    [{ field: 'a', eq: { nested: 1 } }, 'routes[0].match.where.eq'],
    [{ field: 'a', gt: true }, 'routes[0].match.where.gt'],
    [{ field: 'a', in: [] }, 'routes[0].match.where.in'],
    [{ field: 'a', eq: 'x\u0000y' }, 'must not hold NUL or a lone surrogate'],
    [{ field: ['a\uD800'], exists: true }, 'must not hold NUL or a lone surrogate'],
    [
      {
        all: [
          {
            any: [
              { field: 'a', eq: 1 },
              { field: 'b', code: 'x' },
            ],
          },
        ],
      },
      'routes[0].match.where.all[0].any[1]',
    ],
  ])('refuses %j with a message naming the place: %s', (where, message) => {
    expect(problem(where)).toContain(message);
  });

  it('refuses groups nested deeper than 8 and more than 200 conditions', () => {
    let deep: Where = { field: 'a', eq: 1 };
    for (let i = 0; i < 8; i++) deep = { not: deep };
    expect(problem(deep)).toContain('groups nest 9 deep: at most 8');
    const wide = { any: Array.from({ length: 200 }, (_, i) => ({ field: `f${i}`, eq: i })) };
    expect(problem(wide)).toContain('201 conditions and groups: at most 200');
  });
});

describe('match.where compiled to jsonpath', () => {
  it.each<[Where, string]>([
    [{ field: 'status', eq: 'active' }, 'exists($."status" ? (@ == "active"))'],
    [{ field: 'a.b', ne: null }, '!(exists($."a"."b" ? (@ == null)))'],
    [{ field: ['a.b'], in: ['x', 2, false] }, 'exists($."a.b" ? (@ == "x" || @ == 2 || @ == false))'],
    [{ field: 'a', exists: true }, 'exists($."a")'],
    [{ field: 'a', exists: false }, '!(exists($."a"))'],
    [{ field: 'n', gt: -1.5 }, 'exists($."n" ? (@ > -1.5))'],
    [{ field: 'n', lte: 1e21 }, 'exists($."n" ? (@ <= 1e+21))'],
    [{ field: 's', prefix: 'ab' }, 'exists($."s" ? (@ starts with "ab"))'],
    [
      {
        all: [{ field: 'a', eq: 1 }, { any: [{ field: 'b', lt: 2 }, { not: { field: 'c', exists: true } }] }],
      },
      '(exists($."a" ? (@ == 1)) && (exists($."b" ? (@ < 2)) || !(exists($."c"))))',
    ],
  ])('compiles %j to the expected predicate', (where, path) => {
    expect(compileWhere(where)).toBe(path);
  });

  it('escapes every character outside letters, digits, space and _.- in keys and strings', () => {
    expect(quote('a"b\\c')).toBe('"a\\u0022b\\u005cc"');
    expect(quote('") || true || ("')).toBe(
      '"\\u0022\\u0029 \\u007c\\u007c true \\u007c\\u007c \\u0028\\u0022"',
    );
    expect(quote('$.x\n💥')).toBe('"\\u0024.x\\u000a\\ud83d\\udca5"');
    // Whatever the input, the literal has exactly its two delimiting quotes and no backslash but \u escapes.
    const hostile = `"'\\$@?()[]{}|&!=<>*\n\t\u2028 "a" || true`;
    const q = quote(hostile);
    expect(q.slice(1, -1)).not.toMatch(/["]|\\(?!u[0-9a-f]{4})/);
  });
});
