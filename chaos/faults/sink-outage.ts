import { sleep, type LoadFault } from '../lib/harness';

/** The sink down (port closed) for 2 min, then answering 500, then slow (5 s per answer), then fine. */
export const sinkOutage: LoadFault = {
  id: 'sink-outage',
  processes: 1,
  inject: async (env) => {
    const [down, errors, slow] = env.short ? [5_000, 5_000, 10_000] : [120_000, 60_000, 60_000];
    await env.sink.setMode('down');
    await sleep(down);
    await env.sink.setMode('error');
    await sleep(errors);
    await env.sink.setMode('slow', 5_000);
    await sleep(slow);
    await env.sink.setMode('ok');
    env.notes.push(`down ${down / 1000} s, 500 for ${errors / 1000} s, 5 s answers for ${slow / 1000} s`);
  },
};
