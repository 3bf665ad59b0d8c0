import type { FastifyInstance } from 'fastify';
import { schemas } from '../validate';

/** The OpenAPI 3 document, generated from the routes' own zod schemas. */
export function docsRoutes(app: FastifyInstance, deps: { openApi(): unknown }) {
  app.get(
    '/docs',
    schemas({ summary: 'This API as an OpenAPI 3 document', tags: ['operate'], publicAs: 'docs' }),
    async () => deps.openApi(),
  );
}
