import { CronExpressionParser } from 'cron-parser';

/** A recurrent process's schedule: `every 15m` (s, m, h, d) or a cron expression, evaluated in UTC. */
export type Schedule = { kind: 'interval'; ms: number; text: string } | { kind: 'cron'; text: string };

/** `notBefore`: a time of day (`03:00`, UTC, every day) or one absolute timestamp. */
export type NotBefore =
  { kind: 'time'; minuteOfDay: number; text: string } | { kind: 'at'; at: Date; text: string };

export class ScheduleError extends Error {}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSchedule(text: string): Schedule {
  const t = text.trim();
  const every = /^every\s+(\d{1,6})\s*(s|m|h|d)$/i.exec(t);
  if (every) {
    const ms = Number(every[1]) * UNIT_MS[every[2].toLowerCase()];
    if (ms < 1000) throw new ScheduleError(`schedule "${text}": the interval must be at least 1s`);
    return { kind: 'interval', ms, text: t };
  }
  try {
    CronExpressionParser.parse(t, { tz: 'UTC', strict: false });
  } catch (err) {
    throw new ScheduleError(
      `schedule "${text}" is neither "every <n><s|m|h|d>" nor a cron expression: ${(err as Error).message}`,
    );
  }
  return { kind: 'cron', text: t };
}

/** The first due time strictly after `after` (an interval counts from `after` itself). */
export function nextDue(s: Schedule, after: Date): Date {
  if (s.kind === 'interval') return new Date(after.getTime() + s.ms);
  return CronExpressionParser.parse(s.text, { tz: 'UTC', currentDate: after }).next().toDate();
}

/** When a freshly registered recurrent process is first due: an interval at once, a cron at its next fire. */
export function firstDue(s: Schedule, now: Date): Date {
  return s.kind === 'interval' ? now : nextDue(s, now);
}

export function parseNotBefore(text: string): NotBefore {
  const t = text.trim();
  const hm = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(t);
  if (hm) return { kind: 'time', minuteOfDay: Number(hm[1]) * 60 + Number(hm[2]), text: t };
  // A timestamp must say its zone, so "not before" never depends on the server's locale.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
    const at = new Date(t);
    if (!Number.isNaN(at.getTime())) return { kind: 'at', at, text: t };
  }
  throw new ScheduleError(
    `notBefore "${text}" must be a time of day HH:MM (UTC) or an ISO timestamp with a zone, e.g. 2026-01-31T03:00:00Z`,
  );
}

/** Whether `now` is at or past the gate (a time of day gates every day from 00:00 until then). */
export function notBeforePassed(nb: NotBefore, now: Date): boolean {
  if (nb.kind === 'at') return now.getTime() >= nb.at.getTime();
  return now.getUTCHours() * 60 + now.getUTCMinutes() >= nb.minuteOfDay;
}
