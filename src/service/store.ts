import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../db/data-source';
import { sessionOptions } from '../db/schema-name';
import { migrate } from '../db/migrate';
import { poolOf } from '../db/pool';
import { logCaptureUpgrade, upgradeCaptures } from '../capture/upgrade';
import type { Component } from '../lib/lifecycle';

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/**
 * The service's connection pools, migrated on start (the route registry syncs the routes), closed on stop
 * (after every component that queries them has stopped, before the database server does).
 */
export class Store implements Component {
  private ds: DataSource | null = null;
  private main: Pool | null = null;
  private drainPool: Pool | null = null;
  private capture: Pool | null = null;

  constructor(
    private readonly url: string,
    private readonly log: Log,
    /** The drain pool's statement_timeout (SLUICE_STATEMENT_TIMEOUT_MS). */
    private readonly statementTimeoutMs = 10_000,
  ) {}

  /** Pushes (what a 202 promises), the leader lease, status and the planner: synchronous commits. */
  get pool(): Pool {
    if (!this.main) throw new Error('store not started');
    return this.main;
  }

  /**
   * The drain's own writes (claims, settles, heartbeats) and the capture fan-out commit without waiting
   * for the WAL flush: a write lost in a Postgres crash only means a row is delivered again, which
   * at-least-once allows.
   */
  get asyncPool(): Pool {
    if (!this.drainPool) throw new Error('store not started');
    return this.drainPool;
  }

  /**
   * The capture fan-out's one connection (waiting behind the drain's claims for a pooled one delayed every
   * change). Asynchronous commit: the journal rows it consumes go in the same transaction, so a commit
   * lost in a crash is simply redone.
   */
  get capturePool(): Pool {
    if (!this.capture) throw new Error('store not started');
    return this.capture;
  }

  async start(): Promise<void> {
    this.ds = createDataSource({ url: this.url, poolSize: 12 });
    await this.ds.initialize();
    const applied = await migrate(this.ds);
    if (applied.length) this.log.info({ applied }, 'migrations applied');
    this.main = poolOf(this.ds);
    // An idle client that loses its server must not crash the process: the pool drops it and reconnects.
    this.main.on('error', (err) => this.log.warn({ err: err.message }, 'postgres pool client error'));
    logCaptureUpgrade(await upgradeCaptures(this.main), this.log);
    this.drainPool = new Pool({
      connectionString: this.url,
      max: 5,
      application_name: 'sluice-drain',
      options: sessionOptions('synchronous_commit=off', `statement_timeout=${this.statementTimeoutMs}`),
      // A connection that stops answering (not a slow query: Postgres cancels those) fails the call too.
      query_timeout: this.statementTimeoutMs + 5_000,
    });
    this.drainPool.on('error', (err) => this.log.warn({ err: err.message }, 'postgres drain client error'));
    this.capture = new Pool({
      connectionString: this.url,
      max: 1,
      application_name: 'sluice-capture',
      options: sessionOptions('synchronous_commit=off'),
    });
    this.capture.on('error', (err) => this.log.warn({ err: err.message }, 'postgres capture client error'));
  }

  async stop(): Promise<void> {
    if (this.drainPool) await endPool(this.drainPool, () => this.drainPool!.end());
    if (this.capture) await endPool(this.capture, () => this.capture!.end());
    if (this.ds?.isInitialized) await endPool(this.main!, () => this.ds!.destroy());
  }
}

/**
 * pg's Pool.end() resolves before its clients' sockets have closed; a server stopped right after would
 * terminate them ("terminating connection due to administrator command"). Waits for every client's end.
 */
async function endPool(pool: Pool, end: () => Promise<void>): Promise<void> {
  const open = pool.totalCount;
  let removed = 0;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((res) => {
    if (open === 0) return res();
    pool.on('remove', () => ++removed >= open && res());
    timer = setTimeout(res, 5_000);
  });
  await end().catch(() => undefined);
  await closed;
  clearTimeout(timer);
}
