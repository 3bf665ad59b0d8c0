import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { z } from 'zod';
import { EnvSchema, parseWebhookSecrets, type Env } from './env';
import { ConfigFileSchema, type AlertsConfig, type RouteConfig } from './route-schema';
import { resolveScheme, secretsProblem, type SigningSecrets } from './signing';

export interface SluiceConfig {
  env: Env;
  routes: RouteConfig[];
  /** source -> scheme and secrets, the config file's `webhooks` merged with SLUICE_WEBHOOK_SECRETS (env wins). */
  webhookSecrets: Record<string, SigningSecrets>;
  configPath: string | null;
  /** Where operational alerts go (a slack route); absent: alerts are only logged. */
  alerts?: AlertsConfig;
  /** The config file's `backfill.tables` (see planner/backfill/access.ts); absent: empty. */
  backfillTables?: string[];
}

// Loaded for YAML route files only: this module is on every CLI command's start-up path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = (): typeof import('yaml') => require('yaml');

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Renders zod issues as "routes[2].options.url: Required" lines, naming the route when there is one. */
export function describeIssues(err: z.ZodError, data?: unknown): string {
  return err.issues
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join('');
      let routeName = '';
      if (issue.path[0] === 'routes' && typeof issue.path[1] === 'number') {
        const route = (data as { routes?: Array<{ name?: unknown }> } | undefined)?.routes?.[issue.path[1]];
        if (route && typeof route.name === 'string') routeName = ` (route "${route.name}")`;
      }
      return `${path || '(root)'}${routeName}: ${issue.message}`;
    })
    .join('\n');
}

export function parseConfigFile(text: string, path: string): z.infer<typeof ConfigFileSchema> {
  let data: unknown;
  try {
    data = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? yaml().parse(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: cannot parse: ${(err as Error).message}`);
  }
  const parsed = ConfigFileSchema.safeParse(data ?? {});
  if (!parsed.success)
    throw new ConfigError(`${path}: invalid config\n${describeIssues(parsed.error, data)}`);
  return parsed.data;
}

/** The environment alone, validated (what commands that only talk to the database need). */
export function loadEnv(environ: NodeJS.ProcessEnv = process.env): Env {
  const envParsed = EnvSchema.safeParse(environ);
  if (!envParsed.success) throw new ConfigError(`invalid environment\n${describeIssues(envParsed.error)}`);
  return envParsed.data;
}

export function loadConfig(environ: NodeJS.ProcessEnv = process.env): SluiceConfig {
  const env = loadEnv(environ);
  const explicit = env.SLUICE_CONFIG;
  const candidate = explicit ?? './sluice.config.json';
  const configPath = existsSync(candidate) ? resolve(candidate) : null;
  if (explicit && !configPath) throw new ConfigError(`SLUICE_CONFIG: file not found: ${explicit}`);
  return { env, configPath, ...readConfigFile(configPath, env) };
}

/** The route file's content (none: empty), with SLUICE_WEBHOOK_SECRETS merged in; what a reload re-reads. */
export function readConfigFile(
  configPath: string | null,
  env: Pick<Env, 'SLUICE_WEBHOOK_SECRETS'>,
): Omit<SluiceConfig, 'env' | 'configPath'> {
  const file = configPath
    ? parseConfigFile(readFileSync(configPath, 'utf8'), configPath)
    : ConfigFileSchema.parse({});
  const webhookSecrets: Record<string, SigningSecrets> = { ...file.webhooks };
  for (const [source, secret] of Object.entries(parseWebhookSecrets(env.SLUICE_WEBHOOK_SECRETS)))
    webhookSecrets[source] = envSource(source, secret);
  return {
    routes: file.routes,
    webhookSecrets,
    alerts: file.alerts,
    backfillTables: file.backfill.tables,
  };
}

/** An SLUICE_WEBHOOK_SECRETS source: its scheme follows its secret (whsec_: standard), checked like the file's. */
function envSource(source: string, secret: string): SigningSecrets {
  const scheme = resolveScheme(undefined, [secret])!;
  const problem = secretsProblem(scheme, [secret]);
  if (problem) throw new ConfigError(`SLUICE_WEBHOOK_SECRETS: source "${source}": ${problem}`);
  return { scheme, secrets: [secret] };
}
