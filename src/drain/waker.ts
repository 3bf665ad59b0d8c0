import { Client } from 'pg';

/**
 * LISTENs on the `sluice` channel (or another fixed one) on a dedicated connection and calls `onWake` for each NOTIFY.
 * A latency hint only: if the connection drops, notifications are lost and polling covers for them
 * while it reconnects with backoff.
 */
export class Waker {
  private client: Client | null = null;
  private stopped = false;
  private retryMs = 250;
  connected = false;

  constructor(
    private readonly url: string,
    private readonly onWake: () => void,
    private readonly log?: { warn(o: object, m: string): void },
    /** Channel to LISTEN on (a fixed identifier, never user input). */
    private readonly channel = 'sluice',
  ) {}

  async start(): Promise<void> {
    await this.connect().catch(() => this.scheduleReconnect());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.url, application_name: 'sluice-listen' });
    client.on('notification', () => this.onWake());
    client.on('error', (err) => {
      this.log?.warn({ err: err.message }, 'listen connection lost; polling until it is back');
      this.connected = false;
      client.end().catch(() => undefined);
      if (this.client === client) this.client = null;
      this.scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${this.channel}`);
    this.client = client;
    this.connected = true;
    this.retryMs = 250;
    this.onWake(); // anything that arrived while we were away
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
    setTimeout(() => this.connect().catch(() => this.scheduleReconnect()), wait).unref();
  }
}
