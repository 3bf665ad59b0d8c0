import { v7 } from 'uuid';

/**
 * A new push or webhook ticket: a UUIDv7 (creation time in ms, then random bits), like the event ids
 * (migration 0020), so the ticket indexes of event_log and event_queue grow at their right edge instead of
 * taking each request's ticket on a random page.
 */
export const newTicket = (): string => v7();
