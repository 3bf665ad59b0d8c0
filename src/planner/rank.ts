import { windowEnd } from './local-time';
import type { Upcoming } from './reserve';
import { notBeforePassed, type NotBefore, type Schedule } from './schedule';

/** What a planning pass knows about one process: a candidate (due or queued) or an upcoming one. */
export interface PlanProcess {
  name: string;
  handler: string;
  kind: 'recurrent' | 'single';
  schedule: Schedule | null;
  notBefore: NotBefore | null;
  /** IANA zone of its schedule, notBefore and refresh window. */
  timeZone: string;
  dependsOn: string[];
  /** Higher runs first. */
  priority: number;
  refreshWindowMinutes: number;
  alarmed: boolean;
  nextDueAt: Date | null;
  /** When its previous run started (the cycle its dependencies must succeed in); a pass reads it only if it has some. */
  lastStartedAt: Date | null;
  /** Its last success; a pass reads it only if it has a refresh window. */
  lastSucceededAt: Date | null;
  /** p90 of its recent successful runs, ms (null: none yet). */
  expectedMs: number | null;
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
  /** Slot reservation: off when absent or horizonMs is 0. */
  reservation?: { horizonMs: number; defaultRunMs: number };
  /** The runs holding slots, with their process's p90 (for when they are expected to free them). */
  running?: { process: string; startedAt: Date; expectedMs: number | null }[];
  /** Enabled recurrent processes next due within the horizon that are not candidates now. */
  upcoming?: PlanProcess[];
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
  | { process: PlanProcess; action: 'wait'; reason: string; alarm: boolean; heldFor?: Upcoming };

/** Ranking groups: alarmed recurrent first, then recurrent, then single. */
export function groupOf(p: PlanProcess): number {
  if (p.kind === 'single') return 2;
  return p.alarmed ? 0 : 1;
}

export function isDue(p: PlanProcess, now: Date): boolean {
  return p.kind === 'recurrent' && p.nextDueAt !== null && p.nextDueAt.getTime() <= now.getTime();
}

/** Whether dependency `d` has not succeeded in p's current cycle (which began when its previous run started). */
function depMissing(p: PlanProcess, input: PlanInput, d: string): boolean {
  const at = input.succeededAt.get(d);
  return !at || (p.lastStartedAt !== null && at.getTime() < p.lastStartedAt.getTime());
}

export const hasMissingDeps = (p: PlanProcess, input: PlanInput) =>
  p.dependsOn.some((d) => depMissing(p, input, d));

/** Why a ready-looking candidate may not start now, or null if it may. */
function blocker(p: PlanProcess, input: PlanInput, manual: boolean): string | null {
  const { now } = input;
  if (!input.canRun(p.handler)) return `handler "${p.handler}" is not registered on this instance`;
  if (p.notBefore && !notBeforePassed(p.notBefore, now, p.timeZone)) return `not before ${p.notBefore.text}`;
  const missing = p.dependsOn.filter((d) => depMissing(p, input, d));
  if (missing.length) return `waiting for ${missing.join(', ')} to succeed in this cycle`;
  if (!manual && p.refreshWindowMinutes > 0 && p.lastSucceededAt) {
    const end = windowEnd(p.lastSucceededAt.getTime(), p.refreshWindowMinutes, p.timeZone);
    if (now.getTime() < end) {
      const ageMin = (now.getTime() - p.lastSucceededAt.getTime()) / 60_000;
      return `refreshed ${Math.floor(ageMin)} min ago (refresh window ${p.refreshWindowMinutes} min)`;
    }
  }
  return null;
}

/** The candidates sorted out: decisions for those that cannot start, the ready ones in rank order. */
export interface Ranked {
  /** Skips and waits of the candidates that are not ready. */
  out: Decision[];
  /** Ready candidates, best first: group, then priority, then how long they have waited, then name. */
  ready: PlanProcess[];
  /** Candidates waiting for their notBefore, refresh window or a dependency (maybe upcoming fixed starts). */
  gated: PlanProcess[];
}

/**
 * Pure: a due recurrent process whose previous run is still active is skipped; one held back by a gate
 * waits with the reason; the ready ones are ranked.
 */
export function rank(input: PlanInput): Ranked {
  const { now } = input;
  const out: Decision[] = [];
  const ready: { p: PlanProcess; since: number }[] = [];
  const gated: PlanProcess[] = [];
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
      gated.push(p);
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
  return { out, ready: ready.map((r) => r.p), gated };
}
