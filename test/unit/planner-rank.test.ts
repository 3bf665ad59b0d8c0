import { describe, expect, it } from 'vitest';
import { findCycle } from '../../src/planner/cycle';
import { plan } from '../../src/planner/plan';
import { type PlanInput, type PlanProcess } from '../../src/planner/rank';
import {
  firstDue,
  nextDue,
  notBeforePassed,
  parseNotBefore,
  parseSchedule,
} from '../../src/planner/schedule';
import { parseDuration } from '../../src/lib/duration';

const at = (s: string) => new Date(s);
const proc = (name: string, o: Partial<PlanProcess> = {}): PlanProcess => ({
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
  expectedMs: null,
  queued: { runId: `run-${name}`, requestedAt: at('2026-03-10T00:00:00Z'), trigger: 'registered' },
  active: false,
  ...o,
});
const recurrent = (name: string, o: Partial<PlanProcess> = {}) =>
  proc(name, {
    kind: 'recurrent',
    schedule: parseSchedule('0 3 * * *'),
    nextDueAt: at('2026-03-10T03:00:00Z'),
    queued: null,
    ...o,
  });
const input = (candidates: PlanProcess[], o: Partial<PlanInput> = {}): PlanInput => ({
  now: at('2026-03-10T03:00:00Z'),
  freeSlots: 1,
  maxActive: 5,
  candidates,
  succeededAt: new Map(),
  canRun: () => true,
  ...o,
});
const starts = (i: PlanInput) =>
  plan(i)
    .filter((d) => d.action === 'start')
    .map((d) => d.process.name);

describe('plan (pure ranking)', () => {
  it('ranks alarmed recurrent, then recurrent, then single, each by priority', () => {
    const c = [
      proc('single-top', { priority: 1000 }),
      recurrent('rec-low', { priority: 1 }),
      recurrent('rec-high', { priority: 5 }),
      recurrent('alarmed-low', { priority: -5, alarmed: true }),
    ];
    expect(starts(input(c, { freeSlots: 4 }))).toEqual(['alarmed-low', 'rec-high', 'rec-low', 'single-top']);
    expect(starts(input(c, { freeSlots: 1 }))).toEqual(['alarmed-low']);
  });

  it('raises the alarm of a due recurrent process left without a slot, not of a single one', () => {
    const d = plan(input([recurrent('r'), proc('s')], { freeSlots: 0 }));
    expect(d.map((x) => [x.process.name, x.action, x.action === 'wait' && x.alarm])).toEqual([
      ['r', 'wait', true],
      ['s', 'wait', false],
    ]);
  });

  it('skips a due recurrent process whose previous run is active', () => {
    const [d] = plan(input([recurrent('r', { active: true })]));
    expect(d).toMatchObject({ action: 'skip', dueAt: at('2026-03-10T03:00:00Z') });
  });

  it('is not due before its time; a queued single waits for notBefore and dependencies of this cycle', () => {
    expect(plan(input([recurrent('r')], { now: at('2026-03-10T02:59:59Z') }))).toEqual([]);
    const c = proc('c', {
      dependsOn: ['a', 'b'],
      notBefore: parseNotBefore('04:00'),
      lastStartedAt: at('2026-03-09T04:00:00Z'),
    });
    const succeededAt = new Map([
      ['a', at('2026-03-10T01:00:00Z')],
      ['b', at('2026-03-09T02:00:00Z')], // before c's current cycle began
    ]);
    const [wait] = plan(input([c], { now: at('2026-03-10T05:00:00Z'), succeededAt }));
    expect(wait).toMatchObject({ action: 'wait', reason: 'waiting for b to succeed in this cycle' });
    succeededAt.set('b', at('2026-03-10T02:00:00Z'));
    expect(plan(input([c], { now: at('2026-03-10T03:59:00Z'), succeededAt }))[0]).toMatchObject({
      action: 'wait',
      reason: 'not before 04:00',
    });
    expect(starts(input([c], { now: at('2026-03-10T04:00:00Z'), succeededAt }))).toEqual(['c']);
  });

  it('holds a scheduled rerun within the refresh window, not a manual one', () => {
    const last = at('2026-03-10T02:30:00Z');
    const r = recurrent('r', { refreshWindowMinutes: 60, lastSucceededAt: last });
    expect(plan(input([r]))[0]).toMatchObject({
      action: 'wait',
      reason: 'refreshed 30 min ago (refresh window 60 min)',
    });
    const manual = { ...r, queued: { runId: 'x', requestedAt: last, trigger: 'manual' as const } };
    expect(starts(input([manual]))).toEqual(['r']);
  });

  it('leaves a handler this instance lacks to another instance', () => {
    expect(plan(input([proc('u')], { canRun: () => false }))[0]).toMatchObject({
      action: 'wait',
      reason: 'handler "h" is not registered on this instance',
    });
  });
});

describe('cycles, schedules, durations', () => {
  it('finds a dependency cycle as a path', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', []],
    ]);
    expect(findCycle(g)).toBeNull();
    g.set('c', ['a']);
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['s', ['s']]]))).toEqual(['s', 's']);
  });

  it('parses intervals, cron and notBefore, and refuses nonsense', () => {
    const every = parseSchedule('every 15m');
    expect(firstDue(every, at('2026-03-10T10:00:00Z'), 'UTC')).toEqual(at('2026-03-10T10:00:00Z'));
    expect(nextDue(every, at('2026-03-10T10:00:00Z'), 'UTC')).toEqual(at('2026-03-10T10:15:00Z'));
    const cron = parseSchedule('0 3 * * *');
    expect(firstDue(cron, at('2026-03-10T03:00:00Z'), 'UTC')).toEqual(at('2026-03-11T03:00:00Z'));
    expect(nextDue(cron, at('2026-03-10T02:59:00Z'), 'UTC')).toEqual(at('2026-03-10T03:00:00Z'));
    expect(parseSchedule('every day at 03:05')).toEqual({
      kind: 'cron',
      expr: '5 3 * * *',
      text: 'every day at 03:05',
    });
    expect(() => parseSchedule('sometimes')).toThrow(/neither/);
    expect(() => parseSchedule('every day at 24:00')).toThrow(/neither/);
    expect(() => parseSchedule('every 0s')).toThrow(/at least 1s/);
    expect(notBeforePassed(parseNotBefore('03:00'), at('2026-03-10T02:59:59Z'), 'UTC')).toBe(false);
    expect(notBeforePassed(parseNotBefore('03:00'), at('2026-03-10T03:00:00Z'), 'UTC')).toBe(true);
    expect(
      notBeforePassed(parseNotBefore('2026-03-10T05:00:00+02:00'), at('2026-03-10T03:00:00Z'), 'UTC'),
    ).toBe(true);
    expect(() => parseNotBefore('3am')).toThrow(/HH:MM/);
    expect(() => parseNotBefore('2026-13-10T05:00')).toThrow(/ISO date-time/);
    expect(() => parseNotBefore('2026-02-30T05:00')).toThrow(/ISO date-time/);
    expect(() => parseNotBefore('2026-02-28T24:00Z')).toThrow(/ISO date-time/);
    expect(() => parseNotBefore('2026-02-28T23:60+01:00')).toThrow(/ISO date-time/);
    expect(parseNotBefore('2028-02-29T05:00')).toMatchObject({ kind: 'local' });
    expect(parseDuration('20m')).toBe(1_200_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5h')).toBeNull();
  });
});
