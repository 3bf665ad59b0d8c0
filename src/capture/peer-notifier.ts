import type { Pool } from 'pg';

type Log = { warn(o: object, m: string): void };

/**
 * Wakes every Sluice process (LISTEN sluice) after the API committed changes. Postgres serialises the
 * commits of transactions that NOTIFY, so the API enqueues without notifying and pokes this instead:
 * one NOTIFY in its own tiny transaction, and pokes arriving meanwhile fold into one more. A lost
 * notification only costs latency: the drain and relay also poll.
 */
export class PeerNotifier {
  private inFlight = false;
  private again = false;

  constructor(
    private readonly pool: Pool,
    private readonly log?: Log,
  ) {}

  poke(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    void this.send();
  }

  private async send(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pool.query(`SELECT pg_notify('sluice', '')`);
      } catch (err) {
        this.log?.warn({ err: (err as Error).message }, 'cannot notify peers; they will poll');
        this.again = false;
      }
    } while (this.again);
    this.inFlight = false;
  }
}
