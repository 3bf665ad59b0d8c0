import type { Pool } from 'pg';
import { z } from 'zod';

/** What a handler gets for one run. */
export interface RunContext {
  runId: string;
  process: string;
  params: Record<string, unknown>;
  pool: Pool;
  /** Aborted when the service stops: finish the current step and return (or throw). */
  signal: AbortSignal;
  /** Progress shown in runs, status and the dashboard; written with the run's heartbeat. */
  progress(p: Record<string, unknown>): void;
  log: {
    info(o: object, m: string): void;
    warn(o: object, m: string): void;
    error(o: object, m: string): void;
  };
}

export interface Handler {
  /** Validates a process's `params` when it is registered, so a bad one is a 400, not a failed run at 03:00. */
  params: z.ZodType;
  /** Resolves when the run succeeded; a throw fails the run with the error's message. */
  run(ctx: RunContext): Promise<void>;
  description?: string;
}

// One registry per process, whichever copy of this module a handler file imports (the compiled dist/ the
// CLI runs, or the TypeScript source a handler written against the repository imports).
const registry = globalThis as typeof globalThis & { [k: symbol]: Map<string, Handler> | undefined };
const handlers = (registry[Symbol.for('sluice.handlers')] ??= new Map<string, Handler>());

/**
 * Registers user code under a name processes can use as their `handler`. Call it before the service
 * starts (or from a module listed in SLUICE_HANDLERS). Registering a name again replaces it.
 */
export function registerHandler(name: string, handler: Handler | Handler['run']): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(name))
    throw new Error(`handler name "${name}" must be 1-64 chars of letters, digits, "_.:-"`);
  handlers.set(
    name,
    typeof handler === 'function' ? { params: z.record(z.string(), z.unknown()), run: handler } : handler,
  );
}

export function getHandler(name: string): Handler | undefined {
  return handlers.get(name);
}

export function handlerNames(): string[] {
  return [...handlers.keys()].sort();
}
