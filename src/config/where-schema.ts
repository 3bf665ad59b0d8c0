import { z } from 'zod';

/**
 * A route's `match.where`: conditions on the event's payload, data only (no code). A condition is a
 * field and one operator, `{ "field": "status", "eq": "active" }`; groups are `{ "all": [...] }`,
 * `{ "any": [...] }` and `{ "not": {...} }`. Compiled to a Postgres jsonpath (db/queue/where-jsonpath.ts).
 */
export const FIELD_OPS = ['eq', 'ne', 'in', 'exists', 'gt', 'gte', 'lt', 'lte', 'prefix'] as const;
export const GROUP_OPS = ['all', 'any', 'not'] as const;
export type FieldOp = (typeof FIELD_OPS)[number];

export type Scalar = string | number | boolean | null;
export interface Where {
  /** "a.b.c" (keys split on dots) or ["a", "b.c"] (keys as given, for keys that hold a dot). */
  field?: string | string[];
  eq?: Scalar;
  ne?: Scalar;
  in?: Scalar[];
  exists?: boolean;
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  prefix?: string;
  all?: Where[];
  any?: Where[];
  not?: Where;
}

export const MAX_WHERE_DEPTH = 8;
export const MAX_WHERE_CONDITIONS = 200;

// No NUL (Postgres text cannot hold it) and no lone surrogate (not a character): both would fail in SQL.
const Text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000') && !/\p{Cs}/u.test(s), 'must not hold NUL or a lone surrogate');
const ScalarSchema = z.union([Text(1024), z.number().finite(), z.boolean(), z.null()]);
const Ordered = z.union([z.number().finite(), Text(1024)]);
const Key = Text(128).min(1, 'a key must not be empty');
const FieldSchema = z.union([
  Text(512).refine((s) => s.split('.').every((k) => k.length > 0), 'a dotted path needs a key between dots'),
  z
    .array(Key)
    .min(1)
    .max(MAX_WHERE_DEPTH * 4),
]);

export const WhereSchema: z.ZodType<Where> = z.lazy(() =>
  z
    .object({
      field: FieldSchema.optional(),
      eq: ScalarSchema.optional(),
      ne: ScalarSchema.optional(),
      in: z.array(ScalarSchema).min(1).max(100).optional(),
      exists: z.boolean().optional(),
      gt: Ordered.optional(),
      gte: Ordered.optional(),
      lt: Ordered.optional(),
      lte: Ordered.optional(),
      prefix: Text(1024).min(1).optional(),
      all: z.array(WhereSchema).min(1).max(MAX_WHERE_CONDITIONS).optional(),
      any: z.array(WhereSchema).min(1).max(MAX_WHERE_CONDITIONS).optional(),
      not: WhereSchema.optional(),
    })
    .strict()
    .superRefine((w, ctx) => {
      const ops = [...FIELD_OPS, ...GROUP_OPS].filter((op) => Object.hasOwn(w, op));
      const grouped = ops.some((op) => (GROUP_OPS as readonly string[]).includes(op));
      const message =
        ops.length !== 1
          ? `give exactly one of ${[...FIELD_OPS, ...GROUP_OPS].join(', ')} (found ${ops.length ? ops.join(', ') : 'none'})`
          : grouped && w.field !== undefined
            ? `"${ops[0]}" is a group: it takes no "field"`
            : !grouped && w.field === undefined
              ? `"${ops[0]}" needs a "field" (a payload path such as "customer.country")`
              : null;
      if (message) ctx.addIssue({ code: 'custom', message });
    }),
);

/** Depth and size bounds over a whole `where` (a hostile config must not build a huge jsonpath). */
export function whereBoundsProblem(w: Where): string | null {
  let conditions = 0;
  let deepest = 0;
  const walk = (x: Where, depth: number) => {
    conditions++;
    deepest = Math.max(deepest, depth);
    for (const c of [...(x.all ?? []), ...(x.any ?? []), ...(x.not ? [x.not] : [])]) walk(c, depth + 1);
  };
  walk(w, 1);
  if (deepest > MAX_WHERE_DEPTH) return `groups nest ${deepest} deep: at most ${MAX_WHERE_DEPTH}`;
  if (conditions > MAX_WHERE_CONDITIONS)
    return `${conditions} conditions and groups: at most ${MAX_WHERE_CONDITIONS}`;
  return null;
}

/** `where` with its depth and size checked (what a route's `match.where` is). */
export const BoundedWhereSchema = WhereSchema.superRefine((w, ctx) => {
  const problem = whereBoundsProblem(w);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
