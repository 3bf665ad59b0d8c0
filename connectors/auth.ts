import { z } from 'zod';

/** How a connector authenticates: a bearer token, HTTP basic, or any single header (API keys). */
export const AuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }).strict(),
  z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }).strict(),
  z
    .object({
      type: z.literal('header'),
      name: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'),
      value: z.string().min(1),
    })
    .strict(),
]);
export type Auth = z.infer<typeof AuthSchema>;

export function authHeaders(auth: Auth | undefined): Record<string, string> {
  if (!auth) return {};
  switch (auth.type) {
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'basic':
      return {
        authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
      };
    case 'header':
      return { [auth.name.toLowerCase()]: auth.value };
  }
}
