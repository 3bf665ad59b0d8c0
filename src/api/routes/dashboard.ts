import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { packageFile } from '../../lib/package-root';
import { schemas } from '../validate';

const asset = (name: string) => readFileSync(packageFile(`src/api/dashboard/${name}`), 'utf8');

// No inline script or style anywhere: the page, its script and its stylesheet are files of this origin.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The operator's page: three static files (page, script, stylesheet), no build step. The page itself holds no data (so it needs no
 * key to load); it asks for the API key, keeps it in sessionStorage and sends it as a bearer header
 * on every data call, which the API checks like any other.
 */
export function dashboardRoutes(app: FastifyInstance) {
  const files = [
    { url: '/', name: 'index.html', type: 'text/html; charset=utf-8', summary: 'Operator dashboard (HTML)' },
    {
      url: '/dashboard.js',
      name: 'dashboard.js',
      type: 'text/javascript; charset=utf-8',
      summary: "The dashboard's script",
    },
    {
      url: '/dashboard.css',
      name: 'dashboard.css',
      type: 'text/css; charset=utf-8',
      summary: "The dashboard's stylesheet",
    },
  ];
  for (const f of files) {
    const body = asset(f.name);
    app.get(f.url, schemas({ summary: f.summary, tags: ['operate'], auth: false }), async (_req, reply) =>
      reply
        .type(f.type)
        .header('cache-control', 'no-store')
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .send(body),
    );
  }
}
