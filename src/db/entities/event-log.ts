import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One accepted change: the durable record and the outbox row the relay publishes to Kafka. */
@Entity({ name: 'event_log' })
export class EventLogRow {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'uuid', name: 'event_id' }) eventId!: string;
  @Column({ type: 'text' }) entity!: string;
  @Column({ type: 'text', name: 'record_id' }) recordId!: string;
  @Column({ type: 'text' }) op!: string;
  @Column({ type: 'text' }) source!: string;
  @Column({ type: 'jsonb', nullable: true }) payload!: unknown;
  @Column({ type: 'uuid', nullable: true }) ticket!: string | null;
  @Column({ type: 'timestamptz', name: 'occurred_at' }) occurredAt!: Date;
  @Column({ type: 'timestamptz', name: 'published_at', nullable: true }) publishedAt!: Date | null;
}
