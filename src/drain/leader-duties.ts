import type { Pool } from 'pg';
import { recoverExpired } from '../db/queue/recover';
import { unblockOrphans } from '../db/queue/settle-rows';
import type { Leader } from './leader';
import type { DrainLog } from './types';
import { VACUUM_CHECK_EVERY_MS, vacuumPass } from './vacuum-duty';

/** How often the coordinator returns rows whose claim expired (their worker hung) to the queue, ms. */
export const RECOVERY_EVERY_MS = 5_000;

/**
 * What only the coordinator (the holder of the leader lease) does for the whole queue, driven by
 * leadership changes rather than by a claim loop: on taking the lead, repair parked rows; while leading,
 * the periodic sweep of expired row claims and the queue's vacuum when its dead rows pile up (vacuum-duty.ts).
 * Rows of a dead instance are returned sooner, by whoever takes its lanes (lane-keeper.ts). Returns a function
 * that stops it all.
 */
export function leaderDuties(pool: Pool, leader: Leader, wake: () => void, log: DrainLog): () => void {
  let sweep: NodeJS.Timeout | null = null;
  const recover = () =>
    recoverExpired(pool)
      .then((n) => n && (log.info({ recovered: n }, 'expired claims returned to the queue'), wake()))
      .catch((err) => log.warn({ err: (err as Error).message, query: 'recover' }, 'recovery sweep failed'));
  const onElected = (term: number) => {
    unblockOrphans(pool)
      .then((unblocked) => log.info({ term, unblocked }, 'coordinator lease taken'))
      .catch((err) =>
        log.warn({ err: (err as Error).message, query: 'unblock' }, 'repair of parked rows failed'),
      )
      .finally(wake);
    sweep ??= setInterval(() => void recover(), RECOVERY_EVERY_MS);
  };
  const onLost = (reason: string) => {
    log.warn({ reason }, 'coordinator lease lost; recovery sweeps stop');
    if (sweep) clearInterval(sweep);
    sweep = null;
  };
  leader.on('elected', onElected);
  leader.on('lost', onLost);
  const stopVacuum = whileLeading(
    leader,
    'vacuum',
    () => vacuumPass(pool, log),
    () => VACUUM_CHECK_EVERY_MS,
    log,
  );
  return () => {
    leader.off('elected', onElected);
    leader.off('lost', onLost);
    if (sweep) clearInterval(sweep);
    sweep = null;
    stopVacuum();
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
