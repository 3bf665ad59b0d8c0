import type { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { releaseMine } from '../db/queue/recover';
import type { ClaimWindow } from './claim-window';
import type { DrainEvents, DrainLog } from './types';

/**
 * Old batches: past `warnAfterMs` a warning and an alert, once; past `stopAfterMs` the batch's
 * unfinished rows are handed back to the queue. The attempt is kept (as for a dead worker): a row that
 * hangs every time still ends dead.
 */
export function watchBatches(
  window: ClaimWindow,
  pool: Pool,
  holder: string,
  o: { warnAfterMs: number; stopAfterMs: number },
  events: EventEmitter<DrainEvents>,
  log: DrainLog,
  now = Date.now(),
): void {
  for (const b of window.active) {
    const age = now - b.startedAt;
    if (age >= o.warnAfterMs && !b.warned) {
      b.warned = true;
      const batch = b.view(now);
      log.warn({ batch, warnAfterMs: o.warnAfterMs }, 'drain batch is running long');
      events.emit('alert', { kind: 'batch-slow', batch, warnAfterMs: o.warnAfterMs });
    }
    if (age >= o.stopAfterMs && !b.stopped) {
      b.stopped = true;
      const unfinished = [...window.inFlight.values()].filter((e) => e.batch === b && e.phase !== 'settling');
      for (const e of unfinished) window.release(e);
      const ids = unfinished.map((e) => e.event.id);
      window.counters.released += ids.length;
      const batch = b.view(now);
      log.warn({ batch, released: ids.length }, 'drain batch stopped; unfinished rows back to the queue');
      events.emit('alert', {
        kind: 'batch-stopped',
        batch,
        stopAfterMs: o.stopAfterMs,
        released: ids.length,
      });
      if (ids.length)
        releaseMine(pool, holder, ids, { refund: false }).catch((err) =>
          log.warn({ err: (err as Error).message, query: 'release' }, 'release of a stopped batch failed'),
        );
    }
  }
}
