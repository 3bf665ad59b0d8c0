import type { DestinationStream } from 'pino';

export interface LogOutput {
  stream: DestinationStream;
  pretty: boolean;
  /** Resolves once nothing was logged for `quietMs` (at most `maxMs`): start-up lines have all been written. */
  settled(quietMs: number, maxMs: number): Promise<void>;
}

/**
 * Where `sluice start` logs: readable, coloured lines on a terminal (pino-pretty, in this thread so no
 * line is lost at exit), JSON lines otherwise. It notes when it last wrote, so the banner can come last.
 */
export async function logOutput(
  format: 'auto' | 'pretty' | 'json',
  tty = !!process.stdout.isTTY,
): Promise<LogOutput> {
  const pretty = format === 'pretty' || (format === 'auto' && tty);
  let target: { write(line: string): unknown };
  if (pretty) {
    const { default: pinoPretty } = await import('pino-pretty');
    target = pinoPretty({
      colorize: tty,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name',
      singleLine: true,
    });
  } else {
    const { default: pino } = await import('pino');
    target = pino.destination({ dest: 1, sync: true });
  }
  let last = Date.now();
  return {
    pretty,
    stream: {
      write(line: string) {
        last = Date.now();
        target.write(line);
      },
    },
    async settled(quietMs, maxMs) {
      const deadline = Date.now() + maxMs;
      while (Date.now() - last < quietMs && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, Math.max(10, quietMs - (Date.now() - last))));
    },
  };
}
