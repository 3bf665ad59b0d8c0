import { describe, expect, it } from 'vitest';
import { WindowSchema, type DeliveryWindow } from '../../src/config/route-schema';
import { isOpen, nextOpen } from '../../src/routes/window';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const paris = (ranges: DeliveryWindow['ranges']): DeliveryWindow => ({ timeZone: 'Europe/Paris', ranges });

describe('delivery window math', () => {
  const erp = paris([{ days: ['mon', 'tue'], from: '01:00', to: '05:00' }]);

  it('is open inside a listed day and range (Paris local time), closed outside it', () => {
    // Monday 2026-11-30: Paris is UTC+1.
    expect(isOpen(erp, at('2026-11-30T00:00:00Z'))).toBe(true); // 01:00 local, the first minute
    expect(isOpen(erp, at('2026-11-30T03:59:00Z'))).toBe(true); // 04:59 local
    expect(isOpen(erp, at('2026-11-30T04:00:00Z'))).toBe(false); // 05:00 local: `to` is exclusive
    expect(isOpen(erp, at('2026-11-29T23:59:00Z'))).toBe(false); // 00:59 local Monday
    expect(isOpen(erp, at('2026-12-02T01:00:00Z'))).toBe(false); // Wednesday 02:00 local: day not listed
  });

  it('next opening: later the same day, the next listed day, or after the weekend', () => {
    expect(iso(nextOpen(erp, at('2026-11-30T00:30:00Z')))).toBeNull(); // open now
    expect(iso(nextOpen(erp, at('2026-11-30T10:00:00Z')))).toBe('2026-12-01T00:00:00.000Z'); // Tue 01:00
    expect(iso(nextOpen(erp, at('2026-12-01T10:00:00Z')))).toBe('2026-12-07T00:00:00.000Z'); // next Mon
    expect(iso(nextOpen(erp, at('2026-11-29T23:00:00Z')))).toBe('2026-11-30T00:00:00.000Z'); // Mon 00:00 local
  });

  it('an overnight range (to before from) stays open past midnight into the next day', () => {
    const night = paris([{ days: ['fri'], from: '22:00', to: '02:00' }]);
    expect(isOpen(night, at('2026-12-04T21:30:00Z'))).toBe(true); // Fri 22:30
    expect(isOpen(night, at('2026-12-05T00:30:00Z'))).toBe(true); // Sat 01:30
    expect(isOpen(night, at('2026-12-05T01:00:00Z'))).toBe(false); // Sat 02:00
    expect(isOpen(night, at('2026-12-03T23:30:00Z'))).toBe(false); // Fri 00:30: Thursday not listed
  });

  it('spring-forward day (Paris skips 02:00-03:00 on 2026-03-29): a 02:30 start opens at the jump, 03:00 CEST', () => {
    const w = paris([{ days: ['sun'], from: '02:30', to: '06:00' }]);
    // 01:30 CET = 00:30Z; the clocks jump from 02:00 CET to 03:00 CEST at 01:00Z.
    expect(iso(nextOpen(w, at('2026-03-29T00:30:00Z')))).toBe('2026-03-29T01:00:00.000Z');
    expect(isOpen(w, at('2026-03-29T00:59:00Z'))).toBe(false); // 01:59 CET
    expect(isOpen(w, at('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(isOpen(w, at('2026-03-29T04:00:00Z'))).toBe(false); // 06:00 CEST
  });

  it('a range lying wholly in the skipped hour never opens that day; the next week it does', () => {
    const w = paris([{ days: ['sun'], from: '02:00', to: '02:45' }]);
    expect(iso(nextOpen(w, at('2026-03-28T12:00:00Z')))).toBe('2026-04-05T00:00:00.000Z'); // 02:00 CEST
  });

  it('fall-back day (2026-10-25, 02:00-03:00 happens twice): a 01:00-04:00 range lasts four hours', () => {
    const w = paris([{ days: ['sun'], from: '01:00', to: '04:00' }]);
    expect(iso(nextOpen(w, at('2026-10-24T12:00:00Z')))).toBe('2026-10-24T23:00:00.000Z'); // 01:00 CEST
    expect(isOpen(w, at('2026-10-25T02:59:00Z'))).toBe(true); // 03:59 CET
    expect(isOpen(w, at('2026-10-25T03:00:00Z'))).toBe(false); // 04:00 CET
  });

  it('the schema refuses an unknown zone, a bad clock time, an unknown day and an empty range', () => {
    const bad = WindowSchema.safeParse({
      timeZone: 'Mars/Olympus',
      ranges: [{ days: ['mon', 'funday'], from: '25:00', to: '01:00' }],
    });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'timeZone: must be an IANA time zone, e.g. UTC or Europe/Paris',
        'ranges.0.from: must be HH:MM (00:00-24:00)',
      ]),
    );
    expect(messages.some((m) => m.startsWith('ranges.0.days.1'))).toBe(true);
    expect(
      WindowSchema.safeParse({ timeZone: 'UTC', ranges: [{ days: ['mon'], from: '01:00', to: '01:00' }] })
        .success,
    ).toBe(false);
  });
});
