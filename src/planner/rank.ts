import { notBeforePassed, type NotBefore, type Schedule } from './schedule';

/** What a planning pass knows about one candidate: an enabled process that is due or has a queued request. */
export interface PlanProcess {
  name: string;
  handler: string;
  kind: 'recurrent' | 'single';
  schedule: Schedule | null;
  notBefore: NotBefore | null;
  dependsOn: string[];
  /** Higher runs first. */
  priority: number;
  refreshWindowMinutes: number;
  alarmed: boolean;
  nextDueAt: Date | null;
  lastStartedAt: Date | null;
  lastSucceededAt: Date | null;
  /** The oldest queued request (a manual run, or a single process's registration). */
  queued: { runId: string; requestedAt: Date; trigger: 'manual' | 'registered' } | null;
  /** A run of this process is running somewhere. */
  active: boolean;
}

export interface PlanInput {
  now: Date;
  freeSlots: number;
  maxActive: number;
  candidates: PlanProcess[];
  /** Last successful end of every process some candidate depends on (missing: no such process). */
  succeededAt: Map<string, Date | null>;
  /** Whether this instance can execute the handler (user handlers may be registered on some instances only). */
  canRun(handler: string): boolean;
}

export type Decision =
  | {
      process: PlanProcess;
      action: 'start';
      reason: string;
      trigger: 'schedule' | 'manual' | 'registered';
      runId: string | null;
      /** The scheduled slot this start consumes (recurrent and due), else null. */
      dueAt: Date | null;
    }
  | { process: PlanProcess; action: 'skip'; reason: string; dueAt: Date }
  | { process: PlanProcess; action: 'wait'; reason: string; alarm: boolean };

/** Ranking groups: alarmed recurrent first, then recurrent, then single. */
export function groupOf(p: PlanProcess): number {
  if (p.kind === 'single') return 2;
  return p.alarmed ? 0 : 1;
}

const GROUP_LABEL = ['alarmed recurrent', 'recurrent', 'single'];

function isDue(p: PlanProcess, now: Date): boolean {
  return p.kind === 'recurrent' && p.nextDueAt !== null && p.nextDueAt.getTime() <= now.getTime();
}

/**
 * Why a ready-looking candidate may not start now, or null if it may. The current cycle of a process
 * begins when its previous run started: each dependency must have succeeded since then.
 */
function blocker(p: PlanProcess, input: PlanInput, manual: boolean): string | null {
  const { now } = input;
  if (!input.canRun(p.handler)) return `handler "${p.handler}" is not registered on this instance`;
  if (p.notBefore && !notBeforePassed(p.notBefore, now)) return `not before ${p.notBefore.text}`;
  const missing = p.dependsOn.filter((d) => {
    const at = input.succeededAt.get(d);
    if (!at) return true;
    return p.lastStartedAt !== null && at.getTime() < p.lastStartedAt.getTime();
  });
  if (missing.length) return `waiting for ${missing.join(', ')} to succeed in this cycle`;
  if (!manual && p.refreshWindowMinutes > 0 && p.lastSucceededAt) {
    const ageMin = (now.getTime() - p.lastSucceededAt.getTime()) / 60_000;
    if (ageMin < p.refreshWindowMinutes)
      return `refreshed ${Math.floor(ageMin)} min ago (refresh window ${p.refreshWindowMinutes} min)`;
  }
  return null;
}

/**
 * One planning decision per candidate, pure: a due recurrent process whose previous run is still active
 * is skipped; the ready ones are ranked (group, then priority, then how long they have waited, then name)
 * and the best fill the free slots; a due recurrent process left without a slot raises its alarm.
 */
export function plan(input: PlanInput): Decision[] {
  const { now } = input;
  const out: Decision[] = [];
  const ready: { p: PlanProcess; since: number }[] = [];
  for (const p of input.candidates) {
    const due = isDue(p, now);
    if (p.active) {
      if (due)
        out.push({
          process: p,
          action: 'skip',
          reason: 'due while its previous run is still active',
          dueAt: p.nextDueAt!,
        });
      else out.push({ process: p, action: 'wait', reason: 'its previous run is still active', alarm: false });
      continue;
    }
    if (!due && !p.queued) continue;
    // A manual request is an explicit ask: the refresh window does not hold it back.
    const why = blocker(p, input, p.queued?.trigger === 'manual');
    if (why) {
      out.push({ process: p, action: 'wait', reason: why, alarm: false });
      continue;
    }
    const since = Math.min(
      due ? p.nextDueAt!.getTime() : Infinity,
      p.queued ? p.queued.requestedAt.getTime() : Infinity,
    );
    ready.push({ p, since });
  }
  ready.sort(
    (a, b) =>
      groupOf(a.p) - groupOf(b.p) ||
      b.p.priority - a.p.priority ||
      a.since - b.since ||
      (a.p.name < b.p.name ? -1 : a.p.name > b.p.name ? 1 : 0),
  );
  let free = Math.max(0, input.freeSlots);
  for (const { p } of ready) {
    const due = isDue(p, now);
    if (free > 0) {
      free--;
      out.push({
        process: p,
        action: 'start',
        reason: `started (${GROUP_LABEL[groupOf(p)]}, priority ${p.priority})`,
        trigger: p.queued ? p.queued.trigger : 'schedule',
        runId: p.queued?.runId ?? null,
        dueAt: due ? p.nextDueAt : null,
      });
    } else {
      out.push({
        process: p,
        action: 'wait',
        reason: `no free slot (${input.maxActive}/${input.maxActive} active)${due ? ', alarmed' : ''}`,
        alarm: due,
      });
    }
  }
  return out;
}
