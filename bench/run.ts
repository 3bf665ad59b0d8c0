// `npm run bench [-- --quick] [-- --only id,...]`: runs the registered scenarios, prints a table,
// writes bench/results and the README table.
import { parseArgs } from 'node:util';
import { freshDatabase, stopBenchServer } from './lib/database';
import { prettifyMarkdown, writeReport } from './lib/report';
import { startBenchSink } from './lib/sink';
import type { BenchContext, ScenarioResult } from './lib/types';
import { scenarios } from './scenarios';

async function main() {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
  });
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only?.filter((id) => !scenarios.some((s) => s.id === id)) ?? [];
  if (unknown.length) {
    console.error(
      `unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`,
    );
    process.exit(2);
  }
  const chosen = only ? scenarios.filter((s) => only.includes(s.id)) : scenarios;
  const sink = await startBenchSink();
  const ctx: BenchContext = { sink, freshDatabase, concurrency: 32, log: (m) => console.log(`  ${m}`) };
  const results: ScenarioResult[] = [];
  try {
    for (const s of chosen) {
      console.log(`${s.id}: ${s.title}`);
      const started = Date.now();
      results.push(...(await s.run(ctx, { quick: values.quick })));
      console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    sink.stop();
    await stopBenchServer();
  }
  console.log(`\n${writeReport(results, { quick: values.quick })}\n`);
  await prettifyMarkdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
