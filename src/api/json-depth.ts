import type { FastifyInstance } from 'fastify';

/** The deepest nesting of arrays and objects a JSON body may have (Postgres' jsonb overflows its stack far below 4,000). */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests arrays and objects deeper than `max`; never recurses past `max`. */
export function exceedsDepth(value: unknown, max = MAX_JSON_DEPTH, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth >= max) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value))
    if (exceedsDepth(v, max, depth + 1)) return true;
  return false;
}

/** A 400 `json_too_deep` (mapped in errors.ts); a caller's mistake, so nothing is logged. */
export function jsonTooDeepError(): Error {
  return Object.assign(new Error(`JSON nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`), {
    statusCode: 400,
    code: 'SLUICE_JSON_TOO_DEEP',
  });
}

/** Fastify's own JSON parser (prototype poisoning refused), then the depth limit. */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    parse(req, body as string, (err, value) => {
      if (err) return done(err, undefined);
      if (exceedsDepth(value)) return done(jsonTooDeepError(), undefined);
      done(null, value);
    }),
  );
}
