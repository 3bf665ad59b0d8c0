import { IANAZone } from 'luxon';

/** The canonical name of an IANA zone (`europe/paris` -> `Europe/Paris`), or null if there is no such zone. */
export function canonicalZone(name: string): string | null {
  if (!IANAZone.isValidZone(name)) return null;
  return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
}
