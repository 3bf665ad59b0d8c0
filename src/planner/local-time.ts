import { DateTime, IANAZone } from 'luxon';

/**
 * Local wall-clock arithmetic in IANA time zones (luxon does the zone rules). One rule for every local
 * time the planner reads, RFC 5545's (cron-parser's too): a local time the clocks skip (spring forward)
 * is read with the offset in force before the change, so 02:30 on the day Paris skips 02:00-03:00 is
 * 03:30 CEST; a local time that happens twice (fall back) is its first occurrence (01:30 EDT, not EST).
 */

const MINUTE = 60_000;
const DAY_MS = 86_400_000;

const zones = new Map<string, IANAZone>();
function zoneOf(name: string): IANAZone {
  let z = zones.get(name);
  if (!z) zones.set(name, (z = IANAZone.create(name)));
  return z;
}

// Zone offsets change only at whole minutes: one lookup per zone and minute serves a whole pass.
const offsets = new Map<string, number>();

/** The wall clock of `zone` at `t`, as ms since the epoch read as if it were UTC. */
export function wallMs(t: number, zone: string): number {
  if (zone === 'UTC') return t;
  const key = `${zone}|${Math.floor(t / MINUTE)}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    if (offsets.size > 10_000) offsets.clear();
    offsets.set(key, (offset = zoneOf(zone).offset(t)));
  }
  return t + offset * MINUTE;
}

// Resolving a wall time is the one costly call here; passes ask for the same few again and again.
const resolved = new Map<string, number>();

/** The instant at which `zone`'s wall clock reads `wall` (ms as from wallMs), by the rule above. */
export function fromWall(wall: number, zone: string): number {
  if (zone === 'UTC') return wall;
  const key = `${zone}|${wall}`;
  let t = resolved.get(key);
  if (t === undefined) {
    const w = new Date(wall);
    const local = DateTime.fromObject(
      {
        year: w.getUTCFullYear(),
        month: w.getUTCMonth() + 1,
        day: w.getUTCDate(),
        hour: w.getUTCHours(),
        minute: w.getUTCMinutes(),
        second: w.getUTCSeconds(),
        millisecond: w.getUTCMilliseconds(),
      },
      { zone },
    );
    // luxon picks the later of two occurrences; the rule wants the first.
    t = Math.min(...local.getPossibleOffsets().map((d) => d.toMillis()));
    if (resolved.size > 10_000) resolved.clear();
    resolved.set(key, t);
  }
  return t;
}

/** When a daily `HH:MM` (minute of day) falls on the local day that holds `t`. */
export function dailyAt(minuteOfDay: number, t: number, zone: string): number {
  const day = Math.floor(wallMs(t, zone) / DAY_MS) * DAY_MS;
  return fromWall(day + minuteOfDay * MINUTE, zone);
}

/**
 * When a window of `minutes` opened at `from` closes: after that much elapsed time, or when the local
 * clock has moved on by that much, whichever comes first (a 24 h window closes at the same local time
 * on the 23-hour spring-forward day, and no window is held an extra hour by a fall-back).
 */
export function windowEnd(from: number, minutes: number, zone: string): number {
  const elapsed = from + minutes * MINUTE;
  return Math.min(elapsed, fromWall(wallMs(from, zone) + minutes * MINUTE, zone));
}

/** `HH:MM` of `t` on `zone`'s clock, with the zone named unless it is UTC (for decision reasons). */
export function formatLocal(t: number, zone: string): string {
  const w = new Date(wallMs(t, zone));
  const hm = `${String(w.getUTCHours()).padStart(2, '0')}:${String(w.getUTCMinutes()).padStart(2, '0')}`;
  return zone === 'UTC' ? hm : `${hm} ${zone}`;
}
