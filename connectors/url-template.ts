import { z } from 'zod';
import { render, TemplateSchema } from './template';
import type { DeliveryEvent } from './types';

/** Scheme and authority, with no placeholder: values may fill the path and query, never the origin. */
const STATIC_ORIGIN = /^https?:\/\/[^/?#{}]+(?=[/?#]|$)/;

/**
 * Segments a URL parser resolves as `.` or `..` (WHATWG counts `%2e` as a dot too, so percent-encoding
 * a dot does not keep it literal: such a value cannot be one path segment at all).
 */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** A URL template (`https://api.example.com/v2/{entity}s/{recordId}?tag={payload.tag}`), checked at start-up. */
export const UrlTemplateSchema = TemplateSchema.pipe(
  z
    .string()
    .regex(/^https?:\/\//, 'must start with http:// or https://')
    .regex(STATIC_ORIGIN, 'placeholders may fill the path and query only, not the scheme, host or port')
    .refine((s) => URL.canParse(s.replace(/\{[^{}]+\}/g, 'x')), 'must be a valid URL once filled'),
);

/** The template's fixed origin and the path every URL it makes must stay under. */
function bounds(template: string): { origin: string; pathPrefix: string; exact: boolean } {
  const fixed = template.split('{')[0];
  const url = new URL(fixed);
  // A placeholder in the query or fragment leaves the whole path fixed; in the path, the part up to its last '/'.
  const exact = /[?#]/.test(fixed.slice(url.origin.length));
  const path = url.pathname;
  return { origin: url.origin, pathPrefix: exact ? path : path.slice(0, path.lastIndexOf('/') + 1), exact };
}

/** Throws unless `url` has no dot segment and stays at `origin`, under `pathPrefix` (or exactly at it). */
export function assertWithin(url: string, origin: string, pathPrefix: string, exact = false): void {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/)[0];
  // A URL parser reads '\\' as '/' in http(s) paths.
  for (const segment of path.split(/[/\\]/))
    if (DOT_SEGMENT.test(segment))
      throw new Error(
        `a template value would be the dot segment "${segment}" in the URL path; refused (it would steer the request to another path)`,
      );
  const parsed = new URL(url);
  const inside = exact ? parsed.pathname === pathPrefix : parsed.pathname.startsWith(pathPrefix);
  if (parsed.origin !== origin || !inside)
    throw new Error(`the URL would leave the route's origin and path prefix ${pathPrefix}; refused`);
}

/**
 * Fills a URL template: every value is percent-encoded whole (so `/`, `?`, `#`, `\` and `%2F` stay
 * inside their one segment), then the result is checked to keep the template's origin and path prefix.
 * A value that would be a dot segment throws: the caller dead-letters the event.
 */
export function renderUrl(template: string, event: DeliveryEvent): string {
  const url = render(template, event, true);
  const b = bounds(template);
  assertWithin(url, b.origin, b.pathPrefix, b.exact);
  return url;
}
