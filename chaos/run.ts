// `npm run chaos [-- --short] [-- --only id,...]`: scripted faults against real Sluice processes, a real
// Postgres and Kafka broker of the run's own, and a counting sink; prints what was sent, delivered and
// lost per fault and exits 1 if anything accepted was lost (or a fault could not run).
import { parseArgs } from 'node:util';
import { kafkaOutage } from './faults/kafka-outage';
import { laneKill } from './faults/lane-kill';
import { leaderKill } from './faults/leader-kill';
import { migrationsRace } from './faults/migrations-race';
import { postgresRestart } from './faults/postgres-restart';
import { sinkOutage } from './faults/sink-outage';
import { runLoadFault } from './lib/harness';
import { startInfra, type ChaosInfra } from './lib/infra';
import { toTable } from './lib/table';
import type { FaultOptions, FaultResult } from './lib/types';

const FAULTS: Array<{ id: string; run(infra: ChaosInfra, o: FaultOptions): Promise<FaultResult> }> = [
  ...[leaderKill, laneKill, kafkaOutage, postgresRestart, sinkOutage].map((f) => ({
    id: f.id,
    run: (infra: ChaosInfra, o: FaultOptions) => runLoadFault(infra, f, o),
  })),
  { id: 'migrations-race', run: migrationsRace },
];

const failed = (id: string, err: unknown): FaultResult => ({
  fault: id,
  sent: 0,
  refused: 0,
  deliveredSink: 0,
  deliveredKafka: 0,
  lost: 0,
  duplicatesSink: 0,
  duplicatesKafka: 0,
  recoveryMs: null,
  notes: [],
  error: (err as Error).message ?? String(err),
});

async function main() {
  const { values } = parseArgs({
    options: { short: { type: 'boolean', default: false }, only: { type: 'string' } },
  });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !FAULTS.some((f) => f.id === id)) ?? [];
  if (unknown.length) {
    console.error(`unknown fault(s): ${unknown.join(', ')}; known: ${FAULTS.map((f) => f.id).join(', ')}`);
    process.exit(2);
  }
  const started = Date.now();
  const log = (m: string) => console.log(`[chaos +${((Date.now() - started) / 1000).toFixed(0)}s] ${m}`);
  const o: FaultOptions = { short: values.short, log };
  const infra = await startInfra(log);
  const results: FaultResult[] = [];
  try {
    for (const f of FAULTS.filter((x) => !only || only.includes(x.id))) {
      log(`${f.id}: start`);
      const r = await infra
        .ensureBroker()
        .then(() => f.run(infra, o))
        .catch((err) => failed(f.id, err));
      log(`${f.id}: sent ${r.sent}, lost ${r.lost}${r.error ? `, error: ${r.error}` : ''}`);
      results.push(r);
    }
  } finally {
    await infra.close();
  }
  console.log(`\n${toTable(results, values.short)}\n`);
  const bad = results.filter((r) => r.lost > 0 || r.error || r.recoveryMs === null);
  if (bad.length) {
    console.error(`chaos: FAILED (${bad.map((r) => r.fault).join(', ')})`);
    process.exit(1);
  }
  console.log(`chaos: nothing lost (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
