import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { acceptWebhook, WebhookBodySchema } from '../../capture/webhook';
import { NameSchema } from '../../config/route-schema';
import { verify } from '../../lib/signature';
import { sendError } from '../errors';
import { parseOr400, schemas } from '../validate';

export const SIGNATURE_HEADER = 'x-sluice-signature';

const Params = z.object({ source: NameSchema });
const Accepted = z.object({ ticket: z.string().uuid(), accepted: z.number().int(), duplicate: z.boolean() });

export interface WebhookDeps {
  pool: Pool;
  /** source -> secret */
  webhookSecrets: Record<string, string>;
  /** Largest accepted body, bytes. */
  webhookBodyLimit: number;
  onAccepted(): void;
}

/**
 * `POST /v1/webhooks/:source`, authenticated by its HMAC signature, not by an API key. The JSON parser
 * of this scope keeps the raw bytes: the signature is over exactly what was sent.
 */
export function webhookRoutes(app: FastifyInstance, deps: WebhookDeps) {
  app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(
      '/v1/webhooks/:source',
      {
        bodyLimit: deps.webhookBodyLimit,
        ...schemas({
          summary: 'Signed webhook: changes from an external source',
          tags: ['capture'],
          auth: false,
          params: Params,
          body: WebhookBodySchema,
          response: { 202: Accepted, 200: Accepted },
        }),
      },
      async (req, reply) => {
        const source = (req.params as { source: string }).source;
        const secret = Params.safeParse({ source }).success
          ? Object.hasOwn(deps.webhookSecrets, source)
            ? deps.webhookSecrets[source]
            : undefined
          : undefined;
        if (secret === undefined)
          return sendError(reply, 404, 'unknown_source', `no webhook source "${source.slice(0, 64)}"`);
        const raw = req.body;
        if (!Buffer.isBuffer(raw)) return sendError(reply, 400, 'invalid_json', 'body must be JSON');
        const header = req.headers[SIGNATURE_HEADER];
        const check = verify(secret, raw, typeof header === 'string' ? header : undefined);
        if (!check.ok) {
          const why = {
            malformed: `missing or malformed ${SIGNATURE_HEADER} header (t=<unix seconds>,v1=<hex>)`,
            stale: 'signature timestamp is outside the 5 minute tolerance',
            mismatch: 'signature does not match the body',
          }[check.reason];
          return sendError(reply, 401, 'invalid_signature', why);
        }
        let data: unknown;
        try {
          data = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          return sendError(reply, 400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`);
        }
        const body = parseOr400(WebhookBodySchema, data, reply, 'invalid_body', 'invalid webhook body');
        if (!body) return reply;
        const result = await acceptWebhook(deps.pool, source, body);
        if (!result.duplicate) deps.onAccepted();
        return reply.code(result.duplicate ? 200 : 202).send(result);
      },
    );
  });
}
