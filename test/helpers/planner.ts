import { z } from 'zod';
import type { Pool } from 'pg';
import { registerHandler } from '../../src/planner/handlers';
import { Planner } from '../../src/planner/planner';
import { ProcessRegistry } from '../../src/planner/registry';

/** A clock the test moves by hand. */
export function testClock(iso: string) {
  let now = new Date(iso);
  return {
    now: () => new Date(now),
    set: (s: string) => (now = new Date(s)),
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
}

/**
 * The `gate` handler: a run waits until the test opens its process's gate (or fails it). Real runs,
 * real slots, real completions; only the work inside is the test's to decide.
 */
export function gateHandler() {
  const waiting = new Map<string, { open(): void; fail(msg: string): void }>();
  registerHandler('gate', {
    params: z.object({}).passthrough(),
    run: (ctx) =>
      new Promise<void>((resolve, reject) => {
        waiting.set(ctx.process, { open: resolve, fail: (m) => reject(new Error(m)) });
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
      }),
  });
  return {
    isRunning: (process: string) => waiting.has(process),
    open(process: string) {
      const g = waiting.get(process);
      if (!g) throw new Error(`no run of ${process} is waiting at its gate`);
      waiting.delete(process);
      g.open();
    },
    fail(process: string, msg: string) {
      const g = waiting.get(process)!;
      waiting.delete(process);
      g.fail(msg);
    },
  };
}

const silent = { info() {}, warn() {}, error() {} };

export function testPlanner(
  pool: Pool,
  o: {
    clock?: () => Date;
    maxActive?: number;
    reserveHorizonMinutes?: number;
    instance?: string;
    timeZone?: string;
  } = {},
) {
  const planner = new Planner(
    pool,
    {
      instance: o.instance ?? 'test',
      // As the environment would give them: written to the shared settings on the first pass if changed.
      settings: { maxActive: o.maxActive ?? 5, reserveHorizonMinutes: o.reserveHorizonMinutes },
      clock: o.clock,
      intervalMs: 60_000,
    },
    silent,
  );
  const registry = new ProcessRegistry(pool, planner.clock, o.timeZone);
  return { planner, registry };
}
