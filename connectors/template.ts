import { z } from 'zod';
import type { DeliveryEvent } from './types';

/** Event fields a template or body mapping may name; `payload.a.b` reaches into the payload. */
const ROOTS = ['eventId', 'entity', 'recordId', 'op', 'source', 'occurredAt', 'payload'] as const;

const PLACEHOLDER = /\{([^{}]+)\}/g;

function isKnownPath(path: string): boolean {
  const [root, ...rest] = path.split('.');
  if (!(ROOTS as readonly string[]).includes(root)) return false;
  return rest.length === 0 || (root === 'payload' && rest.every((p) => p.length > 0));
}

/** The value at `path` ("recordId", "payload.address.city") of an event; undefined when absent. */
export function valueAt(event: DeliveryEvent, path: string): unknown {
  const [root, ...rest] = path.split('.');
  let v: unknown = (event as unknown as Record<string, unknown>)[root];
  for (const key of rest) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** A string with `{field}` placeholders, checked once at start-up so a typo fails there, not per event. */
export const TemplateSchema = z.string().superRefine((s, ctx) => {
  for (const [, name] of s.matchAll(PLACEHOLDER)) {
    if (!isKnownPath(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder {${name}} (use ${ROOTS.map((r) => `{${r}}`).join(', ')} or {payload.<field>})`,
      });
    }
  }
});

/** A field path of the event (body mappings): "recordId", "payload.name"... */
export const PathSchema = z
  .string()
  .refine(isKnownPath, { message: `must be one of ${ROOTS.join(', ')} or payload.<field>` });

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Fills a template; `encode` URL-encodes each value (for URLs). */
export function render(template: string, event: DeliveryEvent, encode = false): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const v = text(valueAt(event, name));
    return encode ? encodeURIComponent(v) : v;
  });
}

/** `{ target: "path" }` -> `{ target: value }`; absent values are left out. */
export function mapFields(event: DeliveryEvent, mapping: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [target, path] of Object.entries(mapping)) {
    const v = valueAt(event, path);
    if (v !== undefined) out[target] = v;
  }
  return out;
}

/** The event as Sluice sends it when no mapping is given (webhook and rest bodies). */
export function envelope(e: DeliveryEvent): Record<string, unknown> {
  return {
    eventId: e.eventId,
    entity: e.entity,
    recordId: e.recordId,
    op: e.op,
    source: e.source,
    occurredAt: e.occurredAt,
    payload: e.payload ?? null,
    attempt: e.attempts,
    merged: e.mergedCount,
  };
}
