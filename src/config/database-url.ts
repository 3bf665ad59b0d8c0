import type { Env } from './env';

export const EMBEDDED_PG_PASSWORD = 'sluice-embedded';

/** The database URL the service and the CLI use: DATABASE_URL, or the embedded server's `sluice` database. */
export function databaseUrlOf(env: Pick<Env, 'DATABASE_URL' | 'SLUICE_PG_PORT'>): {
  url: string;
  embedded: boolean;
} {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, embedded: false };
  return {
    url: `postgres://postgres:${EMBEDDED_PG_PASSWORD}@127.0.0.1:${env.SLUICE_PG_PORT}/sluice`,
    embedded: true,
  };
}

/**
 * The same from the raw environment, checked as the env schema would but without loading it: CLI
 * commands that only query start in a fraction of the time.
 */
export function databaseUrlFromEnvironment(environ: NodeJS.ProcessEnv = process.env): string {
  const url = environ.DATABASE_URL || undefined;
  if (url && !URL.canParse(url)) throw new Error('DATABASE_URL is not a valid URL');
  const port = Number(environ.SLUICE_PG_PORT ?? 54329);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error('SLUICE_PG_PORT must be an integer from 1 to 65535');
  return databaseUrlOf({ DATABASE_URL: url, SLUICE_PG_PORT: port }).url;
}
