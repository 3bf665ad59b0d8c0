import { InvalidArgumentError, type Command } from 'commander';
import type { SettingsView } from '../planner/settings-schema';
import { fail, output, withPool } from './util';

const int = (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError('must be an integer');
  return Number(v);
};

const describe = (s: SettingsView) =>
  [
    `slot limit ${s.maxActive}`,
    `reservation ${s.reserveHorizonMinutes ? `looks ${s.reserveHorizonMinutes} min ahead` : 'off'}`,
    `a process that never succeeded is expected to run ${s.defaultRunMinutes} min`,
    `last changed by ${s.updatedBy} at ${s.updatedAt}`,
  ].join('\n');

/** Shows or changes the shared settings; a change reaches every instance at its next pass. */
async function showOrSet(patch: Record<string, number | undefined>, json: boolean | undefined) {
  const [{ readSettings, updateSettings }, { SettingsPatchSchema }] = await Promise.all([
    import('../planner/settings.js'),
    import('../planner/settings-schema.js'),
  ]);
  const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const parsed = Object.keys(given).length ? SettingsPatchSchema.safeParse(given) : null;
  if (parsed && !parsed.success)
    fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  await withPool(async (pool) => {
    const s = parsed ? await updateSettings(pool, parsed.data, 'cli') : await readSettings(pool);
    output(json, s, () => describe(s));
  });
}

export function registerPlannerSettings(processes: Command): void {
  processes
    .command('limit')
    .description('show the slot limit, or set it for every instance (applies at their next pass)')
    .argument('[n]', 'the new limit: runs active at once across all instances (1-1000)', int)
    .option('--json', 'machine-readable output')
    .action(async (n: number | undefined, o: { json?: boolean }) => {
      await showOrSet({ maxActive: n }, o.json);
    });

  processes
    .command('settings')
    .description('show or change the planner settings shared by every instance')
    .option('--max-active <n>', 'slot limit: runs active at once across all instances (1-1000)', int)
    .option('--reserve-horizon <minutes>', 'how far ahead slots are held for fixed starts; 0: off', int)
    .option('--default-run <minutes>', 'expected run time of a process with no successful run yet', int)
    .option('--json', 'machine-readable output')
    .action(
      async (o: { maxActive?: number; reserveHorizon?: number; defaultRun?: number; json?: boolean }) => {
        await showOrSet(
          {
            maxActive: o.maxActive,
            reserveHorizonMinutes: o.reserveHorizon,
            defaultRunMinutes: o.defaultRun,
          },
          o.json,
        );
      },
    );
}
