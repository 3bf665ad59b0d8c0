import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { sendError, zodDetails } from './errors';

/**
 * Every route declares its zod schemas in `config.zod` (see `schemas()`); the handler validates with
 * them (`parseOr400`) and the OpenAPI document at /docs is generated from the same declarations.
 */
export interface RouteSchemas {
  summary: string;
  /** Longer prose for the docs. */
  description?: string;
  tags?: string[];
  /** Request headers the route reads (documented; the handler checks them itself). */
  headers?: z.ZodType;
  body?: z.ZodType;
  params?: z.ZodType;
  querystring?: z.ZodType;
  /** Status -> schema of the answer, for the docs. */
  response?: Record<number, z.ZodType>;
  /** false for the few routes that need no API key (they authenticate otherwise, or serve no data). */
  auth?: boolean;
  /** An operational endpoint the operator may open without a key via SLUICE_PUBLIC_ENDPOINTS. */
  publicAs?: 'healthz' | 'readyz' | 'metrics' | 'docs';
}

export function schemas(s: RouteSchemas) {
  return { config: { zod: s } };
}

/** Parses `data`; on failure answers 400 `{ error: { code, message, details } }` and returns undefined. */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  data: unknown,
  reply: FastifyReply,
  code: string,
  message: string,
): z.infer<S> | undefined {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  void sendError(reply, 400, code, message, zodDetails(parsed.error));
  return undefined;
}
