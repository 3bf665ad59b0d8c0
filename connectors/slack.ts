import { z } from 'zod';
import { render, TemplateSchema } from './template';
import type { Connector } from './types';

/** Events of this entity are Sluice's own alerts: their payload carries the finished message. */
export const ALERT_ENTITY = 'sluice.alert';

const Options = z
  .object({
    /** The incoming-webhook URL Slack gives you (https://hooks.slack.com/services/...). */
    url: z.url(),
    /** Message for data events: {entity}, {recordId}, {op}, {eventId}, {source}, {payload.<field>}. */
    text: TemplateSchema.default('{op} {entity} {recordId}'),
    /** Optional overrides, for webhooks that allow them. */
    username: z.string().min(1).optional(),
    iconEmoji: z
      .string()
      .regex(/^:[a-z0-9_+-]+:$/, 'must look like :rotating_light:')
      .optional(),
  })
  .strict();
type Options = z.infer<typeof Options>;

/** One message per event to a Slack incoming webhook; also how Sluice posts its alerts. */
export const slack: Connector<Options> = {
  name: 'slack',
  optionsSchema: Options,
  buildRequest([e], o) {
    const alert = e.entity === ALERT_ENTITY ? (e.payload as { text?: unknown } | null) : null;
    const text = typeof alert?.text === 'string' ? alert.text : render(o.text, e);
    const body: Record<string, unknown> = { text };
    if (o.username) body.username = o.username;
    if (o.iconEmoji) body.icon_emoji = o.iconEmoji;
    return {
      method: 'POST',
      url: o.url,
      headers: { 'content-type': 'application/json' },
      data: JSON.stringify(body),
    };
  },
};
