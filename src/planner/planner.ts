import type { Pool } from 'pg';
import { inTransaction, rows } from '../db/pool';
import { Waker } from '../drain/waker';
import { coerceError } from '../lib/errors';
import { retry } from '../lib/retry';
import { WakeSignal } from '../lib/wake-signal';
import { registerBuiltinHandlers } from './builtin-handlers';
import { getHandler } from './handlers';
import { planningPass, type PassResult, type StartedRun } from './pass';
import { pruneLog } from './planner-log';
import { activeBackfills } from './backfill/checkpoint';
import { countActive, finishRun, heartbeatRuns, listRuns, PLANNER_CHANNEL } from './runs';
import { applyConfig, readSettings, SETTING_ENV } from './settings';
import type { SettingValues } from './settings-schema';

registerBuiltinHandlers();

export interface PlannerOptions {
  /** This instance's name in runs and the planner log. */
  instance: string;
  /**
   * Settings from this instance's configuration (SLUICE_MAX_ACTIVE...): written to the shared settings
   * row at start where they changed since the configuration last wrote them (see applyConfig).
   */
  settings?: Partial<SettingValues>;
  /** Timer pass interval, ms (passes also run on completions and registry changes). */
  intervalMs?: number;
  /** How often running runs are marked alive, ms. */
  heartbeatMs?: number;
  /** A running run not marked alive for this long is failed as lost, freeing its slot, ms. */
  staleMs?: number;
  /** The planner's clock: injectable so "03:00" tests do not wait for 03:00. */
  clock?: () => Date;
  /** For LISTEN (completion events and registry changes from other instances); absent: timer only. */
  databaseUrl?: string;
  /** How long stop() waits for running handlers to return after aborting them, ms. */
  stopGraceMs?: number;
}

type Log = {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
};

interface LocalRun extends StartedRun {
  abort: AbortController;
  progress: Record<string, unknown> | undefined;
  done: Promise<void>;
}

/**
 * The dynamic planner of one Sluice instance. Every instance plans; passes are serialised by an advisory
 * lock, read the slot limit from the database and count active runs there, so one limit holds across all
 * of them (a change applies at the next pass). A pass runs
 * on a timer, on a completion (NOTIFY from finishRun) and on a registry change (NOTIFY from the registry).
 * The instance that starts a run executes its handler and heartbeats it.
 */
export class Planner {
  private readonly signal = new WakeSignal();
  private readonly local = new Map<string, LocalRun>();
  private readonly waker: Waker | null;
  private loop: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private stopping = false;
  private passes = 0;
  private lastPass: { at: string; ms: number; started: number; error?: string } | null = null;
  private held: PassResult['held'] = [];
  private configApplied = false;
  readonly clock: () => Date;

  constructor(
    private readonly pool: Pool,
    private readonly o: PlannerOptions,
    private readonly log: Log,
  ) {
    this.clock = o.clock ?? (() => new Date());
    this.waker = o.databaseUrl ? new Waker(o.databaseUrl, () => this.wake(), log, PLANNER_CHANNEL) : null;
  }

  async start(): Promise<void> {
    await this.applyConfig();
    await this.waker?.start();
    this.heartbeat = setInterval(() => void this.beat(), this.o.heartbeatMs ?? 5000);
    this.loop = this.run();
  }

  /** Plan again soon (coalesced with a pass already under way). */
  wake(): void {
    this.signal.wake();
  }

  /** One pass now (tests call this directly); starts the chosen runs on this instance. */
  async pass(): Promise<PassResult> {
    if (!this.configApplied) await this.applyConfig();
    const began = process.hrtime.bigint();
    const result = await inTransaction(this.pool, (c) =>
      planningPass(c, {
        instance: this.o.instance,
        staleMs: this.o.staleMs ?? 30_000,
        now: this.clock(),
        canRun: (h) => getHandler(h) !== undefined,
      }),
    );
    for (const run of result.started) this.execute(run);
    if (result.alarmed.length)
      this.log.warn(
        { processes: result.alarmed },
        'recurrent process(es) due with no free slot: alarmed, first in line',
      );
    this.passes++;
    this.held = result.held;
    this.lastPass = {
      at: new Date().toISOString(),
      ms: Number(process.hrtime.bigint() - began) / 1e6,
      started: result.started.length,
    };
    if (this.passes % 200 === 0) await pruneLog(this.pool, 50_000).catch(() => undefined);
    return result;
  }

  /** Runs this instance is executing. */
  get localRuns(): { runId: string; process: string }[] {
    return [...this.local.values()].map((r) => ({ runId: r.runId, process: r.process }));
  }

