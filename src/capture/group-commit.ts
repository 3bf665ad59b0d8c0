import { enqueueGroup, type GroupItem, type GroupOutcome } from '../db/queue/enqueue-group';
import type { Queryable } from '../db/pool';
import { MAX_IDS } from './push';

export interface GroupCommitOptions {
  /** Most requests in one group (one statement, one commit). 1 turns grouping off. Default 256. */
  maxRequests?: number;
  /** Most record ids in one group; a bigger request goes alone. Default 10,000 (one push's limit). */
  maxIds?: number;
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

/**
 * Group commit for ingestion: the one owner of the window policy. Pushes and webhooks that arrive while
 * a group is being written wait; when it commits, everything waiting (up to the caps) is the next group,
 * written in one statement (db/queue/enqueue-group.ts) and answered only after its commit. No timer: a
 * lone request starts its group at the end of the current event-loop turn, so it waits for nobody.
 * One group is in flight at a time, so groups commit in arrival order.
 *
 * A value the database still refuses after validation fails the statement, and with it the group: the
 * group is split in halves, written in order, until the refused request is alone and gets its error;
 * every other request commits. Its neighbours pay a few more statements, never an error.
 */
export class GroupCommitter {
  private readonly waiting: Waiting[] = [];
  private writing = false;
  private readonly maxRequests: number;
  private readonly maxIds: number;

  constructor(
    private readonly db: Queryable,
    opts: GroupCommitOptions = {},
  ) {
    this.maxRequests = opts.maxRequests ?? 256;
    this.maxIds = opts.maxIds ?? MAX_IDS;
  }

  /** Enqueues the item in the next group; resolves once that group committed. */
  submit(item: GroupItem): Promise<GroupOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // Requests read in this event-loop turn join the first group; nothing waits longer than that.
        setImmediate(() => void this.writeAll());
      }
    });
  }

  private async writeAll(): Promise<void> {
    while (this.waiting.length > 0) await this.write(this.take());
    this.writing = false;
  }

  /** The next group: in arrival order, up to maxRequests and maxIds (a bigger request alone). */
  private take(): Waiting[] {
    let ids = this.waiting[0].item.ids.length;
    let n = 1;
    while (n < this.waiting.length && n < this.maxRequests) {
      ids += this.waiting[n].item.ids.length;
      if (ids > this.maxIds) break;
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
