import { connectors } from '../../connectors';
import { ConfigError, describeIssues } from '../config/load';
import type { RouteConfig } from '../config/route-schema';
import { RouteCaller, type RouteCallerHooks } from './route-caller';

type Log = ConstructorParameters<typeof RouteCaller>[3];

/** Builds a caller per route, validating each route's connector name and options; errors name the route and field. */
export function buildCallers(
  routes: RouteConfig[],
  log?: Log,
  hooks?: RouteCallerHooks,
): Map<string, RouteCaller> {
  const callers = new Map<string, RouteCaller>();
  const problems: string[] = [];
  for (const route of routes) {
    const connector = connectors[route.connector];
    if (!connector) {
      problems.push(
        `route "${route.name}": connector: unknown "${route.connector}" (known: ${Object.keys(connectors).join(', ')})`,
      );
      continue;
    }
    const parsed = connector.optionsSchema.safeParse(route.options);
    if (!parsed.success) {
      problems.push(
        describeIssues(parsed.error)
          .split('\n')
          .map((line) => `route "${route.name}": options.${line}`)
          .join('\n'),
      );
      continue;
    }
    if (route.batchSize && route.batchSize > (connector.maxBatch ?? 1)) {
      const most = connector.maxBatch
        ? `at most ${connector.maxBatch} events per request`
        : 'one event per request';
      problems.push(`route "${route.name}": batchSize: connector "${connector.name}" takes ${most}`);
      continue;
    }
    callers.set(route.name, new RouteCaller(route, connector, parsed.data, log, hooks));
  }
  if (problems.length) throw new ConfigError(`invalid routes\n${problems.join('\n')}`);
  return callers;
}
