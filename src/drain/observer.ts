import type { EventEmitter } from 'node:events';
import type { CalloutOutcome } from '../callout/outcome';
import type { ClaimedEvent } from '../db/queue/types';
import type { BatchView } from './batch';
import type { Settlement } from './settle';
import type { DrainEvents } from './types';

export interface SettledPair {
  event: ClaimedEvent;
  outcome: CalloutOutcome;
}

/** Read-only hooks on the drain (metrics, logs). Must not throw or block. */
export interface DrainObserver {
  /**
   * After one bulk write of outcomes (a settle flush, which may close rows of several claimed batches,
   * or part of one): what each row became. `ms` counts from the oldest batch it closes rows of.
   */
  batchSettled(pairs: SettledPair[], settlement: Settlement, ms: number): void;
  /** A claim: one batch of `batch.size` rows begins. */
  batchStarted?(batch: BatchView): void;
  /** Every row of a claimed batch is settled or handed back; `batch.ageMs` is its duration. */
  batchFinished?(batch: BatchView): void;
}

/** Subscribes an observer to a drain's events (`settled`, `batchStarted`, `batchFinished`). */
export function observe(drain: EventEmitter<DrainEvents>, o: DrainObserver): void {
  drain.on('settled', (ev) => o.batchSettled(ev.pairs, ev.settlement, ev.ms));
  if (o.batchStarted) drain.on('batchStarted', (b) => o.batchStarted!(b));
  if (o.batchFinished) drain.on('batchFinished', (b) => o.batchFinished!(b));
}

/** Fans one drain's notifications out to several observers. */
export function observers(...list: DrainObserver[]): DrainObserver {
  return {
    batchSettled: (pairs, s, ms) => {
      for (const o of list) o.batchSettled(pairs, s, ms);
    },
    batchStarted: (b) => {
      for (const o of list) o.batchStarted?.(b);
    },
    batchFinished: (b) => {
      for (const o of list) o.batchFinished?.(b);
    },
  };
}

type Log = { warn(o: object, m: string): void };

/** One log line per dead letter, carrying its event id, so an operator can follow a change end to end. */
export function deadLetterLog(log: Log): DrainObserver {
  return {
    batchSettled(pairs, s) {
      const dead = new Set(s.failures.filter((f) => f.dead).map((f) => f.id));
      if (dead.size === 0) return;
      for (const { event, outcome } of pairs) {
        if (!dead.has(event.id)) continue;
        const o = outcome as { status?: number | null; error?: string };
        log.warn(
          {
            eventId: event.eventId,
            route: event.route,
            entity: event.entity,
            recordId: event.recordId,
            attempts: event.attempts,
            status: o.status ?? null,
            error: o.error,
          },
          'dead-lettered',
        );
      }
    },
  };
}
