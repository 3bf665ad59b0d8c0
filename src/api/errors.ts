import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z, type ZodError } from 'zod';
import { SluiceError } from '../lib/errors';

/** The error envelope, for the OpenAPI document's error responses. */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details?: unknown,
) {
  return reply.code(status).send({ error: { code, message, ...(details !== undefined && { details }) } });
}

export function zodDetails(err: ZodError) {
  return err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Fastify's own 4xx codes as stable, documented error codes. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_VALIDATION: 'invalid_request',
  SLUICE_RATE_LIMITED: 'rate_limited',
  SLUICE_JSON_TOO_DEEP: 'json_too_deep',
};

/** Sluice's own refusals thrown below the routes: code -> status. */
const SLUICE_STATUS: Record<string, number> = { work_too_large: 413 };

/** SQLSTATEs of class 22 (data exception) in words: the public answer never carries Postgres' own text. */
const VALUE_CLASSES: Record<string, string> = {
  '22P02': 'a value is not valid for its type',
  '22P05': 'a text value holds a character the database cannot store',
  '22021': "a text value holds bytes that are not valid in the database's encoding",
  '22001': 'a value is longer than its column allows',
  '22003': 'a number is out of range',
  '22007': 'a date or time is not valid',
  '22008': 'a date or time is out of range',
};

/** Which value and what is wrong with it, told from Postgres' error without repeating its text. */
export function describeRefusedValue(err: { code: string; message?: string; where?: string }): string {
  const what = VALUE_CLASSES[err.code] ?? 'a value has a form the database cannot store';
  const json = /\bjsonb?\b/i.test(`${err.message ?? ''} ${err.where ?? ''}`);
  return `${json ? 'the payload: ' : ''}${what} (SQLSTATE ${err.code})`;
}

/** Postgres unreachable (or shutting down): the caller should retry, nothing was accepted. */
export function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (
    e?.code &&
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
      '08003',
    ].includes(e.code)
  )
    return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    e?.message ?? '',
  );
}

export function errorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof SluiceError && SLUICE_STATUS[err.code])
    return sendError(reply, SLUICE_STATUS[err.code], err.code, err.message);
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = FASTIFY_CODES[err.code] ?? (err instanceof SyntaxError ? 'invalid_json' : 'bad_request');
    return sendError(reply, status, code, err.message);
  }
  // A value Postgres refuses (SQLSTATE class 22: data exception) came from the caller: nothing was
  // written (the statement failed), so it is a 400, not our fault.
  const sqlState = (err as { code?: unknown }).code;
  if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    req.log.warn({ sqlState, err: err.message }, 'input refused by the database');
    const why = describeRefusedValue(err as { code: string; message?: string; where?: string });
    return sendError(reply, 400, 'invalid_input', `a value was refused by the database: ${why}`);
  }
  if (isDatabaseDown(err)) {
    req.log.warn({ err: err.message }, 'database unavailable');
    return sendError(
      reply.header('retry-after', '5'),
      503,
      'unavailable',
      'database unavailable; nothing was accepted, retry',
    );
  }
  req.log.error({ err }, 'unhandled error');
  return sendError(reply, 500, 'internal', 'internal error');
}
