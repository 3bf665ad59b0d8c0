import type { Op } from '../../config/route-schema';

/** A claimed row as the drain sees it (claim.ts names the columns so; the rows pg returns are used as they are). */
export interface ClaimedEvent {
  id: string;
  eventId: string;
  route: string;
  entity: string;
  recordId: string;
  op: Op;
  source: string;
  payload: unknown;
  occurredAt: Date;
  attempts: number;
  mergedCount: number;
  /** The lane the row belongs to (a hash of route, entity and record id). */
  lane: number;
}
