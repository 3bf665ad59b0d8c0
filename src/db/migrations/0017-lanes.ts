import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enqueueFunction as filteredEnqueue } from './0011-route-filter';

/** Lanes a new install starts with (SLUICE_LANES changes it at start, see drain/lane-keeper.ts). */
export const DEFAULT_LANES = 32;

/** 0011's INSERT into event_queue, which gets the row's lane. */
const INSERT_COLUMNS =
  'INSERT INTO event_queue (event_id, route, entity, record_id, op, source, payload, occurred_at, ticket)';
const INSERT_VALUES =
  'SELECT t.event_id, t.route, p_entity, t.record_id, p_op, p_source, coalesce(t.payload, p_payload), t.occurred_at, t.ticket\n';
const DECLARE_LINE = 'DECLARE n integer;\n';

/**
 * 0011's sluice_enqueue storing each new queue row's lane; `laned: false` is 0011's function itself.
 * The lane count is read once per call (the sluice_lane table has one row per lane).
 */
const enqueueFunction = (laned: boolean) => {
  const sql = filteredEnqueue(true);
  for (const part of [INSERT_COLUMNS, INSERT_VALUES, DECLARE_LINE])
    if (!sql.includes(part)) throw new Error('0017: the enqueue function of 0011 changed');
  return laned
    ? sql
        .replace(
          DECLARE_LINE,
          'DECLARE n integer;\n        v_lanes integer := (SELECT count(*) FROM sluice_lane);\n',
        )
        .replace(INSERT_COLUMNS, `${INSERT_COLUMNS.slice(0, -1)}, lane)`)
        .replace(
          INSERT_VALUES,
          `${INSERT_VALUES.trimEnd()},\n           sluice_lane_of(t.route, p_entity, t.record_id, v_lanes)\n`,
        )
    : sql;
};

/**
 * Lanes (issue #17): the unit of "single active consumer" becomes a lane, not the whole queue.
 *
 * - `event_queue.lane`: a stable hash of (route, entity, record id) modulo the lane count, written at
 *   enqueue, so every change of one record is in one lane. Coalescing merges into a row of the same
 *   record, so it keeps its lane.
 * - `sluice_lane`: one lease row per lane (holder, term, expiry), taken and renewed like sluice_leader;
 *   the claim is fenced by the terms of the lanes its caller holds (db/queue/claim.ts).
 * - `sluice_instance`: every running instance's heartbeat; each computes the lanes it should hold from
 *   the live ones (drain/lane-assignment.ts).
 * Rows queued before this migration get their lane here (done rows keep 0: they are never claimed again).
 * The ready index is unchanged: a claim filters the lanes it holds on the candidate rows it reads, which
 * costs nothing with one instance (it holds every lane) and about N index entries per row claimed with N.
 */
export class Lanes1000000000017 implements MigrationInterface {
  name = 'Lanes1000000000017';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION sluice_lane_of(p_route text, p_entity text, p_record_id text, p_lanes integer)
      RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $fn$ SELECT (hashtext(p_route || chr(31) || p_entity || chr(31) || p_record_id) & 2147483647) % greatest(p_lanes, 1) $fn$;

      CREATE TABLE sluice_lane (
        lane        integer PRIMARY KEY CHECK (lane >= 0),
        holder      text,
        term        bigint NOT NULL DEFAULT 0,
        expires_at  timestamptz NOT NULL DEFAULT '-infinity'
      );
      INSERT INTO sluice_lane (lane) SELECT generate_series(0, ${DEFAULT_LANES - 1});

      CREATE TABLE sluice_instance (
        id          text PRIMARY KEY,
        started_at  timestamptz NOT NULL DEFAULT now(),
        seen_at     timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        info        jsonb
      );

      ALTER TABLE event_queue ADD COLUMN lane integer NOT NULL DEFAULT 0;
      UPDATE event_queue SET lane = sluice_lane_of(route, entity, record_id, ${DEFAULT_LANES}) WHERE state <> 'done';
    `);
    await q.query(enqueueFunction(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(enqueueFunction(false));
    await q.query(`
      ALTER TABLE event_queue DROP COLUMN IF EXISTS lane;
      DROP TABLE IF EXISTS sluice_instance, sluice_lane;
      DROP FUNCTION IF EXISTS sluice_lane_of(text, text, text, integer);
    `);
  }
}
