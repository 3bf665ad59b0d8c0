// The scenario registry: `npm run bench` runs these in order (`--only id,...` picks some).
// Add a scenario by writing bench/scenarios/<id>.ts exporting a `Scenario` and listing it here.
// Results name peers/limits they compare to in `compareTo` (ids below); the report computes the ratios.
// Limit ids: limit-sink-capacity, limit-http-client, limit-http-ingest, limit-pg-insert, limit-pg-update. Peer ids: peer-graphile-worker, peer-pg-boss.
import type { Scenario } from '../lib/types';
import { backfillRateScenario } from './backfill-rate';
import { backlogCurve } from './backlog-curve';
import { calloutComposite } from './callout-composite';
import { calloutOverhead } from './callout-overhead';
import { captureIngest } from './capture-ingest';
import { captureOltp } from './capture-oltp';
import { captureRelay } from './capture-relay';
import { captureTrigger } from './capture-trigger';
import { drainBacklog } from './drain-backlog';
import { drainFairness } from './drain-fairness';
import { drainLatency } from './drain-latency';
import { drainInstances } from './drain-instances';
import { drainScale } from './drain-scale';
import { drainStaleStats } from './drain-stale-stats';
import { hostileLargestRequest } from './hostile-largest-request';
import { ingestEnqueue } from './ingest-enqueue';
import { limitHttpClient } from './limit-http-client';
import { limitHttpIngest } from './limit-http-ingest';
import { limitPostgres } from './limit-postgres';
import { limitSink } from './limit-sink';
import { peerGraphileWorker } from './peer-graphile-worker';
import { peerPgBoss } from './peer-pg-boss';
import { plannerPassScenario } from './planner-pass';
import { routeFilter } from './route-filter';

export const scenarios: Scenario[] = [
  limitSink,
  limitPostgres,
  ingestEnqueue,
  drainBacklog,
  peerGraphileWorker,
  peerPgBoss,
  // After the drains: its warmed-up client is the ceiling, and its heap stays out of drain-peak-rss.
  limitHttpClient,
  calloutOverhead,
  calloutComposite,
  drainLatency,
  drainScale,
  drainInstances,
  drainStaleStats,
  drainFairness,
  plannerPassScenario,
  backfillRateScenario,
  backlogCurve,
  // Just before capture-ingest: its ceiling, measured the same way.
  limitHttpIngest,
  captureIngest,
  captureTrigger,
  captureOltp,
  captureRelay,
  routeFilter,
  hostileLargestRequest,
];
