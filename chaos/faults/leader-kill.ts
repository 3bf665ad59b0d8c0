import { sleep, type LoadFault } from '../lib/harness';
import { waitFor } from '../../test/helpers/wait';

/**
 * kill -9 of the process holding the drain lease, mid-traffic; the standby must take over and lose nothing.
 * Recovery is timed from the kill.
 */
export const leaderKill: LoadFault = {
  id: 'leader-kill',
  processes: 2,
  inject: async (env) => {
    const holder = await waitFor(env.leader, 'a drain leader', { timeoutMs: 30_000, intervalMs: 100 });
    const victim = env.procs.find((p) => p.name === holder);
    if (!victim) throw new Error(`leader "${holder}" is not one of ours`);
    await sleep(env.short ? 1_000 : 5_000);
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    const next = await waitFor(
      async () => {
        const h = await env.leader();
        return h && h !== holder ? h : null;
      },
      'a new drain leader',
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    env.notes.push(`killed ${holder}; ${next} led after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
    return killedAt;
  },
};
