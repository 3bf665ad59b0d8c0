/**
 * A URL fit to log or show: the password (user info, or a `password=` query parameter as libpq takes)
 * replaced by `***`, read by a URL parser, so a password holding `:` or `@` is masked whole. Text that
 * does not parse as a URL is not shown at all.
 */
export function maskUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return '(unparsable URL, not shown)';
  }
  if (url.password) url.password = '***';
  for (const key of [...url.searchParams.keys()])
    if (/^(password|passwd|pwd|sslpassword)$/i.test(key)) url.searchParams.set(key, '***');
  return url.href;
}
