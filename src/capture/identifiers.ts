/** Postgres identifiers Sluice will put into DDL: plain names only, at most 63 bytes, no quoting tricks. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export class BadIdentifierError extends Error {
  override name = 'BadIdentifierError';
}

/** Throws a clear error naming what was wrong; returns the name unchanged otherwise. */
export function checkIdentifier(what: string, name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new BadIdentifierError(
      `${what} "${name.slice(0, 80)}" is not a plain identifier (letters, digits and "_", starting with a letter or "_", at most 63 chars)`,
    );
  }
  return name;
}

/** Double-quotes an identifier already checked by checkIdentifier (the same as Postgres' quote_ident/%I). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Single-quotes a SQL literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
