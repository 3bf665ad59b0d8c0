/** The parts of the /v1/status document the scrape-time collectors read (every field optional). */
export interface StatusSnapshot {
  queue?: {
    oldestPendingAgeMs?: number | null;
    byRoute?: Record<string, Record<string, number>>;
  } & Record<string, unknown>;
  consumer?: {
    state?: string;
    role?: string;
    lanes?: { held?: number[]; total?: number };
    batches?: {
      started: number;
      finished: number;
      rearms?: number;
      active?: Array<{ size: number; started: number; finished: number; ageMs: number }>;
    };
    inFlight?: number;
    delivered?: number;
    retried?: number;
    dead?: number;
    deferred?: number;
    stalled?: string | null;
  };
  capture?: { state?: string; fannedOut?: number; backlog?: { changes: number; oldestAgeMs: number | null } };
  relay?: {
    enabled?: boolean;
    state?: string;
    published?: number;
    lag?: { unpublished: number; oldestUnpublishedAgeMs: number | null };
  };
  breakers?: Record<string, { state?: string; inFlight?: number }>;
  planner?: { maxActive?: number; active?: number } & Record<string, unknown>;
}

/**
 * One status read shared by every collector of a scrape: the collectors all ask within milliseconds,
 * and the database should see one set of queries per scrape, not one per metric.
 */
export function sharedSnapshot(read: () => Promise<unknown>, ttlMs = 250): () => Promise<StatusSnapshot> {
  let cached: { at: number; value: Promise<StatusSnapshot> } | null = null;
  return () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.value;
    const value = read().then((v) => (v ?? {}) as StatusSnapshot);
    cached = { at: Date.now(), value };
    // A failed read must not be served to the next scrape.
    value.catch(() => (cached = null));
    return value;
  };
}
