export interface ProgressFigures {
  table: string;
  done: number;
  total: number;
  /** Rows per second this run. */
  rate: number;
}

const eta = (s: number) =>
  !Number.isFinite(s)
    ? '?'
    : s < 60
      ? `${Math.ceil(s)}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`
        : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;

/**
 * One progress line that fits `columns`: the figures (percent, rows, rate, ETA) always, the bar in
 * the room left over, and the table's name only when it fits too.
 */
export function progressLine(f: ProgressFigures, columns: number): string {
  const pct = f.total > 0 ? Math.min(100, Math.floor((f.done / f.total) * 100)) : 100;
  const left = f.rate > 0 ? (f.total - f.done) / f.rate : Infinity;
  const figures = `${pct}% ${f.done}/${f.total} ${f.rate}/s ETA ${f.done >= f.total ? '0s' : eta(left)}`;
  const width = Math.max(20, columns - 1);
  const name = `${f.table} `;
  const withName = width - figures.length - name.length - 3 >= 10;
  const room = width - figures.length - 3 - (withName ? name.length : 0);
  if (room < 5) return `${withName ? name : ''}${figures}`.slice(0, width);
  const barSize = Math.min(40, room);
  const filled = Math.round((pct / 100) * barSize);
  return `${withName ? name : ''}[${'='.repeat(filled)}${' '.repeat(barSize - filled)}] ${figures}`;
}
