// `npm run bench [-- --quick]`: runs every scenario, prints a table, writes bench/results and the README table.
import { stopBenchServer } from './lib/database';
import { writeReport } from './lib/report';
import { startBenchSink } from './lib/sink';
import type { ScenarioResult } from './lib/types';
import { drainBacklog } from './scenarios/drain-backlog';

async function main() {
  const quick = process.argv.includes('--quick');
  const sink = await startBenchSink();
  const results: ScenarioResult[] = [];
  try {
    const backlog = quick ? 5_000 : 20_000;
    console.log(`drain: ${backlog} rows...`);
    results.push(await drainBacklog(sink, backlog));
  } finally {
    sink.stop();
    await stopBenchServer();
  }
  console.log(`\n${writeReport(results)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
