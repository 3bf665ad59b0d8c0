export interface FaultResult {
  fault: string;
  /** Events Sluice accepted (202) during the run: these must all arrive. */
  sent: number;
  /** Pushes that got no 202 (not promised; the client would retry them). */
  refused: number;
  /** Accepted events answered 200 by the sink, and found on the Kafka topic. */
  deliveredSink: number;
  deliveredKafka: number;
  /** Accepted events missing at the sink or on the topic: must be 0. */
  lost: number;
  /** Extra deliveries of an event already delivered (at-least-once), at the sink and on the topic. */
  duplicatesSink: number;
  duplicatesKafka: number;
  /** From the fault being lifted until everything accepted was delivered (null: never caught up). */
  recoveryMs: number | null;
  notes: string[];
  error?: string;
}

export interface FaultOptions {
  short: boolean;
  log(msg: string): void;
}
