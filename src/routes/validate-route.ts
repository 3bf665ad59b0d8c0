import { checkConnector } from '../callout/build-callers';
import { describeIssues } from '../config/load';
import { RouteSchema, type RouteConfig } from '../config/route-schema';

/**
 * One route checked exactly as the route file's routes are: the route schema, then its connector's
 * options. Problems read `route "<name>": <field>: <message>`, as `sluice start` reports a bad file.
 */
export function validateRoute(data: unknown): { route: RouteConfig } | { problems: string[] } {
  const parsed = RouteSchema.safeParse(data);
  if (!parsed.success) {
    const name = (data as { name?: unknown } | null)?.name;
    const prefix = typeof name === 'string' ? `route "${name}": ` : 'route: ';
    return {
      problems: describeIssues(parsed.error)
        .split('\n')
        .map((line) => prefix + line),
    };
  }
  const checked = checkConnector(parsed.data);
  return 'problems' in checked ? checked : { route: parsed.data };
}
