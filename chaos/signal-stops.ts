// `npm run chaos:stops [-- --stops 10] [-- --npm-stops 3]`: real `npm start` processes (embedded Postgres,
// local broker, a slow sink, 2,000 ids pushed) stopped by SIGINT and SIGTERM to the node process and to npm,
// then a kill -9 and a restart. Exits 1 on a leftover process, an error-level line, a stale lock or a lost
// message. The test suite runs a short version (test/e2e/signal-stops.test.ts).
import { parseArgs } from 'node:util';
import { runStopRounds, type StopRound } from '../test/helpers/stop-rounds';

async function main() {
  const { values } = parseArgs({
    options: {
      stops: { type: 'string', default: '10' },
      'npm-stops': { type: 'string', default: '3' },
    },
  });
  const n = Number(values.stops);
  const viaNpm = Number(values['npm-stops']);
  const rounds: StopRound[] = [];
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (let i = 0; i < n; i++) rounds.push({ signal, target: 'node' });
    for (let i = 0; i < viaNpm; i++) rounds.push({ signal, target: 'npm' });
  }
  const started = Date.now();
  const log = (m: string) => console.log(`[stops +${((Date.now() - started) / 1000).toFixed(0)}s] ${m}`);
  const ports = process.env.STOPS_PORTS?.split(',').map(Number);
  const r = await runStopRounds({
    rounds,
    log,
    ...(ports && { ports: { http: ports[0], pg: ports[1], kafka: ports[2] } }),
  });
  const bad = r.rounds.filter(
    (x) => x.exit !== 0 || x.errors.length || x.leftovers.length || x.locksLeft.length,
  );
  for (const signal of ['SIGINT', 'SIGTERM'])
    for (const target of ['node', 'npm']) {
      const of = r.rounds.filter((x) => x.signal === signal && x.target === target);
      if (!of.length) continue;
      const ms = of.map((x) => x.stopMs).sort((a, b) => a - b);
      console.log(
        `${signal} -> ${target}: ${of.length} stops, ${of.filter((x) => x.exit === 0).length} exit 0, ` +
          `${of.reduce((s, x) => s + x.leftovers.length, 0)} leftover processes, ` +
          `${of.reduce((s, x) => s + x.errors.length, 0)} error lines, ${of.reduce((s, x) => s + x.locksLeft.length, 0)} stale locks, ` +
          `stop median ${ms[Math.floor(ms.length / 2)]} ms (${ms[0]}-${ms[ms.length - 1]})`,
      );
    }
  console.log(
    `kill -9: ${r.orphanedByKill9} orphaned processes; restart cleaned them up: ${r.restartCleanedUp}; brokers after restart: ${r.brokersAfterRestart}`,
  );
  console.log(
    `topic: ${r.published} changes logged of ${r.pushed} pushed, ${r.missingFromTopic} missing from the topic; corruption in the broker log: ${r.corruption}; leftovers after the final stop: ${r.finalLeftovers.length}`,
  );
  for (const x of bad) console.error(`BAD: ${JSON.stringify(x).slice(0, 1000)}`);
  const ok =
    !bad.length &&
    r.restartCleanedUp &&
    r.brokersAfterRestart === 1 &&
    r.published === r.pushed &&
    r.missingFromTopic === 0 &&
    !r.corruption &&
    !r.finalLeftovers.length;
  console.log(ok ? 'stops: all clean' : 'stops: FAILED');
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
