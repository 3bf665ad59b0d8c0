import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { GroupCommitter } from '../../capture/group-commit';
import { webhookItem, WebhookBodySchema } from '../../capture/webhook';
import { NameSchema } from '../../config/route-schema';
import { verify } from '../../lib/signature';
import { ErrorBody, sendError } from '../errors';
import { exceedsDepth, jsonTooDeepError } from '../json-depth';
import { countAfterVerification } from '../rate-limit';
import { parseOr400, schemas } from '../validate';

export const SIGNATURE_HEADER = 'x-sluice-signature';

const Params = z.object({ source: NameSchema });
const Accepted = z.object({ ticket: z.string().uuid(), accepted: z.number().int(), duplicate: z.boolean() });

export interface WebhookDeps {
  /** The group commit every push and webhook goes through. */
  ingest: GroupCommitter;
  /** source -> secret */
  webhookSecrets: Record<string, string>;
  /** Largest accepted body, bytes. */
  webhookBodyLimit: number;
  onAccepted(): void;
}

/** What the signature check found: the verified source and its raw body, or the refusal to send. */
type Verdict =
  { ok: true; source: string; raw: Buffer } | { ok: false; status: number; code: string; message: string };

const REASONS = {
  malformed: `missing or malformed ${SIGNATURE_HEADER} header (t=<unix seconds>,v1=<hex>)`,
  stale: 'signature timestamp is outside the 5 minute tolerance',
  mismatch: 'signature does not match the body',
};

function check(req: FastifyRequest, secrets: Record<string, string>): Verdict {
  const source = (req.params as { source: string }).source;
  const secret =
    Params.safeParse({ source }).success && Object.hasOwn(secrets, source) ? secrets[source] : undefined;
  if (secret === undefined)
    return {
      ok: false,
      status: 404,
      code: 'unknown_source',
      message: `no webhook source "${source.slice(0, 64)}"`,
    };
  const raw = req.body;
  if (!Buffer.isBuffer(raw))
    return { ok: false, status: 400, code: 'invalid_json', message: 'body must be JSON' };
  const header = req.headers[SIGNATURE_HEADER];
  const result = verify(secret, raw, typeof header === 'string' ? header : undefined);
  if (!result.ok)
    return { ok: false, status: 401, code: 'invalid_signature', message: REASONS[result.reason] };
  return { ok: true, source, raw };
}

/**
 * `POST /v1/webhooks/:source`, authenticated by its HMAC signature, not by an API key. The JSON parser
 * of this scope keeps the raw bytes: the signature is over exactly what was sent. The signature is
 * checked first (preValidation), then the rate limit counts (preHandler): a verified request against
 * its source, anything else against the client address, so a flood of unsigned requests cannot use up
 * the real sender's budget.
 */
export function webhookRoutes(app: FastifyInstance, deps: WebhookDeps) {
  const verdicts = new WeakMap<FastifyRequest, Verdict>();
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
            tags: ['capture'],
            auth: false,
            params: Params,
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
        const result = await deps.ingest.submit(webhookItem(v.source, body));
        if (!result.duplicate) deps.onAccepted();
        return reply.code(result.duplicate ? 200 : 202).send(result);
      },
    );
  });
}
