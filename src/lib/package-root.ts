import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding package.json: sources (src/) and compiled files (dist/src/) find their assets from it. */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = findRoot(__dirname);

/** A file shipped with the package, by its path from the package root (e.g. src/api/dashboard/index.html). */
export const packageFile = (path: string): string => join(PACKAGE_ROOT, path);
