import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * SLUICE_API_KEYS when set; otherwise one key generated on first start and kept in <home>/api-key
 * (mode 0600), so restarts keep working with the key printed the first time.
 */
export function resolveApiKeys(
  fromEnv: string[],
  home: string,
): { keys: string[]; generated: boolean; file?: string } {
  if (fromEnv.length > 0) return { keys: fromEnv, generated: false };
  const file = join(home, 'api-key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (key) return { keys: [key], generated: false, file };
  }
  mkdirSync(home, { recursive: true });
  const key = `sk_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { keys: [key], generated: true, file };
}
