import type { DeliveryWindow } from '../config/route-schema';
import { fromWall, wallMs } from '../planner/local-time';

/**
 * Delivery-window math, pure: is a window open at an instant, and when does it next open. A window is
 * open while the local wall clock reads inside a range, so a range starting at a time the clocks skip
 * (02:30 on Paris' spring-forward day) opens when they skip it (03:00 CEST), and one lying wholly in the
 * skipped hour does not open that day; on a fall-back day a range lasts its wall-clock length plus the hour.
 */

const MINUTE = 60_000;
const DAY_MS = 86_400_000;
// Date.getUTCDay() order.
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether `w` lets the route be called at `t` (ms since the epoch). */
export function isOpen(w: DeliveryWindow, t: number): boolean {
  const wall = wallMs(t, w.timeZone);
  const day = new Date(wall).getUTCDay();
  const today = DAY_NAMES[day];
  const yesterday = DAY_NAMES[(day + 6) % 7];
  const m = Math.floor((wall % DAY_MS) / MINUTE);
  return w.ranges.some((r) => {
    const from = minutes(r.from);
    const to = minutes(r.to);
    const days = r.days as readonly string[];
    if (from < to) return days.includes(today) && m >= from && m < to;
    // Overnight: from `from` on a listed day until `to` the next morning.
    return (days.includes(today) && m >= from) || (days.includes(yesterday) && m < to);
  });
}

/** The next instant after `t` at which `w` opens, or null when it is open at `t`. */
export function nextOpen(w: DeliveryWindow, t: number): number | null {
  if (isOpen(w, t)) return null;
  const today = Math.floor(wallMs(t, w.timeZone) / DAY_MS) * DAY_MS;
  let best: number | null = null;
  for (let d = 0; d <= 8; d++) {
    const dayWall = today + d * DAY_MS;
    const name = DAY_NAMES[new Date(dayWall).getUTCDay()];
    for (const r of w.ranges) {
      if (!(r.days as readonly string[]).includes(name)) continue;
      let start = fromWall(dayWall + minutes(r.from) * MINUTE, w.timeZone);
      // A range that lies wholly in a skipped hour never opens that day.
      if (start <= t || !isOpen(w, start)) continue;
      // A start the clocks skipped: the window opened at the jump, up to an hour earlier.
      while (start - MINUTE > t && isOpen(w, start - MINUTE)) start -= MINUTE;
      if (best === null || start < best) best = start;
    }
    if (best !== null) return best;
  }
  return best;
}
