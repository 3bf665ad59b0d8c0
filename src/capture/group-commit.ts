import { enqueueGroup, type GroupItem, type GroupOutcome } from '../db/queue/enqueue-group';
import type { Queryable } from '../db/pool';
import { MAX_IDS } from './push';

export interface GroupCommitOptions {
  /** Most requests in one group (one statement, one commit). 1 turns grouping off. Default 256. */
  maxRequests?: number;
  /** Most record ids in one group; a bigger request goes alone. Default 10,000 (one push's limit). */
  maxIds?: number;
  /**
   * Groups being written at once, each on its own connection. Default 1: one at a time, so everything that
   * arrives meanwhile is the next group (bigger groups cost less per request than overlapping ones).
   */
  inFlight?: number;
}

interface Waiting {
  item: GroupItem;
  resolve(o: GroupOutcome): void;
  reject(err: unknown): void;
}

/** Values the database refused (data exceptions, integrity, size limits): the fault of one request. */
export function isRefusedValue(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** Deadlock or serialization failure: nothing was written, the same group may simply run again. */
const isTransient = (err: unknown) => ['40P01', '40001'].includes((err as { code?: string })?.code ?? '');
const TRANSIENT_RETRIES = 3;

/** What a group holds that another group written at the same time must not: its records and delivery ids. */
function keysOf(item: GroupItem): string[] {
  const keys = item.ids.map((id) => `r\u0000${item.entity}\u0000${id}`);
  if (item.delivery) keys.push(`d\u0000${item.delivery.source}\u0000${item.delivery.id}`);
  return keys;
}

/**
 * Group commit for ingestion: the one owner of the window policy. Pushes and webhooks that arrive while
 * groups are being written wait; when a group commits (or a slot is free), everything waiting (up to the
 * caps) is the next group, written in one statement (db/queue/enqueue-group.ts) and answered only after
 * its commit. No timer: a lone request starts its group at the end of the current event-loop turn, so it
 * waits for nobody.
 *
 * Up to `inFlight` groups (default 1) are written at once; with more, the next group gathers and is parsed
 * while the last one runs in Postgres. A group never holds a record or delivery id of a group still in flight: it is cut
 * before the first request that does, and that request waits for the earlier group's commit. So one
 * record's changes commit in arrival order, and a repeated delivery id finds the first one committed.
 *
 * A value the database still refuses after validation fails the statement, and with it the group: the
 * group is split in halves, written in order, until the refused request is alone and gets its error;
 * every other request commits. Its neighbours pay a few more statements, never an error.
 */
export class GroupCommitter {
  private readonly waiting: Waiting[] = [];
  private scheduled = false;
  private writing = 0;
  /** Records and delivery ids of the groups in flight, with how many of them hold each. */
  private readonly busy = new Map<string, number>();
  private readonly maxRequests: number;
  private readonly maxIds: number;
  private readonly inFlight: number;

  constructor(
    private readonly db: Queryable,
    opts: GroupCommitOptions = {},
  ) {
    this.maxRequests = opts.maxRequests ?? 256;
    this.maxIds = opts.maxIds ?? MAX_IDS;
    this.inFlight = opts.inFlight ?? 1;
  }

  /** Enqueues the item in the next group; resolves once that group committed. */
  submit(item: GroupItem): Promise<GroupOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.scheduled && this.writing < this.inFlight) {
        this.scheduled = true;
        // Requests read in this event-loop turn join the group; nothing waits longer than that.
        setImmediate(() => {
          this.scheduled = false;
          this.startGroups();
        });
      }
    });
  }

  private startGroups(): void {
    while (this.writing < this.inFlight && this.waiting.length > 0) {
      const group = this.take();
      if (group.length === 0) return; // the first in line waits for a group in flight
      this.writing++;
      const keys = group.flatMap((w) => keysOf(w.item));
      for (const k of keys) this.busy.set(k, (this.busy.get(k) ?? 0) + 1);
      void this.write(group).finally(() => {
        for (const k of keys) {
          const n = this.busy.get(k)! - 1;
          if (n === 0) this.busy.delete(k);
          else this.busy.set(k, n);
        }
        this.writing--;
        this.startGroups();
      });
    }
  }

  /**
   * The next group: in arrival order, up to maxRequests and maxIds (a bigger request alone), cut before
   * the first request that shares a record or delivery id with a group in flight.
   */
  private take(): Waiting[] {
    let ids = 0;
    let n = 0;
    while (n < this.waiting.length && n < this.maxRequests) {
      const item = this.waiting[n].item;
      if (n > 0 && ids + item.ids.length > this.maxIds) break;
      if (this.busy.size > 0 && keysOf(item).some((k) => this.busy.has(k))) break;
      ids += item.ids.length;
      n++;
    }
    return this.waiting.splice(0, n);
  }

  private async write(group: Waiting[], attempt = 0): Promise<void> {
    let outcomes: GroupOutcome[];
    try {
      outcomes = await enqueueGroup(
        this.db,
        group.map((w) => w.item),
      );
    } catch (err) {
      if (isTransient(err) && attempt < TRANSIENT_RETRIES) return this.write(group, attempt + 1);
      if (group.length > 1 && isRefusedValue(err)) {
        // Nothing of the group was written: the halves go in order, so arrival order holds.
        const half = Math.ceil(group.length / 2);
        await this.write(group.slice(0, half));
        await this.write(group.slice(half));
        return;
      }
      for (const w of group) w.reject(err);
      return;
    }
    group.forEach((w, k) => w.resolve(outcomes[k]));
  }
}
