import { describe, expect, it } from 'vitest';
import { plan } from '../../src/planner/plan';
import { type PlanInput, type PlanProcess } from '../../src/planner/rank';
import { SlotForecast } from '../../src/planner/reserve';
import { parseNotBefore, parseSchedule } from '../../src/planner/schedule';

const at = (s: string) => new Date(s);
const MIN = 60_000;
const NOW = at('2026-03-10T02:00:00Z');

const single = (name: string, o: Partial<PlanProcess> = {}): PlanProcess => ({
  name,
  handler: 'h',
  kind: 'single',
  schedule: null,
  notBefore: null,
  timeZone: 'UTC',
  dependsOn: [],
  priority: 0,
  refreshWindowMinutes: 0,
  alarmed: false,
  nextDueAt: null,
  lastStartedAt: null,
  lastSucceededAt: null,
  expectedMs: 120 * MIN,
  queued: { runId: `run-${name}`, requestedAt: at('2026-03-10T01:00:00Z'), trigger: 'registered' },
  active: false,
  ...o,
});
/** A recurrent process not yet due: it is upcoming, not a candidate. */
const nightly = (o: Partial<PlanProcess> = {}) =>
  single('nightly', {
    kind: 'recurrent',
    schedule: parseSchedule('0 3 * * *'),
    nextDueAt: at('2026-03-10T03:00:00Z'),
    priority: 100,
    expectedMs: 14 * MIN,
    queued: null,
    ...o,
  });
/** `n` runs holding slots, expected to end at `end`. */
const busy = (n: number, end = '2026-03-10T06:00:00Z') =>
  Array.from({ length: n }, (_, i) => ({
    process: `busy${i + 1}`,
    startedAt: NOW,
    expectedMs: at(end).getTime() - NOW.getTime(),
  }));

const input = (o: Partial<PlanInput>): PlanInput => {
  const running = o.running ?? [];
  return {
    now: NOW,
    maxActive: 5,
    freeSlots: 5 - running.length,
    candidates: [],
    succeededAt: new Map(),
    canRun: () => true,
    reservation: { horizonMs: 1440 * MIN, defaultRunMs: 10 * MIN },
    running,
    upcoming: [nightly()],
    ...o,
  };
};
const outcome = (i: PlanInput) =>
  Object.fromEntries(
    plan(i).map((d) => [d.process.name, d.action === 'start' ? 'start' : `${d.action}: ${d.reason}`]),
  );

