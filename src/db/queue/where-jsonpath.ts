import type { Scalar, Where } from '../../config/where-schema';

/**
 * Compiles a validated `where` into a Postgres jsonpath predicate, evaluated with `payload @@ path` in
 * sluice_enqueue (migration 0011). Injection-safe by construction: every key and string value is a
 * double-quoted jsonpath string in which every character outside a small safe set is a \uXXXX escape,
 * so nothing a config holds can close a string or add syntax; numbers come from finite JS numbers.
 *
 * Each comparison is `exists(path ? (@ op value))`: true or false, never "unknown" (a value of another
 * type, or a missing field, simply doesn't match), and lax mode tests each element of an array field.
 */
export function compileWhere(w: Where): string {
  if (w.all) return `(${w.all.map(compileWhere).join(' && ')})`;
  if (w.any) return `(${w.any.map(compileWhere).join(' || ')})`;
  if (w.not) return `!(${compileWhere(w.not)})`;
  const path = pathOf(w.field!);
  const test = (pred: string) => `exists(${path} ? (${pred}))`;
  if (w.eq !== undefined) return test(`@ == ${literal(w.eq)}`);
  if (w.ne !== undefined) return `!(${test(`@ == ${literal(w.ne)}`)})`;
  if (w.in !== undefined) return test(w.in.map((v) => `@ == ${literal(v)}`).join(' || '));
  if (w.exists !== undefined) return w.exists ? `exists(${path})` : `!(exists(${path}))`;
  if (w.gt !== undefined) return test(`@ > ${literal(w.gt)}`);
  if (w.gte !== undefined) return test(`@ >= ${literal(w.gte)}`);
  if (w.lt !== undefined) return test(`@ < ${literal(w.lt)}`);
  if (w.lte !== undefined) return test(`@ <= ${literal(w.lte)}`);
  if (w.prefix !== undefined) return test(`@ starts with ${quote(w.prefix)}`);
  throw new Error('where: no operator (the schema should have refused it)');
}

function pathOf(field: string | string[]): string {
  const keys = typeof field === 'string' ? field.split('.') : field;
  return '$' + keys.map((k) => `.${quote(k)}`).join('');
}

function literal(v: Scalar): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('where: a number must be finite');
    return String(v);
  }
  return quote(v);
}

/** A jsonpath string literal: letters, digits, space and `_-.` as they are, everything else \uXXXX. */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    out += /[A-Za-z0-9 _.-]/.test(c) ? c : `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return out + '"';
}
