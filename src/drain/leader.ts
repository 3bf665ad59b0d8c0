import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { acquireOrRenew, releaseLease } from '../db/lease/lease-sql';

/**
 * Single-active leadership through a lease row (sluice_leader).
 *
 *   standby --acquire (row free or expired: term+1)--> leader
 *   leader  --renew every ttl/3 (same holder and term)--> leader
 *   leader  --renew fails, or local deadline passes--> standby   ("lost": stop claiming at once)
 *   leader  --stop()--> lease expired on purpose, so a standby takes over without waiting
 *
 * The local deadline (last successful renewal + ttl - margin) makes a leader that cannot reach the
 * database step down before anyone else can take over; the term check in the claim query guards the rest.
 */
export class Leader extends EventEmitter<{ elected: [number]; lost: [string] }> {
  private term: number | null = null;
  private deadline = 0;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly pool: Pool,
    readonly name: string,
    readonly holder: string,
    readonly ttlMs: number,
  ) {
    super();
  }

  get isLeader(): boolean {
    return this.term !== null && Date.now() < this.deadline;
  }

  get currentTerm(): number | null {
    return this.isLeader ? this.term : null;
  }

  start(): void {
    const tick = () => {
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        if (this.timer) this.timer = setTimeout(tick, Math.max(100, Math.floor(this.ttlMs / 3)));
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    const term = this.term;
    this.term = null;
    if (term !== null) await releaseLease(this.pool, this.name, this.holder, term).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    const began = Date.now();
    try {
      // Each attempt has its own deadline, as in River's elector: a renewal may take until the moment this
      // process would step down anyway (a slow answer before then still keeps the lead); an acquisition, ttl/2.
      const timeoutMs = this.term !== null ? this.deadline - began : this.ttlMs / 2;
      const lease = await acquireOrRenew(this.pool, this.name, this.holder, this.term, this.ttlMs, {
        timeoutMs: Math.max(100, Math.floor(timeoutMs)),
      });
      if (lease && lease.holder === this.holder) {
        const wasTerm = this.term;
        this.term = lease.term;
        // Count from before the round trip: the database's expiry is at least this late.
        this.deadline = began + this.ttlMs - Math.min(1000, this.ttlMs / 4);
        if (wasTerm !== lease.term) this.emit('elected', lease.term);
        return;
      }
      this.stepDown('lease held by another process');
    } catch (err) {
      if (this.term !== null && Date.now() >= this.deadline)
        this.stepDown(`lease renewal failed: ${(err as Error).message}`);
    }
  }

  private stepDown(reason: string): void {
    if (this.term === null) return;
    this.term = null;
    this.emit('lost', reason);
  }
}
