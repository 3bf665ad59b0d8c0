import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const onPath = (bin: string) =>
  (process.env.PATH ?? '').split(':').some((d) => d && executable(`${d}/${bin}`));

/**
 * The Chromium the browser tests drive: SLUICE_CHROMIUM (a path to check; naming a missing one tests
 * the install below), else /usr/bin/chromium. When it is missing the tests get it themselves through
 * the machine's package manager (Debian's `chromium`, as root); where they cannot, they fail saying
 * what to install. A browser test is never skipped.
 */
export function chromiumPath(log: (m: string) => void = console.log): string {
  const wanted = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
  if (executable(wanted)) return wanted;
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    log(`no Chromium at ${wanted}: installing Debian's chromium package with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
    // The package installs /usr/bin/chromium, whatever path SLUICE_CHROMIUM named.
    for (const path of [wanted, '/usr/bin/chromium']) if (executable(path)) return path;
  }
  throw new Error(
    `no Chromium at ${wanted}, and it cannot be installed here (that needs root and apt-get): ` +
      'install one (Debian: apt-get install chromium) or set SLUICE_CHROMIUM to its path',
  );
}
