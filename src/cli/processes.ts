import { InvalidArgumentError, type Command } from 'commander';
import type { Pool } from 'pg';
import { SluiceError } from '../lib/errors';
import type { ProcessView } from '../planner/process-schema';
import type { ProcessRegistry } from '../planner/registry';
import { registerPlannerSettings } from './planner-settings';
import { fail, output, withPool } from './util';

const int = (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError('must be an integer');
  return Number(v);
};
const csvList = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const json = (v: string) => {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    throw new InvalidArgumentError('must be valid JSON');
  }
};

interface DefOpts {
  handler?: string;
  params?: unknown;
  kind?: string;
  schedule?: string;
  notBefore?: string;
  timeZone?: string;
  dependsOn?: string[];
  priority?: number;
  refreshWindow?: number;
  enabled?: boolean;
  json?: boolean;
}

/** The registry over the database; handler names are checked against built-ins and SLUICE_HANDLERS modules. */
async function withRegistry<T>(fn: (r: ProcessRegistry, pool: Pool) => Promise<T>): Promise<T> {
  const [
    { registerBuiltinHandlers },
    { loadHandlerModules },
    { ProcessRegistry, REGISTRY_ERRORS },
    { loadConfig },
    { setBackfillTables },
  ] = await Promise.all([
    import('../planner/builtin-handlers.js'),
    import('../planner/load-handlers.js'),
    import('../planner/registry.js'),
    import('../config/load.js'),
    import('../planner/backfill/access.js'),
  ]);
  const config = loadConfig();
  // Processes registered from the CLI obey the same backfill.tables as the service.
  setBackfillTables(config.backfillTables ?? []);
  registerBuiltinHandlers();
  loadHandlerModules(config.env.SLUICE_HANDLERS);
  return withPool(async (pool) => {
    try {
      return await fn(new ProcessRegistry(pool, undefined, config.env.SLUICE_TIME_ZONE), pool);
    } catch (err) {
      if (err instanceof SluiceError && REGISTRY_ERRORS[err.code]) fail(`${err.message} (${err.code})`);
      throw err;
    }
  });
}

const describe = (p: ProcessView) =>
  `${p.name}  ${p.kind}${p.schedule ? ` "${p.schedule}"` : ''}${p.timeZone === 'UTC' ? '' : ` ${p.timeZone}`}  handler ${p.handler}  priority ${p.priority}` +
  `${p.enabled ? '' : '  DISABLED'}${p.alarmed ? '  ALARMED' : ''}${p.notBefore ? `  notBefore ${p.notBefore}` : ''}` +
  `${p.dependsOn.length ? `  after ${p.dependsOn.join(',')}` : ''}${p.refreshWindowMinutes ? `  refresh ${p.refreshWindowMinutes}m` : ''}` +
  `${p.durations.p90Ms === null ? '' : `  p90 ${Math.round(p.durations.p90Ms / 60_000)} min`}` +
  `  last ${p.lastRun ? `${p.lastRun.status} ${p.lastRun.startedAt ?? p.lastRun.requestedAt}` : '-'}`;

function defineOptions(cmd: Command): Command {
  return cmd
    .option('--handler <name>', 'registered handler: backfill, sync, or user code')
    .option('--params <json>', 'handler arguments as JSON', json)
    .option('--kind <kind>', 'recurrent or single')
    .option('--schedule <s>', 'recurrent: "every 15m", "every day at 03:00" or a cron expression (local)')
    .option('--not-before <t>', 'HH:MM (daily, local), a local ISO date-time, or one with an offset')
    .option(
      '--time-zone <iana>',
      'zone of schedule, not-before and refresh window (default SLUICE_TIME_ZONE, UTC)',
    )
    .option('--depends-on <names>', 'comma list of processes that must succeed first in each cycle', csvList)
    .option('--priority <n>', 'higher starts first', int)
    .option('--refresh-window <minutes>', 'no scheduled rerun within this many minutes of a success', int)
    .option('--json', 'machine-readable output');
}

function issues(e: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return e.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
}

