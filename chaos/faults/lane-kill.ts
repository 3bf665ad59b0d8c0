import { laneHoldersOf, sleep, type LoadFault } from '../lib/harness';
import { waitFor } from '../../test/helpers/wait';

/**
 * Three instances share the lanes; kill -9 of one of them mid-traffic (not the coordinator, so the relay and
 * planner keep their leader and only its lanes move). The two others must take its lanes within a few
 * seconds and lose nothing. Recovery is timed from the kill.
 */
export const laneKill: LoadFault = {
  id: 'lane-kill',
  processes: 3,
  inject: async (env) => {
    const holders = laneHoldersOf(env.databaseUrl);
    const coordinator = await waitFor(env.leader, 'a coordinator', { timeoutMs: 30_000, intervalMs: 100 });
    const spread = await waitFor(
      async () => {
        const h = await holders();
        return env.procs.every((p) => (h.get(p.name)?.length ?? 0) > 0) ? h : null;
      },
      'every instance holding lanes',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const victim = env.procs.find((p) => p.name !== coordinator)!;
    const lanes = spread.get(victim.name)!;
    await sleep(env.short ? 1_000 : 5_000);
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(
      async () => {
        const h = await holders();
        return !h.has(victim.name) && [...h.values()].flat().length === [...spread.values()].flat().length;
      },
      `the lanes of ${victim.name} taken over`,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    env.notes.push(
      `killed ${victim.name} (${lanes.length} lanes); the others held every lane after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`,
    );
    return killedAt;
  },
};
