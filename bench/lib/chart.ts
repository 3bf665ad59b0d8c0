// The backlog chart as a hand-written SVG (two panels: drain rate and latency against backlog size).
// Tolerates missing series: a panel without points says so; a series with one point is a dot.
import type { ChartPoint } from './types';

const W = 460;
const H = 300;
const M = { left: 64, right: 16, top: 36, bottom: 44 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) =>
  v >= 1e6
    ? `${+(v / 1e6).toPrecision(3)}M`
    : v >= 1e3
      ? `${+(v / 1e3).toPrecision(3)}k`
      : `${+v.toPrecision(3)}`;

/** Round tick values from 0 past `max`: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

type Metric = 'eventsPerSec' | 'latencyMs';

function panel(
  points: ChartPoint[],
  metric: Metric,
  title: string,
  yLabel: string,
  series: string[],
  x0: number,
) {
  const pts = points.filter((p) => typeof p[metric] === 'number' && p.backlog > 0);
  const out = [
    `<g transform="translate(${x0},0)">`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
  ];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  if (!pts.length) {
    out.push(
      `<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle" fill="#777">no data in this run</text>`,
    );
    return [...out, '</g>'].join('\n');
  }
  const backlogs = [...new Set(pts.map((p) => p.backlog))].sort((a, b) => a - b);
  const lo = Math.log10(backlogs[0]);
  const hi = Math.log10(backlogs[backlogs.length - 1]);
  // Log scale on backlog (sizes span decades); a single size sits in the middle.
  const sx = (b: number) =>
    M.left + (hi === lo ? pw / 2 : ((Math.log10(b) - lo) / (hi - lo)) * pw * 0.9 + pw * 0.05);
  const ticks = niceTicks(Math.max(...pts.map((p) => p[metric]!)));
  const top = ticks[ticks.length - 1];
  const sy = (v: number) => M.top + ph - (v / top) * ph;
  for (const t of ticks) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  for (const b of backlogs) {
    out.push(
      `<text x="${sx(b)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${fmt(b)}</text>`,
    );
  }
  out.push(
    `<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle" font-size="12">backlog (rows, log scale)</text>`,
  );
  out.push(
    `<text transform="translate(14,${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
  );
  series.forEach((name, i) => {
    const line = pts.filter((p) => p.series === name).sort((a, b) => a.backlog - b.backlog);
    if (!line.length) return;
    const color = COLORS[i % COLORS.length];
    const xy = line.map((p) => `${sx(p.backlog).toFixed(1)},${sy(p[metric]!).toFixed(1)}`);
    // Several scenarios may measure one backlog size: the line goes through their mean, every dot is drawn.
    const mean = [...new Set(line.map((p) => p.backlog))].map((b) => {
      const vs = line.filter((p) => p.backlog === b).map((p) => p[metric]!);
      return `${sx(b).toFixed(1)},${sy(vs.reduce((a, v) => a + v, 0) / vs.length).toFixed(1)}`;
    });
    if (mean.length > 1)
      out.push(`<polyline points="${mean.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const c of xy) {
      const [cx, cy] = c.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${color}"/>`);
    }
  });
  return [...out, '</g>'].join('\n');
}

/** The whole SVG document: both panels side by side and one legend for all series. */
export function renderChart(points: ChartPoint[], subtitle: string): string {
  const series = [...new Set(points.map((p) => p.series))].sort((a, b) =>
    a === 'sluice' ? -1 : b === 'sluice' ? 1 : a.localeCompare(b),
  );
  const legendY = H + 10;
  const legend = series.map(
    (name, i) =>
      `<rect x="${M.left + i * 150}" y="${legendY}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>` +
      `<text x="${M.left + i * 150 + 18}" y="${legendY + 11}" font-size="12">${esc(name)}</text>`,
  );
  const width = 2 * W;
  const height = H + 50;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(points, 'eventsPerSec', 'Drain rate', 'events/s', series, 0),
    panel(points, 'latencyMs', 'Latency (median, commit to delivered)', 'ms', series, W),
    ...legend,
    `<text x="${width - 8}" y="${height - 8}" text-anchor="end" font-size="10" fill="#777">${esc(subtitle)}</text>`,
    '</svg>',
  ].join('\n');
}
