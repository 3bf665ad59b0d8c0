export interface ScenarioResult {
  name: string;
  unit: string;
  value: number;
  /** Ratios to peers or limits measured in the same run, e.g. { "vs graphile-worker": 1.8 }. */
  ratios?: Record<string, number>;
  detail?: Record<string, unknown>;
}
