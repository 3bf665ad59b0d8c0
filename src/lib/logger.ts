import pino, { type Logger } from 'pino';

/** JSON logs; secrets are redacted wherever they might appear. */
export function createLogger(level: string, name = 'sluice'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-sluice-signature"]',
        '*.secret',
        '*.apiKey',
        '*.password',
        'options.secret',
        'options.auth',
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
