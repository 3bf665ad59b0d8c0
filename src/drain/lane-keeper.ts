import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { beatInstance, leaseLanes, leaveInstance, releaseLaneRows, resizeLanes } from '../db/lease/lane-sql';
import { assignLanes } from './lane-assignment';
import type { DrainLog } from './types';

export interface LaneKeeperOptions {
  /** This instance's id (the holder of its lanes and its rows' locks). */
  holder: string;
  /** Heartbeat and lane lease lifetime, ms; renewed every ttl/3. */
  ttlMs: number;
  /** The lane count wanted (SLUICE_LANES); applied at start only when no other instance is live. */
  lanes?: number;
  /** Shown beside the instance in status (host, pid, version...). */
  info?: object;
}

/** The lanes a claim may take from, with the terms that fence it. */
export interface ClaimableLanes {
  lanes: number[];
  terms: number[];
}

/** What the keeper asks of the drain: rows in flight per lane, and the ids it still runs. */
export interface LaneWork {
  inFlightIn(lane: number): number;
  inFlightIds(): string[];
  /** A claim query is running (it may have been given a lane that is now leaving). */
  claiming(): boolean;
}

export interface LaneView {
  holder: string;
  /** Lanes in all. */
  total: number;
  /** Lanes held now (claimable or being handed back). */
  held: number[];
  /** Lanes held but assigned elsewhere: no new claims; given up once their rows in flight are settled. */
  leaving: number[];
  /** Live instances this instance saw at its last heartbeat. */
  instances: string[];
}

/**
 * Holds this instance's lanes: a heartbeat in sluice_instance, the assignment computed from the live
 * instances (lane-assignment.ts), and the lane leases in sluice_lane, all every ttl/3.
 *
 *   free/expired lane assigned here --take (term+1)--> held: claims may take its rows
 *   held --assigned elsewhere--> leaving: no new claims --its rows in flight settled--> released at once
 *   held --renewal fails past the local deadline (ttl - margin)--> dropped: claims stop at once
 *
 * A lane taken over (from a dead instance, or after this one lost it) has its rows still marked running
 * by anyone else returned to the queue first. The claim itself is fenced by each lane's term, so a holder
 * that lost a lane without noticing claims nothing from it.
 */
export class LaneKeeper extends EventEmitter<{ changed: [LaneView] }> {
  private held = new Map<number, number>();
  private leaving = new Set<number>();
  private deadline = 0;
  private total = 0;
  private instances: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private firstRound = true;
  private holdOffUntil = 0;
  private work: LaneWork = { inFlightIn: () => 0, inFlightIds: () => [], claiming: () => false };

  constructor(
    private readonly pool: Pool,
    readonly options: LaneKeeperOptions,
    private readonly log: DrainLog,
  ) {
    super();
  }

  get holder(): string {
    return this.options.holder;
  }

  /** The drain tells the keeper what it has in flight (lanes are handed back only once empty). */
  attach(work: LaneWork): void {
    this.work = work;
  }

  private get valid(): boolean {
    return Date.now() < this.deadline;
  }

  /** Lanes a claim may take from now (held, not leaving, lease not past its local deadline), or null. */
  claimable(): ClaimableLanes | null {
    if (!this.valid) return null;
    const lanes: number[] = [];
    const terms: number[] = [];
    for (const [lane, term] of this.held)
      if (!this.leaving.has(lane)) {
        lanes.push(lane);
        terms.push(term);
      }
    return lanes.length ? { lanes, terms } : null;
  }

  /** True while this instance holds at least one lane it may claim from. */
  get active(): boolean {
    return this.claimable() !== null;
  }

  /**
   * This instance's share of the whole queue (lanes held / lanes in all): the fraction of each route's
   * concurrency and rate limit it may use, so the shares of all instances never add up to more than 1.
   */
  get share(): number {
    return this.valid && this.total ? this.held.size / this.total : 0;
  }

  /** One lane's share: the least an instance still finishing its rows is given (never 0). */
  get minShare(): number {
    return 1 / Math.max(1, this.total);
  }

  get view(): LaneView {
    return {
      holder: this.holder,
      total: this.total,
      held: this.valid ? [...this.held.keys()].sort((a, b) => a - b) : [],
      leaving: [...this.leaving].sort((a, b) => a - b),
      instances: this.instances,
    };
  }

