import type { FaultResult } from './types';

export interface Legs {
  /** Record ids that got a 202 (one event each). */
  accepted: string[];
  refused: number;
  /** recordId -> event ids the sink answered 200 for; and 200s beyond the first per event id. */
  sink: Map<string, Set<string>>;
  sinkDuplicates: number;
  /** recordId -> event ids found on the topic; and messages beyond the first per event id. */
  kafka: Map<string, Set<string>>;
  kafkaDuplicates: number;
}

/** Sent / delivered / lost / duplicates from what each leg saw, by record id. */
export function tally(fault: string, legs: Legs, recoveryMs: number | null, notes: string[]): FaultResult {
  const { accepted, sink, kafka } = legs;
  // A record delivered under two event ids is a duplicate the per-event count cannot see.
  const split = [...sink.values()].filter((s) => s.size > 1).length;
  const extraNotes = split ? [`${split} records reached the sink under more than one event id`] : [];
  return {
    fault,
    sent: accepted.length,
    refused: legs.refused,
    deliveredSink: accepted.filter((id) => sink.has(id)).length,
    deliveredKafka: accepted.filter((id) => kafka.has(id)).length,
    lost: accepted.filter((id) => !sink.has(id) || !kafka.has(id)).length,
    duplicatesSink: legs.sinkDuplicates + split,
    duplicatesKafka: legs.kafkaDuplicates,
    recoveryMs,
    notes: [...notes, ...extraNotes],
  };
}
