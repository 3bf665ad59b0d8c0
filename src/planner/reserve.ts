/** A process with a fixed start ahead: when it will want a slot, for how long, and how it ranks then. */
export interface Upcoming {
  name: string;
  /** Ranking group at its start (0 alarmed recurrent, 1 recurrent, 2 single) and priority. */
  group: number;
  priority: number;
  /** When it will want its slot, ms since the epoch (after now). */
  at: number;
  /** How long it is expected to hold the slot (p90 of its recent successful runs, or the default). */
  expectedMs: number;
  zone: string;
}

interface Reserved extends Upcoming {
  /** How many more slots may be taken at `at` before this one misses its start. */
  slack: number;
}

/** Better group, or same group and higher priority: equals never hold a slot for each other. */
export const outranks = (a: { group: number; priority: number }, group: number, priority: number) =>
  a.group < group || (a.group === group && a.priority > priority);

/** First index in sorted `xs` whose key is >= `v` (or > `v` with `after`). */
function bound<T>(xs: T[], key: (x: T) => number, v: number, after = false): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const k = key(xs[mid]);
    if (k < v || (after && k === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
const self = (x: number) => x;
const atOf = (r: Reserved) => r.at;

/**
 * Slot reservation ("foresight"), pure. The rule, for one planning pass that walks the ready candidates
 * and the upcoming processes together, best rank first:
 *
 * 1. Every slot-holding run is expected to end at its start + the p90 of its process's recent successful
 *    runs (the default for a process that never succeeded); a run already past that is assumed to hold
 *    its slot through the whole horizon. A run started in this pass holds its slot for its own p90.
 * 2. An upcoming process (a fixed start within the horizon, ready then as things stand) claims a slot at
 *    its start when it comes up in the walk: it fits if, at its start, the runs still expected to be
 *    active plus the claims already made leave a slot, and its own expected run would not take the last
 *    slot of a claim already made. One that fits holds its slot from its start for its expected run; one
 *    that does not fit claims nothing (holding a slot now would not start it on time). A claim's slack is
 *    how many more slots could be taken at its start without it missing that start.
 * 3. A candidate takes a free slot unless a claim with no slack starts before the candidate's expected
 *    end (now + its p90): then the slot is held for that process and the candidate waits. Every claim
 *    made so far comes from a process that strictly outranks the candidate (better group, or same group
 *    and higher priority; equals never hold for each other), and only runs and claims ranked above it
 *    count against it. A candidate expected to end in time still uses the held slot (backfill). With
 *    several free slots only the last one a claim needs is held; every other slot fills as without
 *    reservation. A start lowers the slack of every claim it overlaps.
 *
 * So no slot is held unless a process that outranks the candidate needs exactly that slot at its start;
 * candidates are taken in rank order, and one that is held does not stop a shorter one behind it.
 */
export class SlotForecast<T extends { group: number; priority: number }> {
  private readonly ends: number[];
  private readonly byStart: Reserved[] = [];
  private next = 0;
  private longest = 0;
  /** The earliest-starting claim with no slack. */
  private tight: Reserved | null = null;

  /**
   * `ranked`: the upcoming processes in rank order (group, then higher priority first); `resolve` tells
   * when and for how long each wants its slot (null: it will not), asked only when the walk reaches it.
   */
  constructor(
    private readonly now: number,
    private readonly maxActive: number,
    runningEnds: number[],
    private readonly ranked: T[],
    private readonly resolve: (t: T) => Upcoming | null,
  ) {
    this.ends = [...runningEnds].sort((a, b) => a - b);
  }

  /**
   * The upcoming process whose slot a run of this rank and expected length, started now, would take;
   * null if it may start. Candidates must be asked in rank order.
   */
  holdFor(group: number, priority: number, expectedMs: number): Upcoming | null {
    while (this.next < this.ranked.length && outranks(this.ranked[this.next], group, priority)) {
      const u = this.resolve(this.ranked[this.next++]);
      if (u) this.claim(u);
    }
    return this.tight && this.tight.at < this.now + expectedMs ? this.tight : null;
  }

  /** A run started now (after holdFor said it may): it holds a slot until now + expectedMs. */
  started(expectedMs: number): void {
    const end = this.now + expectedMs;
    this.ends.splice(bound(this.ends, self, end), 0, end);
    for (let i = 0; i < this.byStart.length && this.byStart[i].at < end; i++) this.lower(this.byStart[i]);
  }

  private claim(u: Upcoming): void {
    let busy = this.ends.length - bound(this.ends, self, u.at, true);
    for (let i = bound(this.byStart, atOf, u.at - this.longest, true); i < this.byStart.length; i++) {
      const r = this.byStart[i];
      if (r.at > u.at) break;
      if (r.at + r.expectedMs > u.at) busy++;
    }
    if (busy >= this.maxActive) return;
    const end = u.at + u.expectedMs;
    const first = bound(this.byStart, atOf, u.at);
    let last = first;
    while (last < this.byStart.length && this.byStart[last].at < end) {
      if (this.byStart[last].slack === 0) return;
      last++;
    }
    for (let i = first; i < last; i++) this.lower(this.byStart[i]);
    const r: Reserved = { ...u, slack: this.maxActive - 1 - busy };
    this.byStart.splice(bound(this.byStart, atOf, u.at, true), 0, r);
    this.longest = Math.max(this.longest, u.expectedMs);
    if (r.slack === 0) this.tighten(r);
  }

  private lower(r: Reserved): void {
    if (--r.slack === 0) this.tighten(r);
  }

  private tighten(r: Reserved): void {
    if (!this.tight || r.at < this.tight.at) this.tight = r;
  }
}
