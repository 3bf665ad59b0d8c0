import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type QueueState = 'pending' | 'running' | 'done' | 'dead';

/** One change bound for one route: the unit the drain claims, calls out and settles. */
@Entity({ name: 'event_queue' })
export class EventQueueRow {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'uuid', name: 'event_id' }) eventId!: string;
  @Column({ type: 'text' }) route!: string;
  @Column({ type: 'text' }) entity!: string;
  @Column({ type: 'text', name: 'record_id' }) recordId!: string;
  @Column({ type: 'text' }) op!: string;
  @Column({ type: 'text' }) source!: string;
  @Column({ type: 'jsonb', nullable: true }) payload!: unknown;
  @Column({ type: 'uuid', nullable: true }) ticket!: string | null;
  @Column({ type: 'timestamptz', name: 'occurred_at' }) occurredAt!: Date;
  @Column({ type: 'text' }) state!: QueueState;
  @Column({ type: 'integer' }) attempts!: number;
  @Column({ type: 'timestamptz', name: 'run_at' }) runAt!: Date;
  @Column({ type: 'text', name: 'locked_by', nullable: true }) lockedBy!: string | null;
  @Column({ type: 'timestamptz', name: 'locked_until', nullable: true }) lockedUntil!: Date | null;
  @Column({ type: 'integer', name: 'merged_count' }) mergedCount!: number;
  @Column({ type: 'text', name: 'last_error', nullable: true }) lastError!: string | null;
  @Column({ type: 'integer', name: 'last_status', nullable: true }) lastStatus!: number | null;
  @Column({ type: 'text', name: 'last_response', nullable: true }) lastResponse!: string | null;
  @Column({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
  @Column({ type: 'timestamptz', name: 'done_at', nullable: true }) doneAt!: Date | null;
}
