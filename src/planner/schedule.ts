import { CronExpressionParser } from 'cron-parser';
import { dailyAt, fromWall } from './local-time';

/**
 * A recurrent process's schedule: `every 15m` (s, m, h, d: elapsed time, zone-free), `every day at HH:MM`
 * or a cron expression, both on the process's local clock (`expr` is the cron form cron-parser evaluates).
 */
export type Schedule =
  { kind: 'interval'; ms: number; text: string } | { kind: 'cron'; expr: string; text: string };

/**
 * `notBefore`: a time of day (`03:00`, every day, local), a local date-time without offset (once, local),
 * or a timestamp with its offset (once, absolute).
 */
export type NotBefore =
  | { kind: 'time'; minuteOfDay: number; text: string }
  | { kind: 'local'; wall: number; text: string }
  | { kind: 'at'; at: Date; text: string };

export class ScheduleError extends Error {}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const HH_MM = '([01]\\d|2[0-3]):([0-5]\\d)';

export function parseSchedule(text: string): Schedule {
  const t = text.trim();
  const every = /^every\s+(\d{1,6})\s*(s|m|h|d)$/i.exec(t);
  if (every) {
    const ms = Number(every[1]) * UNIT_MS[every[2].toLowerCase()];
    if (ms < 1000) throw new ScheduleError(`schedule "${text}": the interval must be at least 1s`);
    return { kind: 'interval', ms, text: t };
  }
  const daily = new RegExp(`^every\\s+day\\s+at\\s+${HH_MM}$`, 'i').exec(t);
  if (daily) return { kind: 'cron', expr: `${Number(daily[2])} ${Number(daily[1])} * * *`, text: t };
  try {
    CronExpressionParser.parse(t, { tz: 'UTC', strict: false });
  } catch (err) {
    throw new ScheduleError(
      `schedule "${text}" is neither "every <n><s|m|h|d>", "every day at HH:MM" nor a cron expression: ${(err as Error).message}`,
    );
  }
  return { kind: 'cron', expr: t, text: t };
}

/** The first due time strictly after `after` (an interval counts from `after` itself), on `zone`'s clock. */
export function nextDue(s: Schedule, after: Date, zone: string): Date {
  if (s.kind === 'interval') return new Date(after.getTime() + s.ms);
  return CronExpressionParser.parse(s.expr, { tz: zone, currentDate: after }).next().toDate();
}

/** When a freshly registered recurrent process is first due: an interval at once, a cron at its next fire. */
export function firstDue(s: Schedule, now: Date, zone: string): Date {
  return s.kind === 'interval' ? now : nextDue(s, now, zone);
}

export function parseNotBefore(text: string): NotBefore {
  const t = text.trim();
  const hm = new RegExp(`^${HH_MM}$`).exec(t);
  if (hm) return { kind: 'time', minuteOfDay: Number(hm[1]) * 60 + Number(hm[2]), text: t };
  const stamp = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(t);
  if (stamp) {
    // Without an offset the date-time is read on the process's clock; `Z` appended reads its fields.
    const at = new Date(stamp[8] ? t : `${t}Z`);
    const [y, mo, d, h, mi] = stamp.slice(1, 6).map(Number);
    // Date would roll 02-30 over into March: the fields must name a real day and time.
    const real = new Date(Date.UTC(y, mo - 1, d, h, mi));
    const exact =
      real.getUTCMonth() === mo - 1 &&
      real.getUTCDate() === d &&
      real.getUTCHours() === h &&
      real.getUTCMinutes() === mi;
    if (!Number.isNaN(at.getTime()) && exact)
      return stamp[8] ? { kind: 'at', at, text: t } : { kind: 'local', wall: at.getTime(), text: t };
  }
  throw new ScheduleError(
    `notBefore "${text}" must be a time of day HH:MM or an ISO date-time (local to the process's time zone, or with an offset), e.g. 03:00, 2026-01-31T03:00 or 2026-01-31T03:00:00Z`,
  );
}

/**
 * When the gate is open from, for the local day of `now`: a time of day opens at that time each day
 * and stays open until local midnight (through a repeated fall-back hour too).
 */
export function notBeforeOpensAt(nb: NotBefore, now: Date, zone: string): number {
  if (nb.kind === 'at') return nb.at.getTime();
  if (nb.kind === 'local') return fromWall(nb.wall, zone);
  return dailyAt(nb.minuteOfDay, now.getTime(), zone);
}

/** Whether `now` is at or past the gate. */
export function notBeforePassed(nb: NotBefore, now: Date, zone: string): boolean {
  return now.getTime() >= notBeforeOpensAt(nb, now, zone);
}

/** The first instant at or after `t` at which the gate is open. */
export function notBeforeOpenFrom(nb: NotBefore, t: number, zone: string): number {
  return Math.max(t, notBeforeOpensAt(nb, new Date(t), zone));
}