  /** The planner part of /v1/status. */
  async status() {
    const [active, runs, backfills, settings] = await Promise.all([
      countActive(this.pool),
      listRuns(this.pool, { active: true, limit: 100 }),
      activeBackfills(this.pool),
      readSettings(this.pool),
    ]);
    return {
      maxActive: settings.maxActive,
      active,
      settings,
      // As this instance's last pass saw them (every instance passes at least every tick).
      held: this.held,
      runs,
      backfills,
      local: this.local.size,
      passes: this.passes,
      lastPass: this.lastPass,
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.signal.wake();
    await this.loop;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const r of this.local.values()) r.abort.abort(new Error('the service is stopping'));
    const grace = new Promise<void>((res) => setTimeout(res, this.o.stopGraceMs ?? 10_000).unref());
    await Promise.race([Promise.all([...this.local.values()].map((r) => r.done)), grace]);
    await this.waker?.stop();
  }

  /** This instance's configured settings into the shared row, by the precedence rule of applyConfig. */
  private async applyConfig(): Promise<void> {
    const { applied, kept } = await applyConfig(this.pool, this.o.settings ?? {}, this.o.instance);
    this.configApplied = true;
    for (const a of applied) {
      if (a.value === a.was) continue;
      const byHand = a.wasBy === 'api' || a.wasBy === 'cli';
      (byHand ? this.log.warn : this.log.info).call(
        this.log,
        { setting: a.key, value: a.value, was: a.was, wasSetBy: a.wasBy },
        `${SETTING_ENV[a.key]}=${a.value} changed since it was last applied: planner ${a.key} is now ${a.value}` +
          ` (was ${a.was}, set by ${a.wasBy})`,
      );
    }
    for (const [k, v] of Object.entries(this.o.settings ?? {}) as [keyof SettingValues, number | undefined][])
      if (v !== undefined && !applied.some((a) => a.key === k) && kept[k] !== v)
        this.log.warn(
          { setting: k, value: kept[k], configured: v, setBy: kept.updatedBy },
          `planner ${k} stays ${kept[k]}, set by ${kept.updatedBy} at ${kept.updatedAt}: ${SETTING_ENV[k]}=${v} ` +
            'was applied before that, and an unchanged environment does not undo a later change',
        );
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.signal.reset();
      try {
        await this.pass();
      } catch (err) {
        const e = coerceError(err);
        this.lastPass = { at: new Date().toISOString(), ms: 0, started: 0, error: e.message };
        this.log.warn({ err: e.message }, 'planning pass failed; retrying on the next tick');
      }
      if (this.stopping) break;
      await this.stopOrphans();
      await this.signal.sleep(this.o.intervalMs ?? 5000);
    }
  }

  private execute(run: StartedRun): void {
    const abort = new AbortController();
    const entry = { ...run, abort, progress: undefined } as LocalRun;
    this.local.set(run.runId, entry);
    entry.done = (async () => {
      let error: string | null = null;
      try {
        const handler = getHandler(run.handler);
        if (!handler) throw new Error(`handler "${run.handler}" is not registered on this instance`);
        await handler.run({
          runId: run.runId,
          process: run.process,
          params: run.params,
          pool: this.pool,
          signal: abort.signal,
          progress: (p) => (entry.progress = p),
          log: this.log,
        });
      } catch (err) {
        error = abort.signal.aborted
          ? `stopped: ${coerceError(abort.signal.reason).message}`
          : coerceError(err).message || 'failed';
      }
      // The end must reach the database, or the slot stays taken until the run is declared lost.
      await retry(
        () => finishRun(this.pool, run.runId, error === null, error, this.clock(), entry.progress),
        {
          initialMs: 200,
          maxMs: 6_400,
          retries: 5,
        },
      ).catch((err) =>
        this.log.error(
          { runId: run.runId, err: (err as Error).message },
          'could not record the end of a run',
        ),
      );
      this.local.delete(run.runId);
      if (error) this.log.warn({ process: run.process, runId: run.runId, error }, 'run failed');
      this.wake();
    })();
  }

  /**
   * Aborts this instance's runs whose process was removed or disabled since they started; called after
   * every pass (a registry change wakes one on every instance) and heartbeat.
   */
  private async stopOrphans(): Promise<void> {
    if (!this.local.size) return;
    try {
      const orphans = await rows<{ id: string; why: string }>(
        this.pool,
        `SELECT r.id, CASE WHEN p.name IS NULL THEN 'process removed' ELSE 'process disabled' END AS why
           FROM sluice_run r LEFT JOIN sluice_process p ON p.name = r.process
          WHERE r.id = ANY ($1::uuid[]) AND (p.name IS NULL OR NOT p.enabled)`,
        [[...this.local.keys()]],
      );
      for (const o of orphans) this.local.get(o.id)?.abort.abort(new Error(o.why));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'checking for removed processes failed');
    }
  }

  private async beat(): Promise<void> {
    await this.stopOrphans();
    const runs = [...this.local.values()].map((r) => ({ id: r.runId, progress: r.progress }));
    await heartbeatRuns(this.pool, runs).catch((err) =>
      this.log.warn({ err: (err as Error).message }, 'run heartbeat failed'),
    );
  }
}
