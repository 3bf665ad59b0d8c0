import { describe, expect, it } from 'vitest';
import { niceTicks, renderChart } from '../../bench/lib/chart';

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 times a power of ten and ends past the max', () => {
    expect(niceTicks(2100)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(niceTicks(7.3)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});

describe('renderChart', () => {
  it('draws a line per series with several points, a dot for a single point, and says when a panel is empty', () => {
    const svg = renderChart(
      [
        { series: 'sluice', backlog: 1000, eventsPerSec: 1800 },
        { series: 'sluice', backlog: 10000, eventsPerSec: 2100 },
        { series: 'pg-boss', backlog: 10000, eventsPerSec: 400 },
      ],
      'test run',
    );
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg.match(/<circle/g)).toHaveLength(3);
    expect(svg).toContain('no data in this run'); // the latency panel
    expect(svg).toContain('>pg-boss</text>');
  });
  it('renders an empty run without throwing', () => {
    expect(renderChart([], 'x').match(/no data in this run/g)).toHaveLength(2);
  });
});
