import { resolve } from 'node:path';

/**
 * Loads the modules named in SLUICE_HANDLERS; each calls registerHandler() for its user code. Relative
 * paths resolve from the working directory; TypeScript works too (the CLI runs under tsx).
 */
export function loadHandlerModules(paths: string[]): void {
  for (const p of paths) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- user modules load at start, by path
      require(p.startsWith('.') || p.startsWith('/') ? resolve(p) : p);
    } catch (err) {
      throw new Error(`SLUICE_HANDLERS: cannot load "${p}": ${(err as Error).message}`);
    }
  }
}
