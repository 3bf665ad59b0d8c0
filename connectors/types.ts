import type { AxiosRequestConfig, AxiosResponse } from 'axios';
import type { z } from 'zod';

/** The event a connector turns into a request (one claimed queue row). */
export interface DeliveryEvent {
  eventId: string;
  route: string;
  entity: string;
  recordId: string;
  op: 'insert' | 'update' | 'delete' | 'upsert';
  source: string;
  occurredAt: Date;
  payload: unknown;
  attempts: number;
  mergedCount: number;
}

/** How one event fared. `retriable` failures come back later; permanent ones become dead letters at once. */
export type Outcome =
  | { kind: 'success'; status: number }
  | { kind: 'retriable'; status: number | null; error: string; response?: string; retryAfterMs?: number }
  | { kind: 'permanent'; status: number | null; error: string; response?: string };

/**
 * A connector: pure request building and response reading; the callout layer owns HTTP, breakers,
 * retries and rate limits. A batching connector sets `maxBatch` and gets up to that many events per call.
 */
export interface Connector<Options = unknown> {
  name: string;
  /** Validates the route's `options`; a failure stops start-up with the route and field named. */
  optionsSchema: z.ZodType<Options>;
  /** >1: events per request this connector can take (a route's `batchSize` may lower it). */
  maxBatch?: number;
  /**
   * Batching connectors: events with different keys never share a request (e.g. upserts vs deletes,
   * or different object types). Absent: any events may share one.
   */
  groupKey?(event: DeliveryEvent, options: Options): string;
  /** One request for these events (one event unless `maxBatch` > 1). May throw: the events become dead letters. */
  buildRequest(events: DeliveryEvent[], options: Options): AxiosRequestConfig;
  /**
   * Reads a 2xx response as one outcome per event (same order). Absent: every event succeeded.
   * Non-2xx responses and transport errors are classified by the callout layer.
   */
  readResponse?(events: DeliveryEvent[], response: AxiosResponse, options: Options): Outcome[];
}
