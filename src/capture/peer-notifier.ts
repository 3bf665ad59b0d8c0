import type { Pool } from 'pg';

type Log = { warn(o: object, m: string): void };

/** Least time between two notifications of a burst: peers also poll (SLUICE_POLL_MS), this only hurries them. */
export const NOTIFY_GAP_MS = 25;

/**
 * Wakes every Sluice process (LISTEN sluice) after the API committed changes. Postgres serialises the
 * commits of transactions that NOTIFY, so the API enqueues without notifying and pokes this instead:
 * one NOTIFY in its own tiny transaction. A poke after a quiet spell (`gapMs` since the last one) notifies
 * at once; pokes arriving sooner fold into one more, sent `gapMs` after the last. Under a burst of small
 * requests that is a few notifications a second, not one per group commit (each was a transaction with
 * its own commit, about as much Postgres work as a group's). The notification is not made durable
 * (synchronous_commit off for its transaction): a lost notification only costs latency, the drain and
 * relay also poll.
 */
export class PeerNotifier {
  private inFlight = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private lastSent = -Infinity;

  constructor(
    private readonly pool: Pool,
    private readonly log?: Log,
    private readonly gapMs = NOTIFY_GAP_MS,
  ) {}

  poke(): void {
    if (this.inFlight || this.timer) {
      this.again = true;
      return;
    }
    const wait = this.lastSent + this.gapMs - performance.now();
    if (wait <= 0) {
      void this.send();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.send();
    }, wait);
    this.timer.unref();
  }

  private async send(): Promise<void> {
    this.inFlight = true;
    this.again = false;
    this.lastSent = performance.now();
    try {
      await this.pool.query({
        name: 'sluice_peer_notify',
        text: `SELECT set_config('synchronous_commit', 'off', true), pg_notify('sluice', '')`,
      });
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'cannot notify peers; they will poll');
      this.again = false;
    }
    this.inFlight = false;
    if (this.again) {
      this.again = false;
      this.poke();
    }
  }
}
