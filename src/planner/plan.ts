import { formatLocal, windowEnd } from './local-time';
import {
  groupOf,
  isDue,
  hasMissingDeps,
  rank,
  type Decision,
  type PlanInput,
  type PlanProcess,
  type Ranked,
} from './rank';
import { outranks, SlotForecast, type Upcoming } from './reserve';
import { notBeforeOpenFrom } from './schedule';

const GROUP_LABEL = ['alarmed recurrent', 'recurrent', 'single'];

/**
 * When a process that is not ready now will start by itself if nothing else stops it: its due time,
 * then past its refresh window and its notBefore gate. Null when it waits on something that has no
 * time (a dependency), or on nothing.
 */
function fixedStart(p: PlanProcess, input: PlanInput): number | null {
  if (hasMissingDeps(p, input)) return null;
  let t = Math.max(input.now.getTime(), p.nextDueAt && !p.queued ? p.nextDueAt.getTime() : 0);
  if (p.queued?.trigger !== 'manual' && p.refreshWindowMinutes > 0 && p.lastSucceededAt)
    t = Math.max(t, windowEnd(p.lastSucceededAt.getTime(), p.refreshWindowMinutes, p.timeZone));
  if (p.notBefore) t = notBeforeOpenFrom(p.notBefore, t, p.timeZone);
  return t > input.now.getTime() ? t : null;
}

/** The slot forecast of this pass, or null when reservation is off or no slot is free. */
function forecastOf(input: PlanInput, gated: PlanProcess[]) {
  const r = input.reservation;
  if (!r || r.horizonMs <= 0 || input.freeSlots <= 0) return null;
  const now = input.now.getTime();
  const expected = (ms: number | null) => ms ?? r.defaultRunMs;
  const ends = new Map<string, number>();
  for (const run of input.running ?? []) {
    const end = run.startedAt.getTime() + expected(run.expectedMs);
    // Past its p90 nobody knows when it ends: it is assumed to hold its slot through the horizon.
    ends.set(run.process, end > now ? end : Infinity);
  }
  const ranked = [...gated, ...(input.upcoming ?? [])].map((p) => ({
    p,
    group: groupOf(p),
    priority: p.priority,
    due: p.nextDueAt?.getTime() ?? now,
  }));
  // Rank order; among equals, the earlier due first (input.upcoming usually arrives in this order).
  ranked.sort(
    (a, b) =>
      a.group - b.group ||
      b.priority - a.priority ||
      a.due - b.due ||
      (a.p.name < b.p.name ? -1 : a.p.name > b.p.name ? 1 : 0),
  );
  return new SlotForecast(now, input.maxActive, [...ends.values()], ranked, ({ p, group }) => {
    const at = fixedStart(p, input);
    if (at === null || at > now + r.horizonMs) return null;
    // Still running then: that due time is skipped, so it needs no slot.
    if ((ends.get(p.name) ?? 0) > at) return null;
    return {
      name: p.name,
      group,
      priority: p.priority,
      at,
      expectedMs: expected(p.expectedMs),
      zone: p.timeZone,
    };
  });
}

const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));

/**
 * One planning decision per candidate, pure: the ranked ready candidates fill the free slots, except
 * where a slot is held for an upcoming process that outranks them (see SlotForecast); a due recurrent
 * process left without a free slot raises its alarm.
 */
export function plan(input: PlanInput): Decision[] {
  return fill(input, rank(input))!;
}

/**
 * The slot-filling half of plan(), for a ranking already made. With `through`, input.upcoming holds
 * only the upcoming processes that outrank it: null if the walk reaches a candidate below it while a
 * slot is still free (the caller reads more and fills again).
 */
export function fill(
  input: PlanInput,
  ranked: Ranked,
  through?: { group: number; priority: number },
): Decision[] | null {
  const { now } = input;
  const out = [...ranked.out];
  const ready = ranked.ready;
  const gated = ranked.gated;
  let free = Math.max(0, input.freeSlots);
  const forecast = ready.length ? forecastOf(input, gated) : null;
  // Many candidates wait for the same held slot: one reason string each.
  const reasons = new Map<Upcoming, string>();
  const heldReason = (h: Upcoming) => {
    let r = reasons.get(h);
    if (r === undefined)
      reasons.set(
        h,
        (r = `slot held for ${h.name} due ${formatLocal(h.at, h.zone)}, expected ${minutes(h.expectedMs)} min`),
      );
    return r;
  };
  const defaultRunMs = input.reservation?.defaultRunMs ?? 0;
  for (const p of ready) {
    const due = isDue(p, now);
    if (free > 0) {
      if (through && forecast && outranks(through, groupOf(p), p.priority)) return null;
      const expectedMs = p.expectedMs ?? defaultRunMs;
      const held = forecast?.holdFor(groupOf(p), p.priority, expectedMs);
      if (held) {
        out.push({
          process: p,
          action: 'wait',
          reason: heldReason(held),
          // Not an alarm: it is not late for want of a slot, a better one is about to need it.
          alarm: false,
          heldFor: held,
        });
        continue;
      }
      free--;
      forecast?.started(expectedMs);
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
