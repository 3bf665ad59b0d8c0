import { sleep, type LoadFault } from '../lib/harness';

/** The database server stopped (fast shutdown) under load and started again; pushes meanwhile are refused. */
export const postgresRestart: LoadFault = {
  id: 'postgres-restart',
  processes: 1,
  inject: async (env) => {
    const downMs = env.short ? 2_000 : 15_000;
    const refused = env.producer.refused;
    await env.infra.pg.stop();
    await sleep(downMs);
    await env.infra.pg.start();
    env.notes.push(
      `Postgres down ${downMs / 1000} s; ${env.producer.refused - refused} ids refused meanwhile`,
    );
  },
};
