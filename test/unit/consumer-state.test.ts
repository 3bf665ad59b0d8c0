import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { ClaimWindow } from '../../src/drain/claim-window';
import type { LaneKeeper } from '../../src/drain/lane-keeper';
import type { ConsumerState, DrainEvents } from '../../src/drain/types';

const silent = { info() {}, warn() {}, error() {} };

function window() {
  const events = new EventEmitter<DrainEvents>();
  const seen: ConsumerState[] = [];
  events.on('state', (s) => seen.push(s));
  const w = new ClaimWindow(
    null as unknown as Pool, // never queried: only the state machine is exercised
    null as unknown as LaneKeeper,
    () => [],
    { batchSize: 10, pollMs: 100, rowLeaseMs: 1000 },
    () => undefined,
    events,
    silent,
  );
  return { w, seen };
}

describe('the consumer state while the watchdog says stalled', () => {
  it("stays 'stalled' whatever the claim loop reports, then shows the loop's latest state once lifted", () => {
    const { w, seen } = window();
    w.setState('running');
    w.stalled(true);
    w.setState('idle');
    w.setState('re-armed');
    expect(w.state).toBe('stalled');
    w.stalled(false);
    expect(w.state).toBe('re-armed');
    expect(seen).toEqual(['running', 'stalled', 're-armed']);
  });

  it('lets stopping and stopped through while stalled', () => {
    const { w } = window();
    w.stalled(true);
    w.setState('stopping');
    expect(w.state).toBe('stopping');
  });
});
