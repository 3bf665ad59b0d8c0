import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { NAME_PATTERN } from '../config/names';
import type { Refusal } from '../routes/admin';
import type { RouteView } from '../routes/view';
import { fail, output, withPool } from './util';

const parseName = (v: string) => {
  if (!NAME_PATTERN.test(v)) throw new InvalidArgumentError('not a valid route name');
  return v;
};
// Changes from the CLI are written to the database; running instances apply them at their next poll.
const by = () => `cli (${userInfo().username})`;
const refused = (r: Refusal): never => fail(r.refused.message);

const line = (v: RouteView) => {
  const state = v.paused
    ? `paused by ${v.pausedBy} at ${v.pausedAt}`
    : v.closed === 'window'
      ? `outside its window until ${v.window?.nextOpenAt}`
      : 'open';
  const failing = v.failing
    ? `  failing since ${v.failing.since}${v.failing.disablesAt ? `, auto-disabled at ${v.failing.disablesAt}` : ''}`
    : '';
  const c = v.config as { connector: string; match: { entity: string } };
  return `${v.name}  ${c.connector} ${c.match.entity}  ${state}${failing}  (${v.origin}, changed by ${v.updatedBy})`;
};

async function views(name?: string): Promise<RouteView[]> {
  const { readRouteViews } = await import('../routes/read-views.js');
  return withPool((pool) => readRouteViews(pool, name));
}

function readRoute(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    return fail(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    return fail(`${path}: not JSON: ${(err as Error).message}`);
  }
}

export function registerRoutes(program: Command): void {
  const routes = program
    .command('routes')
    .description('the live routes, shared by every instance: list, show, add, pause, resume, delete');

  routes
    .command('list')
    .description('every route with its state (paused, outside its delivery window)')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const all = await views();
      output(o.json, all, () => (all.length ? all.map(line).join('\n') : 'no routes'));
    });

  routes
    .command('show')
    .description('one route, its config (secrets masked) and state')
    .argument('<name>', 'route name', parseName)
    .option('--json', 'machine-readable output (one line)')
    .action(async (name: string, o: { json?: boolean }) => {
      const [v] = await views(name);
      if (!v) fail(`no route "${name}"`);
      output(o.json, v, () => JSON.stringify(v, null, 2));
    });

  routes
    .command('add')
    .description('add a route from a JSON file (or - for stdin), validated like the route file')
    .argument('<file>', 'a JSON file holding one route')
    .option('--replace', 'replace the route of that name if it exists')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { replace?: boolean; json?: boolean }) => {
      const data = readRoute(file);
      const { createRoute } = await import('../routes/admin.js');
      await withPool(async (pool) => {
        const out = await createRoute(pool, data, { by: by(), replace: o.replace });
        if ('refused' in out) return refused(out);
        output(
          o.json,
          { name: out.route.name, replaced: out.replaced },
          () =>
            `route ${out.route.name} ${out.replaced ? 'replaced' : 'added'}; running instances apply it within a poll`,
        );
      });
    });

  for (const action of ['pause', 'resume'] as const)
    routes
      .command(action)
      .description(
        action === 'pause'
          ? 'pause a route on every instance: it claims nothing, its rows wait'
          : 'resume a paused route: its waiting rows flow again',
      )
      .argument('<name>', 'route name', parseName)
      .option('--json', 'machine-readable output')
      .action(async (name: string, o: { json?: boolean }) => {
        const { pauseRoute } = await import('../routes/admin.js');
        await withPool(async (pool) => {
          const out = await pauseRoute(pool, name, action === 'pause', { by: by() });
          if ('refused' in out) return refused(out);
          output(
            o.json,
            { name, changed: out.changed },
            () => `route ${name} ${out.changed ? `${action}d` : `was already ${action}d`}`,
          );
        });
      });

  routes
    .command('delete')
    .description('delete a route; refused while rows wait for it unless --force (they become dead letters)')
    .argument('<name>', 'route name', parseName)
    .option('--force', 'dead-letter its waiting rows (replayable) and delete it')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { force?: boolean; json?: boolean }) => {
      const { deleteRoute } = await import('../routes/admin.js');
      await withPool(async (pool) => {
        const out = await deleteRoute(pool, name, { by: by(), force: o.force });
        if ('refused' in out) return refused(out);
        output(o.json, out, () => `route ${name} deleted; ${out.deadLettered} waiting rows dead-lettered`);
      });
    });
}
