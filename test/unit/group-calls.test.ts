import { describe, expect, it } from 'vitest';
import type { GroupItem } from '../../src/db/queue/enqueue-group';
import { MERGE_BYTES, planCalls } from '../../src/db/queue/group-calls';

const item = (ids: string[], over: Partial<GroupItem> = {}): GroupItem => ({
  entity: 'account',
  op: 'update',
  source: 'api',
  ids,
  sharedPayload: null,
  ticket: `t-${ids.join(',')}`,
  ...over,
});
/** Each call as [op, ids...]. */
const shape = (items: GroupItem[]) => {
  const p = planCalls(items);
  return p.calls.map((c) => [c.op, ...p.ids.slice(c.lo - 1, c.hi)]);
};

describe('planCalls: the sluice_enqueue calls of one group', () => {
  it('puts small requests of the same entity, op and source into one call, in arrival order', () => {
    expect(shape([item(['a']), item(['b']), item(['c', 'd'])])).toEqual([['update', 'a', 'b', 'c', 'd']]);
  });

  it('splits by op and source, and each id keeps its request (item number) and payload', () => {
    const items = [
      item(['a'], { sharedPayload: '{"v":1}' }),
      item(['b'], { op: 'delete' }),
      item(['c'], { source: 'webhook:shop', sharedPayload: '{"v":3}' }),
      item(['d'], { sharedPayload: '{"v":4}' }),
    ];
    const p = planCalls(items);
    expect(p.calls.map((c) => [c.op, c.source, p.ids.slice(c.lo - 1, c.hi)])).toEqual([
      ['update', 'api', ['a', 'd']],
      ['delete', 'api', ['b']],
      ['update', 'webhook:shop', ['c']],
    ]);
    expect(p.itemOf).toEqual([1, 4, 2, 3]);
    expect(p.payloads).toEqual(['{"v":1}', '{"v":4}', null, '{"v":3}']);
  });

  it('a record named by three requests goes into three calls in arrival order, whatever their op', () => {
    expect(
      shape([item(['x', 'a']), item(['b']), item(['x'], { op: 'delete' }), item(['x', 'c']), item(['d'])]),
    ).toEqual([
      ['update', 'x', 'a', 'b', 'd'],
      ['delete', 'x'],
      ['update', 'x', 'c'],
    ]);
  });

  it('the same id in another entity is another record and shares the call', () => {
    expect(shape([item(['x']), item(['x'], { entity: 'contact' })]).length).toBe(2);
    expect(shape([item(['x']), item(['x'])]).length).toBe(2);
    const p = planCalls([item(['x']), item(['y'], { entity: 'contact' })]);
    expect(p.calls.map((c) => c.entity)).toEqual(['account', 'contact']);
  });

  it('a big request (ids x payload over MERGE_BYTES) has a call of its own with its payload sent once', () => {
    const big = 'x'.repeat(MERGE_BYTES);
    const p = planCalls([item(['a']), item(['b', 'c'], { sharedPayload: JSON.stringify(big) }), item(['d'])]);
    expect(p.calls.map((c) => [p.ids.slice(c.lo - 1, c.hi), c.shared === null])).toEqual([
      [['a', 'd'], true],
      [['b', 'c'], false],
    ]);
    expect(p.payloads).toEqual([null, null, null, null]);
  });
});
