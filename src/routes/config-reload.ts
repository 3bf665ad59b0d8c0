import type { SigningSecrets } from '../config/signing';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { checkConnector } from '../callout/build-callers';
import { ConfigError, readConfigFile } from '../config/load';
import type { Env } from '../config/env';
import type { Component } from '../lib/lifecycle';
import type { RouteRegistry } from './registry';

type Log = { info(o: object, m: string): void; error(o: object, m: string): void };

export interface ReloadResult {
  ok: boolean;
  /** Why the file was refused (the running config stays). */
  error?: string;
}

/**
 * Re-reads the route file on SIGHUP (`reload()`) and when the file changes (polled with fs.watchFile,
 * which also sees editors that write a new file and rename it). The whole file is validated first,
 * connectors included; a bad file changes nothing and the log says why. Routes go through the registry
 * (the file's precedence is in routes/admin.ts); webhook secrets are swapped in place.
 */
export class ConfigReloader implements Component {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly configPath: string | null,
    private readonly env: Pick<Env, 'SLUICE_WEBHOOK_SECRETS'>,
    private readonly registry: RouteRegistry,
    /** The object the webhook routes read secrets from, updated in place. */
    private readonly webhookSecrets: Record<string, SigningSecrets>,
    private readonly log: Log,
    private readonly watchMs: number,
  ) {}

  start(): void {
    if (!this.configPath || this.watchMs <= 0) return;
    watchFile(this.configPath, { interval: this.watchMs, persistent: false }, (cur: Stats, prev: Stats) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) void this.reload('file changed');
    });
  }

  async stop(): Promise<void> {
    if (this.configPath) unwatchFile(this.configPath);
    await this.chain;
  }

  /** One reload at a time, in order. */
  reload(why: string): Promise<ReloadResult> {
    const next = this.chain.then(() => this.apply(why));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async apply(why: string): Promise<ReloadResult> {
    if (!this.configPath) {
      this.log.info({ why }, 'config reload: no route file (SLUICE_CONFIG); nothing to reload');
      return { ok: true };
    }
    let file: ReturnType<typeof readConfigFile>;
    try {
      file = readConfigFile(this.configPath, this.env);
      const problems = file.routes.flatMap((r) => {
        const checked = checkConnector(r);
        return 'problems' in checked ? checked.problems : [];
      });
      if (problems.length) throw new ConfigError(`invalid routes\n${problems.join('\n')}`);
    } catch (err) {
      const error = (err as Error).message;
      this.log.error(
        { why, file: this.configPath, err: error },
        'config reload refused; the running config stays',
      );
      return { ok: false, error };
    }
    try {
      await this.registry.applyFile(file.routes, why);
    } catch (err) {
      const error = `cannot store the routes: ${(err as Error).message}`;
      this.log.error({ why, err: error }, 'config reload failed; the running config stays');
      return { ok: false, error };
    }
    for (const k of Object.keys(this.webhookSecrets)) delete this.webhookSecrets[k];
    Object.assign(this.webhookSecrets, file.webhookSecrets);
    this.log.info(
      {
        why,
        file: this.configPath,
        routes: file.routes.length,
        webhookSources: Object.keys(file.webhookSecrets).length,
      },
      'config reloaded',
    );
    return { ok: true };
  }
}