export function registerProcesses(program: Command): void {
  const cmd = program
    .command('processes')
    .description('the planner registry: list, add, set, remove, run, runs, log, limit, settings');

  cmd
    .command('list')
    .description('registered processes')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      await withRegistry(async (r) => {
        const items = await r.list();
        output(o.json, { items }, () => (items.length ? items.map(describe).join('\n') : 'no processes'));
      });
    });

  defineOptions(cmd.command('add <name>').description('create or replace a process'))
    .option('--disabled', 'register it disabled')
    .action(async (name: string, o: DefOpts & { disabled?: boolean }) => {
      const { ProcessBodySchema } = await import('../planner/process-schema.js');
      const parsed = ProcessBodySchema.safeParse({
        name,
        handler: o.handler,
        params: o.params,
        kind: o.kind,
        schedule: o.schedule,
        notBefore: o.notBefore,
        timeZone: o.timeZone,
        dependsOn: o.dependsOn,
        priority: o.priority,
        refreshWindowMinutes: o.refreshWindow,
        enabled: !o.disabled,
      });
      if (!parsed.success) fail(issues(parsed.error));
      await withRegistry(async (r) => {
        const { process: p, created } = await r.upsert(parsed.data);
        output(o.json, p, () => `${created ? 'created' : 'replaced'}: ${describe(p)}`);
      });
    });

  defineOptions(
    cmd.command('set <name>').description('change some fields (applies on the next planning pass)'),
  )
    .option('--enable', 'enable it')
    .option('--disable', 'disable it')
    .option('--clear-alarm', 'clear the alarm flag')
    .action(
      async (name: string, o: DefOpts & { enable?: boolean; disable?: boolean; clearAlarm?: boolean }) => {
        if (o.enable && o.disable) fail('--enable and --disable together make no sense');
        const { ProcessPatchSchema } = await import('../planner/process-schema.js');
        const parsed = ProcessPatchSchema.safeParse({
          handler: o.handler,
          params: o.params,
          kind: o.kind,
          schedule: o.schedule,
          notBefore: o.notBefore === '' ? null : o.notBefore,
          timeZone: o.timeZone,
          dependsOn: o.dependsOn,
          priority: o.priority,
          refreshWindowMinutes: o.refreshWindow,
          enabled: o.enable ? true : o.disable ? false : undefined,
          alarmed: o.clearAlarm ? false : undefined,
        });
        if (!parsed.success) fail(issues(parsed.error));
        await withRegistry(async (r) => {
          const p = await r.patch(name, parsed.data);
          output(o.json, p, () => `changed: ${describe(p)}`);
        });
      },
    );

  cmd
    .command('remove <name>')
    .description('remove a process (its queued runs are cancelled)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) => {
      await withRegistry(async (r) => {
        await r.remove(name);
        output(o.json, { removed: name }, () => `removed ${name}`);
      });
    });

  cmd
    .command('run <name>')
    .description('request a run now (it starts when a slot is free)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) => {
      await withRegistry(async (r) => {
        const { runId } = await r.requestRun(name);
        output(o.json, { runId }, () => `queued run ${runId} of ${name}`);
      });
    });

  cmd
    .command('runs [name]')
    .description('runs, newest first (of one process, or all)')
    .option('--active', 'only running runs')
    .option('--limit <n>', 'how many', int, 20)
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, o: { active?: boolean; limit: number; json?: boolean }) => {
      if (o.limit < 1 || o.limit > 1000) fail('--limit must be 1..1000');
      const { listRuns } = await import('../planner/runs.js');
      await withRegistry(async (r, pool) => {
        if (name) await r.get(name);
        const items = await listRuns(pool, { process: name, active: o.active, limit: o.limit });
        output(o.json, { items }, () =>
          items.length
            ? items
                .map(
                  (x) =>
                    `${x.id}  ${x.process}  ${x.status}  ${x.trigger}  started ${x.startedAt ?? '-'}  ended ${x.endedAt ?? '-'}${x.error ? `  error: ${x.error}` : ''}`,
                )
                .join('\n')
            : 'no runs',
        );
      });
    });

  cmd
    .command('log')
    .description('planner decisions, newest first: why each candidate was or was not started')
    .option('--process <name>', 'only this process')
    .option('--limit <n>', 'how many', int, 50)
    .option('--json', 'machine-readable output')
    .action(async (o: { process?: string; limit: number; json?: boolean }) => {
      if (o.limit < 1 || o.limit > 1000) fail('--limit must be 1..1000');
      const { readLog } = await import('../planner/planner-log.js');
      await withRegistry(async (_r, pool) => {
        const items = await readLog(pool, { limit: o.limit, process: o.process });
        output(o.json, { items }, () =>
          items.length
            ? items
                .map((e) => `${e.at}  ${e.process}  ${e.decision}: ${e.reason}  (${e.instance})`)
                .join('\n')
            : 'no decisions yet',
        );
      });
    });
  registerPlannerSettings(cmd);
}
