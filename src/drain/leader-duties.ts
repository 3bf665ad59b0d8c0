import type { Pool } from 'pg';
import { recoverExpired, releaseStale } from '../db/queue/recover';
import { unblockOrphans } from '../db/queue/settle-rows';
import type { Leader } from './leader';
import type { DrainLog } from './types';

/** How often the leader returns rows whose claim expired (their worker died) to the queue, ms. */
export const RECOVERY_EVERY_MS = 5_000;

/**
 * What only the leader does, driven by leadership changes rather than by the claim loop: on taking
 * the lead, hand back rows an earlier leader (or an earlier life of this one) still holds and repair
 * parked rows; while leading, the periodic recovery sweep. Returns a function that stops it all.
 */
export function leaderDuties(
  pool: Pool,
  leader: Leader,
  keep: () => string[],
  wake: () => void,
  log: DrainLog,
): () => void {
  let sweep: NodeJS.Timeout | null = null;
  const recover = () =>
    recoverExpired(pool)
      .then((n) => n && (log.info({ recovered: n }, 'expired claims returned to the queue'), wake()))
      .catch((err) => log.warn({ err: (err as Error).message, query: 'recover' }, 'recovery sweep failed'));
  const onElected = (term: number) => {
    Promise.all([releaseStale(pool, leader.holder, keep()), unblockOrphans(pool)])
      .then(([released, unblocked]) => log.info({ term, released, unblocked }, 'drain leadership taken'))
      .catch((err) =>
        log.warn({ err: (err as Error).message, query: 'release' }, 'release of earlier rows failed'),
      )
      .finally(wake);
    sweep ??= setInterval(() => void recover(), RECOVERY_EVERY_MS);
  };
  const onLost = (reason: string) => {
    log.warn({ reason }, 'drain leadership lost; claiming stops');
    if (sweep) clearInterval(sweep);
    sweep = null;
  };
  leader.on('elected', onElected);
  leader.on('lost', onLost);
  return () => {
    leader.off('elected', onElected);
    leader.off('lost', onLost);
    if (sweep) clearInterval(sweep);
    sweep = null;
  };
}

/**
 * A periodic duty of the leader (auto-disable, for one): `task` runs every `everyMs()` while `leader`
 * leads, one run at a time, from election until leadership is lost. Returns a function that stops it.
 */
export function whileLeading(
  leader: Leader,
  name: string,
  task: () => Promise<unknown>,
  everyMs: () => number,
  log: DrainLog,
): () => void {
  let timer: NodeJS.Timeout | null = null;
  let on = false;
  const tick = () => {
    timer = null;
    if (!on || !leader.isLeader) return;
    void task()
      .catch((err) =>
        log.warn({ err: (err as Error).message, duty: name }, `${name} failed; next run retries`),
      )
      .finally(() => {
        if (on) timer = setTimeout(tick, everyMs());
      });
  };
  const onElected = () => {
    if (on) return;
    on = true;
    timer = setTimeout(tick, everyMs());
  };
  const onLost = () => {
    on = false;
    if (timer) clearTimeout(timer);
    timer = null;
  };
  leader.on('elected', onElected);
  leader.on('lost', onLost);
  if (leader.isLeader) onElected();
  return () => {
    leader.off('elected', onElected);
    leader.off('lost', onLost);
    onLost();
  };
}
