import type { FaultResult } from './types';

const secs = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** The chaos table in markdown: one row per fault, then its notes. */
export function toTable(results: FaultResult[], short: boolean): string {
  const lines = [
    `Chaos run ${new Date().toISOString()}${short ? ' (--short: durations scaled down)' : ''}`,
    '',
    '| fault | sent (202) | delivered sink | delivered Kafka | lost | duplicates sink / Kafka | recovery |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.fault} | ${r.sent} | ${r.deliveredSink} | ${r.deliveredKafka} | ${r.error ? 'n/a' : r.lost} | ` +
        `${r.duplicatesSink} / ${r.duplicatesKafka} | ${secs(r.recoveryMs)} |`,
    ),
    '',
    ...results.map(
      (r) =>
        `- ${r.fault}: ${[r.error ? `ERROR ${r.error}` : '', `${r.refused} ids refused (no 202)`, ...r.notes]
          .filter(Boolean)
          .join('; ')}`,
    ),
  ];
  return lines.join('\n');
}