  async start(): Promise<void> {
    if (this.options.lanes) {
      const r = await resizeLanes(this.pool, this.holder, this.options.lanes);
      if (r.resized) this.log.info({ lanes: r.lanes }, 'lane count set');
      else if (r.lanes !== this.options.lanes)
        this.log.warn(
          { wanted: this.options.lanes, lanes: r.lanes, liveInstances: r.others },
          `SLUICE_LANES=${this.options.lanes} not applied: ${r.others} other instance(s) run with ${r.lanes} lanes; stop them all to change it`,
        );
    }
    const tick = () => {
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        if (this.timer) this.timer = setTimeout(tick, this.every);
      });
    };
    this.timer = setTimeout(tick, 0);
    await new Promise<void>((resolve) => {
      // Resolve after the first round, so a lone instance claims as soon as the drain starts.
      const first = () => resolve();
      this.once('changed', first);
      setTimeout(() => (this.off('changed', first), resolve()), this.options.ttlMs);
    });
  }

  private get every(): number {
    return Math.max(100, Math.floor(this.options.ttlMs / 3));
  }

  /** Gives every lane back at once and leaves the instance list, so the others take over without waiting. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    await this.giveUpAll();
  }

  /**
   * The watchdog's last resort for a drain that cannot move: every lane is given up at once (rows still in
   * flight included: whoever takes a lane returns them to the queue) and this instance leaves the list and
   * stays out for one ttl, so the others take its lanes.
   */
  async resign(): Promise<void> {
    this.holdOffUntil = Date.now() + this.options.ttlMs;
    await this.giveUpAll();
  }

  /** Claims stop at once; every lane is released and the instance row deleted (failures only mean expiry). */
  private async giveUpAll(): Promise<void> {
    const lanes = [...this.held.keys()];
    this.held.clear();
    this.leaving.clear();
    this.deadline = 0;
    this.emit('changed', this.view);
    await leaseLanes(this.pool, this.holder, [], lanes, this.options.ttlMs).catch(() => undefined);
    await leaveInstance(this.pool, this.holder).catch(() => undefined);
  }

  /** One round: heartbeat, assignment, lease renewal/takeover/hand-back. Failures only log. */
  async tick(): Promise<void> {
    const began = Date.now();
    if (began < this.holdOffUntil) return;
    const ttl = this.options.ttlMs;
    const timeoutMs = Math.max(100, Math.floor(this.held.size ? this.deadline - began : ttl / 2));
    try {
      const beat = await beatInstance(this.pool, this.holder, ttl, this.options.info ?? {}, { timeoutMs });
      this.instances = beat.live;
      this.total = beat.lanes;
      const want = new Set(assignLanes(beat.live, beat.lanes).get(this.holder) ?? []);
      const release: number[] = [];
      const leavingBefore = new Set(this.leaving);
      // A lane goes back only once it was leaving before this round (so no claim started since has it),
      // no claim is running (one started earlier might have it) and none of its rows is in flight.
      const claiming = this.work.claiming();
      for (const lane of this.held.keys()) {
        if (want.has(lane)) this.leaving.delete(lane);
        else if (leavingBefore.has(lane) && !claiming && this.work.inFlightIn(lane) === 0) release.push(lane);
        else this.leaving.add(lane);
      }
      const keep = [...new Set([...want, ...[...this.leaving].filter((l) => !release.includes(l))])];
      const before = this.held;
      const got = await leaseLanes(this.pool, this.holder, keep, release, ttl, {
        timeoutMs: Math.max(100, timeoutMs - (Date.now() - began)),
      });
      this.held = new Map(got.map((h) => [h.lane, h.term]));
      for (const lane of release) this.leaving.delete(lane);
      for (const lane of this.leaving) if (!this.held.has(lane)) this.leaving.delete(lane);
      this.deadline = began + ttl - Math.min(1000, ttl / 4);
      const taken = got.filter((h) => before.get(h.lane) !== h.term).map((h) => h.lane);
      if (taken.length) {
        const returned = await releaseLaneRows(this.pool, this.holder, taken, this.work.inFlightIds());
        this.log.info({ lanes: taken, returned, instances: beat.live.length }, 'lanes taken');
      }
      const lost = [...before.keys()].filter((l) => !this.held.has(l) && !release.includes(l));
      if (lost.length) this.log.warn({ lanes: lost }, 'lanes lost to another instance');
      if (release.length) this.log.info({ lanes: release }, 'lanes handed back');
      const leavingMoved = this.leaving.size !== leavingBefore.size;
      if (this.firstRound || taken.length || lost.length || release.length || leavingMoved)
        this.emit('changed', this.view);
      this.firstRound = false;
    } catch (err) {
      this.log.warn({ err: (err as Error).message, query: 'lanes' }, 'lane lease round failed');
      if (this.held.size && Date.now() >= this.deadline) {
        const lost = [...this.held.keys()];
        this.held.clear();
        this.leaving.clear();
        this.log.warn({ lanes: lost }, 'lane leases not renewed in time; claiming stops');
        this.emit('changed', this.view);
      }
    }
  }
}
