import { InvalidArgumentError } from 'commander';
import { NAME_PATTERN } from '../config/names';

// Option parsers shared by the commands: a bad value stops the command with exit 2 and the reason.

/** A route name. */
export const parseRoute = (v: string) => {
  if (!NAME_PATTERN.test(v)) throw new InvalidArgumentError('not a valid route name');
  return v;
};
/** An ISO time or an age (15m, 2h, 3d) -> the time it names. */
export const parseSince = (v: string) => {
  // ISO 8601 times, or a relative "15m" / "2h" / "3d".
  const rel = /^(\d+)([smhd])$/.exec(v);
  if (rel)
    return new Date(Date.now() - Number(rel[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[rel[2] as 's']);
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t))
    throw new InvalidArgumentError('must be an ISO time (2026-01-31T10:00:00Z) or an age like 15m, 2h, 3d');
  return new Date(t);
};
/** 1-1000. */
export const parseLimit = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 1000)
    throw new InvalidArgumentError('must be an integer from 1 to 1000');
  return n;
};
