// `npm run bench [-- --quick] [-- --only id,...] [-- --repeat N]`: runs the registered scenarios (N times in
// turn: all of them, then all again), prints a table of medians with their spread, writes bench/results and the
// README table.
import { parseArgs } from 'node:util';
import { freshDatabase, stopBenchServer } from './lib/database';
import { prettifyMarkdown, writeReport } from './lib/report';
import { startBenchSink } from './lib/sink';
import type { BenchContext, ScenarioResult } from './lib/types';
import { scenarios } from './scenarios';

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      repeat: { type: 'string', default: '1' },
    },
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
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) {
    console.error(`--repeat takes a whole number of runs >= 1, got ${values.repeat}`);
    process.exit(2);
  }
  const chosen = only ? scenarios.filter((s) => only.includes(s.id)) : scenarios;
  const sink = await startBenchSink();
  const ctx: BenchContext = { sink, freshDatabase, concurrency: 32, log: (m) => console.log(`  ${m}`) };
  const runs: ScenarioResult[][] = [];
  try {
    for (let n = 1; n <= repeat; n++) {
      const results: ScenarioResult[] = [];
      runs.push(results);
      for (const s of chosen) {
        console.log(`${s.id}${repeat > 1 ? ` (run ${n}/${repeat})` : ''}: ${s.title}`);
        const started = Date.now();
        const got = await s.run(ctx, { quick: values.quick });
        for (const r of got) console.log(`  ${r.id}: ${r.value.toLocaleString('en-US')} ${r.unit}`);
        results.push(...got);
        console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
    }
  } finally {
    sink.stop();
    await stopBenchServer();
  }
  console.log(`\n${writeReport(runs, { quick: values.quick })}\n`);
  await prettifyMarkdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
