import pino, { type DestinationStream, type Logger } from 'pino';

/** JSON logs (stdout unless a destination is given); secrets are redacted wherever they might appear. */
export function createLogger(level: string, name = 'sluice', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-sluice-signature"]',
        'req.headers["webhook-signature"]',
        '*.secret',
        '*.apiKey',
        '*.password',
        '*.headers.authorization',
        'options.secret',
        'options.signing',
        '*.secrets',
        'options.auth',
        'options.headers',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
