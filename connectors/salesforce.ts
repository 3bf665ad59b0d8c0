import { z } from 'zod';
import { excerpt } from '../src/callout/classify';
import { authHeaders, AuthSchema } from './auth';
import { mapFields, PathSchema } from './template';
import type { Connector, DeliveryEvent, Outcome } from './types';

/** The most records one sObject Collections request takes. */
export const COLLECTION_LIMIT = 200;

/** Per-record error codes that are the org's momentary trouble, worth another try. */
const RETRIABLE_CODES = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'REQUEST_LIMIT_EXCEEDED',
  'TXN_SECURITY_METERING_ERROR',
  'ALL_OR_NONE_OPERATION_ROLLED_BACK',
]);

const FieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be a Salesforce API name');

const Options = z
  .object({
    /** e.g. https://acme.my.salesforce.com */
    instanceUrl: z.url().transform((u) => u.replace(/\/+$/, '')),
    apiVersion: z
      .string()
      .regex(/^v\d{2,3}\.\d$/, 'must look like v60.0')
      .default('v60.0'),
    /** The sObject type; default: the event's entity. */
    sObject: FieldName.optional(),
    /** External ID field the record id is written to; upserts match on it. */
    externalIdField: FieldName,
    /** Field mapping { "<sObject field>": "<event path>" }; default: the payload's top-level fields. */
    fields: z.record(FieldName, PathSchema).optional(),
    /** Soft delete: deletes become upserts setting this checkbox to true. Absent: deletes use recordId as the Salesforce Id. */
    deletedField: FieldName.optional(),
    auth: AuthSchema.optional(),
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();
type Options = z.infer<typeof Options>;

const sObjectOf = (e: DeliveryEvent, o: Options) => o.sObject ?? e.entity;
const hardDelete = (e: DeliveryEvent, o: Options) => e.op === 'delete' && !o.deletedField;

function record(e: DeliveryEvent, o: Options): Record<string, unknown> {
  const fields = o.fields
    ? mapFields(e, o.fields)
    : e.payload && typeof e.payload === 'object' && !Array.isArray(e.payload)
      ? { ...(e.payload as Record<string, unknown>) }
      : {};
  if (e.op === 'delete' && o.deletedField) fields[o.deletedField] = true;
  return { attributes: { type: sObjectOf(e, o) }, ...fields, [o.externalIdField]: e.recordId };
}

/**
 * Salesforce-style sObject Collections: up to 200 records per request (upsert by external ID, or delete),
 * `allOrNone: false`, and the per-record results read back so one bad record fails alone.
 */
export const salesforce: Connector<Options> = {
  name: 'salesforce',
  optionsSchema: Options,
  maxBatch: COLLECTION_LIMIT,
  groupKey: (e, o) => `${hardDelete(e, o) ? 'delete' : 'upsert'}:${sObjectOf(e, o)}`,
  buildRequest(events, o) {
    const base = `${o.instanceUrl}/services/data/${o.apiVersion}/composite/sobjects`;
    const headers: Record<string, string> = { ...o.headers, ...authHeaders(o.auth) };
    if (hardDelete(events[0], o)) {
      const ids = events.map((e) => encodeURIComponent(e.recordId)).join(',');
      return { method: 'DELETE', url: `${base}?ids=${ids}&allOrNone=false`, headers };
    }
    headers['content-type'] = 'application/json';
    const sObject = encodeURIComponent(sObjectOf(events[0], o));
    return {
      method: 'PATCH',
      url: `${base}/${sObject}/${o.externalIdField}`,
      headers,
      data: JSON.stringify({ allOrNone: false, records: events.map((e) => record(e, o)) }),
    };
  },
  readResponse(events, res) {
    const results = res.data as unknown;
    if (!Array.isArray(results) || results.length !== events.length) {
      // Unknown which records were written; upserts and deletes are safe to repeat.
      const error = `unreadable composite response (expected ${events.length} results)`;
      return events.map(() => ({
        kind: 'retriable',
        status: res.status,
        error,
        response: excerpt(res.data),
      }));
    }
    return results.map((r: SaveResult): Outcome => {
      if (r?.success) return { kind: 'success', status: res.status };
      const errors = Array.isArray(r?.errors) ? r.errors : [];
      const error = errors.map((x) => `${x.statusCode}: ${x.message}`).join('; ') || 'record failed';
      const retriable = errors.length > 0 && errors.every((x) => RETRIABLE_CODES.has(x.statusCode));
      return { kind: retriable ? 'retriable' : 'permanent', status: res.status, error, response: excerpt(r) };
    });
  },
};

interface SaveResult {
  id?: string;
  success?: boolean;
  errors?: Array<{ statusCode: string; message: string; fields?: string[] }>;
}
