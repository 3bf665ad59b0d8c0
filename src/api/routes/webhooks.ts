import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { GroupCommitter } from '../../capture/group-commit';
import { webhookItem, WebhookBodySchema } from '../../capture/webhook';
import { NameSchema } from '../../config/route-schema';
import type { SigningSecrets } from '../../config/signing';
import {
  MAX_DELIVERY_ID,
  SLUICE_SIGNATURE_HEADER,
  verifyWebhook,
  type Verdict,
} from '../../capture/verify-webhook';
import { STANDARD_HEADERS } from '../../lib/standard-webhooks';
import { ErrorBody, sendError } from '../errors';
import { exceedsDepth, jsonTooDeepError } from '../json-depth';
import { countAfterVerification } from '../rate-limit';
import { parseOr400, schemas } from '../validate';

export const SIGNATURE_HEADER = SLUICE_SIGNATURE_HEADER;

const Params = z.object({ source: NameSchema });
const Accepted = z.object({ ticket: z.string().uuid(), accepted: z.number().int(), duplicate: z.boolean() });
const Headers = z.object({
  [SLUICE_SIGNATURE_HEADER]: z
    .string()
    .optional()
    .describe('Sluice scheme: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">'),
  [STANDARD_HEADERS.id]: z
    .string()
    .max(MAX_DELIVERY_ID)
    .optional()
    .describe('Standard Webhooks: the message id, used as the delivery id (a repeat adds nothing)'),
  [STANDARD_HEADERS.timestamp]: z.string().optional().describe('Standard Webhooks: unix seconds'),
  [STANDARD_HEADERS.signature]: z
    .string()
    .optional()
    .describe(
      'Standard Webhooks: v1,<base64 HMAC-SHA256 of "id.timestamp.body">, space-separated if several',
    ),
});

export interface WebhookDeps {
  /** The group commit every push and webhook goes through. */
  ingest: GroupCommitter;
  /** source -> its scheme and secrets */
  webhookSecrets: Record<string, SigningSecrets>;
  /** Largest accepted body, bytes. */
  webhookBodyLimit: number;
  onAccepted(): void;
}

/** The verified source and its raw body (and signed delivery id), or the refusal to send. */
type Checked = (Verdict & { ok: true } & { source: string; raw: Buffer }) | (Verdict & { ok: false });

function check(req: FastifyRequest, secrets: Record<string, SigningSecrets>): Checked {
  const source = (req.params as { source: string }).source;
  const found =
    Params.safeParse({ source }).success && Object.hasOwn(secrets, source) ? secrets[source] : undefined;
  if (found === undefined)
    return {
      ok: false,
      status: 404,
      code: 'unknown_source',
      message: `no webhook source "${source.slice(0, 64)}"`,
    };
  const raw = req.body;
  if (!Buffer.isBuffer(raw))
    return { ok: false, status: 400, code: 'invalid_json', message: 'body must be JSON' };
  const verdict = verifyWebhook(found, raw, req.headers);
  return verdict.ok ? { ...verdict, source, raw } : verdict;
}

/**
 * `POST /v1/webhooks/:source`, authenticated by its HMAC signature, not by an API key. The JSON parser
 * of this scope keeps the raw bytes: the signature is over exactly what was sent. The signature is
 * checked first (preValidation), then the rate limit counts (preHandler): a verified request against
 * its source, anything else against the client address, so a flood of unsigned requests cannot use up
 * the real sender's budget.
 */
export function webhookRoutes(app: FastifyInstance, deps: WebhookDeps) {
  const verdicts = new WeakMap<FastifyRequest, Checked>();
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(
      '/v1/webhooks/:source',
      {
        bodyLimit: deps.webhookBodyLimit,
        preValidation: async (req) => void verdicts.set(req, check(req, deps.webhookSecrets)),
        config: {
          ...schemas({
            summary: 'Signed webhook: changes from an external source',
            description:
              'Authenticated by its signature, per source: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature; secrets whsec_<base64>; webhook-id is the delivery id) or the Sluice scheme (X-Sluice-Signature). 5 minute tolerance either way; a repeated delivery id answers 200 with the first ticket and adds nothing.',
            tags: ['capture'],
            auth: false,
            params: Params,
            headers: Headers,
            body: WebhookBodySchema,
            response: {
              202: Accepted,
              200: Accepted,
              400: ErrorBody,
              401: ErrorBody,
              413: ErrorBody,
              429: ErrorBody,
            },
          }).config,
          rateLimit: countAfterVerification((req) => {
            const v = verdicts.get(req);
            return v?.ok ? v.source : null;
          }),
        },
      },
      async (req, reply) => {
        const v = verdicts.get(req) ?? check(req, deps.webhookSecrets);
        if (!v.ok) return sendError(reply, v.status, v.code, v.message);
        let data: unknown;
        try {
          data = JSON.parse(v.raw.toString('utf8'));
        } catch (err) {
          return sendError(reply, 400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`);
        }
        if (exceedsDepth(data)) return sendError(reply, 400, 'json_too_deep', jsonTooDeepError().message);
        const body = parseOr400(WebhookBodySchema, data, reply, 'invalid_body', 'invalid webhook body');
        if (!body) return reply;
        if (v.deliveryId !== undefined) {
          if (body.deliveryId !== undefined && body.deliveryId !== v.deliveryId)
            return sendError(
              reply,
              400,
              'delivery_id_mismatch',
              "the body's deliveryId differs from the signed webhook-id (leave it out: webhook-id is the delivery id)",
            );
          body.deliveryId = v.deliveryId;
        }
        const result = await deps.ingest.submit(webhookItem(v.source, body));
        if (!result.duplicate) deps.onAccepted();
        return reply.code(result.duplicate ? 200 : 202).send(result);
      },
    );
  });
}
