import type { WindowProgress } from './claim-window';

export interface WatchedDrain {
  /** It holds lanes it may claim from (an instance without lanes has nothing to stall on). */
  holdsLanes: boolean;
  progress: WindowProgress;
  inFlight: number;
  /** When the settler's running flush began, or null. */
  settleStartedAt: number | null;
}

/**
 * Why the drain is stalled, or null: it holds lanes, work is known to be waiting (the last claim was full or
 * failed, or rows are in flight), and nothing was claimed or settled for `stallAfterMs`. The reason
 * names what it waits for and since when: a query (claim or settle) or the callouts of rows in flight.
 */
export function stallReason(d: WatchedDrain, stallAfterMs: number, now = Date.now()): string | null {
  const p = d.progress;
  if (!d.holdsLanes) return null;
  const idleMs = now - p.lastProgressAt;
  if (idleMs < stallAfterMs) return null;
  if (!p.backlog && d.inFlight === 0) return null;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (p.claimStartedAt !== null && now - p.claimStartedAt >= stallAfterMs)
    return `claim query running for ${s(now - p.claimStartedAt)}`;
  if (d.settleStartedAt !== null && now - d.settleStartedAt >= stallAfterMs)
    return `settle query running for ${s(now - d.settleStartedAt)}`;
  if (p.lastError !== null) return `claim failing (${p.failures} in a row); nothing claimed for ${s(idleMs)}`;
  if (d.inFlight > 0) return `${d.inFlight} rows in flight and none settled for ${s(idleMs)}`;
  return `rows waiting and nothing claimed for ${s(idleMs)}`;
}
