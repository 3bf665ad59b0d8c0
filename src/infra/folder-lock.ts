import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { commandLineOf, isAlive, startTimeOf } from './processes';

interface LockData {
  /** The Sluice process that owns the folder. */
  pid: number;
  /** Its start time, so a later process that reuses the pid is not taken for the owner. */
  startTime: string | null;
  /** The server process (java, postgres) the owner runs on the folder, once spawned. */
  child?: number;
}

/** The folder is run by another live Sluice process. */
export class FolderInUse extends Error {
  override name = 'FolderInUse';
}

const ownerAlive = (d: LockData) =>
  isAlive(d.pid) && (d.startTime === null || startTimeOf(d.pid) === d.startTime);

/**
 * A pid file that gives one Sluice process a server's data folder. acquire() refuses while the
 * recorded owner lives; a file left by an owner that died (kill -9) is taken over, and its
 * `leftover` names the server it ran if that still runs (its command line holds `marker`).
 */
export class FolderLock {
  private constructor(
    readonly file: string,
    /** A server process of a dead owner, still running on the folder: stop it before starting another. */
    readonly leftover: number | null,
  ) {}

  static acquire(file: string, what: string, marker: string): FolderLock {
    for (let attempt = 0; attempt < 5; attempt++) {
      const mine: LockData = { pid: process.pid, startTime: startTimeOf(process.pid) };
      try {
        const fd = openSync(file, 'wx', 0o644);
        writeSync(fd, JSON.stringify(mine));
        closeSync(fd);
        return new FolderLock(file, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = read(file);
      if (held && held.pid !== process.pid && ownerAlive(held))
        throw new FolderInUse(
          `${what} is in use by Sluice process ${held.pid}${held.child ? ` (server pid ${held.child})` : ''}; ` +
            `stop that one first, or give this one another SLUICE_HOME (lock: ${file})`,
        );
      // Stale: only one process can move it aside; the loser retries and finds the winner's lock.
      try {
        renameSync(file, `${file}.stale-${process.pid}`);
      } catch {
        continue;
      }
      rmSync(`${file}.stale-${process.pid}`, { force: true });
      try {
        const fd = openSync(file, 'wx', 0o644);
        writeSync(fd, JSON.stringify(mine));
        closeSync(fd);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      const child = held?.child;
      const leftover = child && isAlive(child) && commandLineOf(child)?.includes(marker) ? child : null;
      return new FolderLock(file, leftover);
    }
    throw new FolderInUse(`${what}: could not take the lock ${file}`);
  }

  /** Records the server process this owner runs on the folder. */
  setChild(pid: number): void {
    writeFileSync(
      this.file,
      JSON.stringify({ pid: process.pid, startTime: startTimeOf(process.pid), child: pid }),
    );
  }

  release(): void {
    const held = read(this.file);
    if (held?.pid === process.pid) rmSync(this.file, { force: true });
  }
}

function read(file: string): LockData | null {
  try {
    const d = JSON.parse(readFileSync(file, 'utf8')) as LockData;
    return Number.isInteger(d.pid) ? d : null;
  } catch {
    return null;
  }
}
