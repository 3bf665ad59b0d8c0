import type { Op } from '../../config/route-schema';

/** A claimed row as the drain sees it (snake_case columns mapped once in claim.ts). */
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
