import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { NameSchema } from '../../config/route-schema';
import { SluiceError } from '../../lib/errors';
import {
  ProcessBodySchema,
  ProcessPatchSchema,
  ProcessViewSchema,
  RunSchema,
} from '../../planner/process-schema';
import { REGISTRY_ERRORS, type ProcessRegistry } from '../../planner/registry';
import { listRuns } from '../../planner/runs';
import { ErrorBody, sendError } from '../errors';
import { parseOr400, schemas } from '../validate';

export interface PlannerApiDeps {
  registry: ProcessRegistry;
  /** Plan now on this instance (others hear the registry's NOTIFY). */
  wake(): void;
}

const NameParams = z.object({ name: NameSchema }).strict();
const RunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }).strict();

/** Registry errors as 4xx; anything else goes to the shared error handler. */
async function registryCall<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SluiceError && REGISTRY_ERRORS[err.code]) {
      void sendError(reply, REGISTRY_ERRORS[err.code], err.code, err.message);
      return undefined;
    }
    throw err;
  }
}

export function processRoutes(app: FastifyInstance, deps: { pool: Pool; planner: PlannerApiDeps }) {
  const { registry } = deps.planner;

  app.get(
    '/v1/processes',
    schemas({
      summary: 'The process registry',
      tags: ['planner'],
      response: { 200: z.object({ items: z.array(ProcessViewSchema) }) },
    }),
    async () => ({ items: await registry.list() }),
  );

  app.get(
    '/v1/processes/:name',
    schemas({
      summary: 'One process',
      tags: ['planner'],
      params: NameParams,
      response: { 200: ProcessViewSchema, 404: ErrorBody },
    }),
    async (req, reply) => {
      const params = parseOr400(NameParams, req.params, reply, 'invalid_name', 'invalid process name');
      if (!params) return reply;
      const p = await registryCall(reply, () => registry.get(params.name));
      return p === undefined ? reply : p;
    },
  );

  app.post(
    '/v1/processes',
    schemas({
      summary: 'Create or replace a process (applies on the next planning pass)',
      tags: ['planner'],
      body: ProcessBodySchema,
      response: {
        200: ProcessViewSchema,
        201: ProcessViewSchema,
        400: ErrorBody,
        403: ErrorBody,
        413: ErrorBody,
      },
    }),
    async (req, reply) => {
      const body = parseOr400(
        ProcessBodySchema,
        req.body,
        reply,
        'invalid_body',
        'invalid process definition',
      );
      if (!body) return reply;
      const out = await registryCall(reply, () => registry.upsert(body));
      if (!out) return reply;
      deps.planner.wake();
      return reply.code(out.created ? 201 : 200).send(out.process);
    },
  );

  app.patch(
    '/v1/processes/:name',
    schemas({
      summary: 'Change some fields of a process (hot: applies on the next pass)',
      tags: ['planner'],
      params: NameParams,
      body: ProcessPatchSchema,
      response: { 200: ProcessViewSchema, 400: ErrorBody, 404: ErrorBody },
    }),
    async (req, reply) => {
      const params = parseOr400(NameParams, req.params, reply, 'invalid_name', 'invalid process name');
      if (!params) return reply;
      const body = parseOr400(
        ProcessPatchSchema,
        req.body ?? {},
        reply,
        'invalid_body',
        'invalid process change',
      );
      if (!body) return reply;
      const p = await registryCall(reply, () => registry.patch(params.name, body));
      if (!p) return reply;
      deps.planner.wake();
      return p;
    },
  );

  app.delete(
    '/v1/processes/:name',
    schemas({
      summary: 'Remove a process (its queued runs are cancelled)',
      tags: ['planner'],
      params: NameParams,
    }),
    async (req, reply) => {
      const params = parseOr400(NameParams, req.params, reply, 'invalid_name', 'invalid process name');
      if (!params) return reply;
      const ok = await registryCall(reply, async () => (await registry.remove(params.name), true));
      if (!ok) return reply;
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/processes/:name/run',
    schemas({
      summary: 'Request a run now; answers at once with the run id (it starts when a slot is free)',
      tags: ['planner'],
      params: NameParams,
      response: { 202: z.object({ runId: z.string().uuid() }), 404: ErrorBody, 409: ErrorBody },
    }),
    async (req, reply) => {
      const params = parseOr400(NameParams, req.params, reply, 'invalid_name', 'invalid process name');
      if (!params) return reply;
      const out = await registryCall(reply, () => registry.requestRun(params.name));
      if (!out) return reply;
      deps.planner.wake();
      return reply.code(202).send({ runId: out.runId });
    },
  );

  app.get(
    '/v1/processes/:name/runs',
    schemas({
      summary: 'Runs of a process, newest first',
      tags: ['planner'],
      params: NameParams,
      querystring: RunsQuery,
      response: { 200: z.object({ items: z.array(RunSchema) }), 404: ErrorBody },
    }),
    async (req, reply) => {
      const params = parseOr400(NameParams, req.params, reply, 'invalid_name', 'invalid process name');
      if (!params) return reply;
      const q = parseOr400(RunsQuery, req.query, reply, 'invalid_query', 'invalid query');
      if (!q) return reply;
      const exists = await registryCall(reply, () => registry.get(params.name));
      if (!exists) return reply;
      return { items: await listRuns(deps.pool, { process: params.name, limit: q.limit }) };
    },
  );
}
