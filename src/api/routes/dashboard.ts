import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { packageFile } from '../../lib/package-root';
import { schemas } from '../validate';

const PAGE = packageFile('src/api/dashboard/index.html');

/**
 * The operator's page: one static file, no build step. The page itself holds no data (so it needs no
 * key to load); it asks for the API key, keeps it in sessionStorage and sends it as a bearer header
 * on every data call, which the API checks like any other.
 */
export function dashboardRoutes(app: FastifyInstance) {
  const html = readFileSync(PAGE, 'utf8');
  app.get(
    '/',
    schemas({ summary: 'Operator dashboard (HTML)', tags: ['operate'], auth: false }),
    async (_req, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header(
          'content-security-policy',
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        )
        .header('x-content-type-options', 'nosniff')
        .send(html),
  );
}