describe('slot reservation (pure)', () => {
  it('keeps the last free slot for a higher-priority process due within a long run, and gives it away with reservation off', () => {
    const i = input({ running: busy(4), candidates: [single('bulk')] });
    expect(outcome(i)).toEqual({ bulk: 'wait: slot held for nightly due 03:00, expected 14 min' });
    const [d] = plan(i);
    expect(d).toMatchObject({ action: 'wait', alarm: false, heldFor: { name: 'nightly' } });
    expect(outcome({ ...i, reservation: { horizonMs: 0, defaultRunMs: 10 * MIN } })).toEqual({
      bulk: 'start',
    });
    expect(outcome({ ...i, reservation: undefined })).toEqual({ bulk: 'start' });
  });

  it('lets a run expected to end before the due time use the held slot (backfill), even behind a held one', () => {
    const i = input({
      running: busy(4),
      candidates: [single('bulk', { priority: 5 }), single('quick', { expectedMs: 45 * MIN })],
    });
    expect(outcome(i)).toMatchObject({ bulk: expect.stringMatching(/^wait: slot held/), quick: 'start' });
    // A process that never succeeded is expected to take the default (10 min): it fits too.
    expect(outcome(input({ running: busy(4), candidates: [single('new', { expectedMs: null })] }))).toEqual({
      new: 'start',
    });
  });

  it('with nothing due every slot fills; with a slot freeing before the due time nothing is held', () => {
    const six = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => single(n));
    const all = outcome(input({ candidates: six, upcoming: [] }));
    expect(Object.values(all).filter((v) => v === 'start')).toHaveLength(5);
    expect(all.f).toBe('wait: no free slot (5/5 active)');
    // The busy runs are expected to end at 02:30: at 03:00 there is room for nightly anyway.
    const early = outcome(input({ running: busy(4, '2026-03-10T02:30:00Z'), candidates: [single('bulk')] }));
    expect(early).toEqual({ bulk: 'start' });
  });

  it('with several free slots holds only the ones upcoming processes need, each for the process that needs it', () => {
    const longs = ['l1', 'l2', 'l3'].map((n) => single(n));
    const report = nightly({
      name: 'report',
      nextDueAt: at('2026-03-10T03:05:00Z'),
      priority: 50,
      expectedMs: 30 * MIN,
    });
    // Two busy, three free: nightly (03:00) and report (03:05) each need one at their start.
    expect(outcome(input({ running: busy(2), candidates: longs, upcoming: [nightly(), report] }))).toEqual({
      l1: 'start',
      l2: 'wait: slot held for report due 03:05, expected 30 min',
      l3: 'wait: slot held for report due 03:05, expected 30 min',
    });
    // Three busy, two free: both are needed.
    expect(outcome(input({ running: busy(3), candidates: longs, upcoming: [nightly(), report] })).l1).toMatch(
      /^wait: slot held/,
    );
  });

  it('never holds for a process that does not strictly outrank the candidate', () => {
    const cases: [string, Partial<PlanProcess>][] = [
      ['higher priority', { priority: 200 }],
      ['equal priority', { priority: 100 }],
      ['a better group (recurrent due now beats a recurrent upcoming)', { alarmed: true, priority: 0 }],
    ];
    for (const [, o] of cases) {
      const due = single('due', {
        kind: 'recurrent',
        schedule: parseSchedule('every 1h'),
        nextDueAt: NOW,
        queued: null,
        ...o,
      });
      expect(outcome(input({ running: busy(4), candidates: [due] }))).toEqual({ due: 'start' });
    }
    // A single never outranks a recurrent process, whatever its priority.
    const gated = single('gated', { priority: 1000, notBefore: parseNotBefore('03:00') });
    const rec = single('rec', {
      kind: 'recurrent',
      schedule: parseSchedule('every 1h'),
      nextDueAt: NOW,
      queued: null,
    });
    expect(outcome(input({ running: busy(4), candidates: [gated, rec], upcoming: [] }))).toEqual({
      gated: 'wait: not before 03:00',
      rec: 'start',
    });
  });

  it('holds for a queued process gated by notBefore, and not for one waiting on a dependency', () => {
    const gated = single('report', {
      priority: 100,
      notBefore: parseNotBefore('03:00'),
      expectedMs: 5 * MIN,
    });
    expect(outcome(input({ running: busy(4), candidates: [gated, single('bulk')], upcoming: [] }))).toEqual({
      report: 'wait: not before 03:00',
      bulk: 'wait: slot held for report due 03:00, expected 5 min',
    });
    const blocked = nightly({ dependsOn: ['extract'] });
    expect(outcome(input({ running: busy(4), candidates: [single('bulk')], upcoming: [blocked] }))).toEqual({
      bulk: 'start',
    });
  });

  it('holds nothing for a due time the process will skip (its own run still active then)', () => {
    const running = [...busy(3), { process: 'nightly', startedAt: NOW, expectedMs: 90 * MIN }];
    expect(
      outcome(input({ running, candidates: [single('bulk')], upcoming: [nightly({ active: true })] })),
    ).toEqual({ bulk: 'start' });
  });

  it('assumes a run past its p90 holds its slot through the horizon', () => {
    const overdue = busy(4, '2026-03-10T01:00:00Z').map((r) => ({
      ...r,
      startedAt: at('2026-03-10T00:00:00Z'),
    }));
    expect(outcome(input({ running: overdue, candidates: [single('bulk')] }))).toEqual({
      bulk: 'wait: slot held for nightly due 03:00, expected 14 min',
    });
  });

  it('names the due time on the upcoming process clock', () => {
    const paris = nightly({ timeZone: 'Europe/Paris' });
    expect(outcome(input({ running: busy(4), candidates: [single('bulk')], upcoming: [paris] }))).toEqual({
      bulk: 'wait: slot held for nightly due 04:00 Europe/Paris, expected 14 min',
    });
  });
});

describe('SlotForecast', () => {
  const now = NOW.getTime();
  const t = (hhmm: string) => at(`2026-03-10T${hhmm}:00Z`).getTime();
  const up = (name: string, priority: number, start: string, minutes: number) => ({
    name,
    group: 1,
    priority,
    at: t(start),
    expectedMs: minutes * MIN,
    zone: 'UTC',
  });

  const forecast = (maxActive: number, ends: number[], ranked: ReturnType<typeof up>[]) =>
    new SlotForecast(now, maxActive, ends, ranked, (u) => u);

  it('a lower-ranked upcoming process whose run would take a better one slot claims nothing', () => {
    const f = forecast(1, [], [up('a', 10, '03:00', 60), up('b', 5, '02:30', 60)]);
    // Asked in rank order, as the planner walks its candidates.
    expect(f.holdFor(1, 10, 90 * MIN)).toBeNull(); // nothing outranks priority 10
    expect(f.holdFor(1, 7, 90 * MIN)?.name).toBe('a');
    expect(f.holdFor(1, 0, 20 * MIN)).toBeNull(); // ends 02:20; b claimed nothing
    expect(f.holdFor(1, 0, 90 * MIN)?.name).toBe('a');
  });

  it('a start ranked above an upcoming process counts against it; a claim outranking the start keeps its slot', () => {
    // Two slots, one busy through 06:00: b (02:30, 20 min) and a (04:00) each need the other one.
    const ranked = () => [up('a', 10, '04:00', 60), up('b', 5, '02:30', 20)];
    expect(forecast(2, [t('06:00')], ranked()).holdFor(1, 0, 45 * MIN)?.name).toBe('b');
    const f = forecast(2, [t('06:00')], ranked());
    expect(f.holdFor(1, 8, 45 * MIN)).toBeNull(); // only a outranks it, and a starts after it ends
    f.started(45 * MIN);
    // x (priority 8) outranks b and holds the slot at 02:30: b cannot start on time, so nothing is held for it.
    expect(f.holdFor(1, 0, 45 * MIN)).toBeNull();
    expect(f.holdFor(1, 0, 150 * MIN)?.name).toBe('a');
  });
});
