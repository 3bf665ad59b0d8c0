import { resolve } from 'node:path';

/** TypeScript handler files load through tsx when it is installed (the CLI itself is compiled JavaScript). */
function loadTypeScript(p: string): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: only for .ts handler files
    (require('tsx/cjs/api') as { register(): unknown }).register();
  } catch {
    throw new Error(
      `SLUICE_HANDLERS: "${p}" is TypeScript: compile it to JavaScript, or install tsx so Sluice can load it`,
    );
  }
}

/**
 * Loads the modules named in SLUICE_HANDLERS; each calls registerHandler() for its user code. Relative
 * paths resolve from the working directory; TypeScript files work when tsx is installed.
 */
export function loadHandlerModules(paths: string[]): void {
  if (paths.some((p) => /\.[cm]?ts$/.test(p))) loadTypeScript(paths.find((p) => /\.[cm]?ts$/.test(p))!);
  for (const p of paths) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- user modules load at start, by path
      require(p.startsWith('.') || p.startsWith('/') ? resolve(p) : p);
    } catch (err) {
      throw new Error(`SLUICE_HANDLERS: cannot load "${p}": ${(err as Error).message}`);
    }
  }
}
