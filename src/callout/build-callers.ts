import { connectors } from '../../connectors';
import { ConfigError, describeIssues } from '../config/load';
import type { RouteConfig } from '../config/route-schema';
import { RouteCaller, type RouteCallerHooks } from './route-caller';

type Log = ConstructorParameters<typeof RouteCaller>[3];

/**
 * A route's connector name, options and batch size checked against its connector: the parsed options,
 * or the problems as `route "<name>": <field>: <message>` lines (the route file's and the API's wording).
 */
export function checkConnector(route: RouteConfig): { options: unknown } | { problems: string[] } {
  const connector = connectors[route.connector];
  if (!connector)
    return {
      problems: [
        `route "${route.name}": connector: unknown "${route.connector}" (known: ${Object.keys(connectors).join(', ')})`,
      ],
    };
  const parsed = connector.optionsSchema.safeParse(route.options);
  if (!parsed.success)
    return {
      problems: describeIssues(parsed.error)
        .split('\n')
        .map((line) => `route "${route.name}": options.${line}`),
    };
  if (route.batchSize && route.batchSize > (connector.maxBatch ?? 1)) {
    const most = connector.maxBatch
      ? `at most ${connector.maxBatch} events per request`
      : 'one event per request';
    return { problems: [`route "${route.name}": batchSize: connector "${connector.name}" takes ${most}`] };
  }
  return { options: parsed.data };
}

/** Builds a caller per route, validating each route's connector name and options; errors name the route and field. */
export function buildCallers(
  routes: RouteConfig[],
  log?: Log,
  hooks?: RouteCallerHooks,
): Map<string, RouteCaller> {
  const callers = new Map<string, RouteCaller>();
  const problems: string[] = [];
  for (const route of routes) {
    const checked = checkConnector(route);
    if ('problems' in checked) {
      problems.push(...checked.problems);
      continue;
    }
    callers.set(route.name, new RouteCaller(route, connectors[route.connector], checked.options, log, hooks));
  }
  if (problems.length) throw new ConfigError(`invalid routes\n${problems.join('\n')}`);
  return callers;
}
