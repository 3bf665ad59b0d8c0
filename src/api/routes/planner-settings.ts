import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { readSettings, updateSettings } from '../../planner/settings';
import { SettingsPatchSchema, SettingsViewSchema } from '../../planner/settings-schema';
import { parseOr400, schemas } from '../validate';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export function plannerSettingsRoutes(app: FastifyInstance, deps: { pool: Pool; planner: { wake(): void } }) {
  app.get(
    '/v1/planner/settings',
    schemas({
      summary:
        'The planner settings every instance plans with: slot limit, reservation horizon, default run time',
      tags: ['planner'],
      response: { 200: SettingsViewSchema },
    }),
    async () => readSettings(deps.pool),
  );

  app.put(
    '/v1/planner/settings',
    schemas({
      summary:
        'Change planner settings (fields left out keep their value); every instance applies them at its next pass',
      tags: ['planner'],
      body: SettingsPatchSchema,
      response: { 200: SettingsViewSchema, 400: ErrorBody },
    }),
    async (req, reply) => {
      const body = parseOr400(
        SettingsPatchSchema,
        req.body ?? {},
        reply,
        'invalid_body',
        'invalid planner settings',
      );
      if (!body) return reply;
      const out = await updateSettings(deps.pool, body, 'api');
      deps.planner.wake();
      return out;
    },
  );
}
