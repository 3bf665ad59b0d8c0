import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionName } from '../../src/capture/trigger-sql';
import { addCapture } from '../../src/capture/triggers';
import { createTestDb, type TestDb } from '../helpers/db';
import { startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

/**
 * Captures installed by an older Sluice ran a NOTIFY in the writer's transaction. Starting the new one
 * rewrites their functions (no `capture add` needed); one that no longer resolves is left running as it was.
 */
describe('captures made by an older Sluice', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>> | undefined;
  const logs: string[] = [];
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  const body = async (table: string) =>
    (await q(`SELECT prosrc FROM pg_proc WHERE proname = $1`, [functionName('public', table)])).rows[0]
      .prosrc as string;
  const version = async (table: string) =>
    (await q(`SELECT trigger_version FROM sluice_capture WHERE table_name = $1`, [table])).rows[0]
      .trigger_version as number;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    await q(
      `CREATE TABLE kept (id int PRIMARY KEY, v int); CREATE TABLE renamed (id int PRIMARY KEY, v int)`,
    );
    for (const t of ['kept', 'renamed']) {
      await addCapture(db.pool, { table: t, entity: 'thing' });
      // As version 1 installed it: the same function with a NOTIFY at its end.
      const fn = (
        await q(`SELECT pg_get_functiondef(oid) AS d FROM pg_proc WHERE proname = $1`, [
          functionName('public', t),
        ])
      ).rows[0].d as string;
      const v1 = fn.replace(
        /RETURN NULL;\s*END\s*\$function\$\s*$/,
        "PERFORM pg_notify('sluice', ''); RETURN NULL; END $function$",
      );
      expect(v1).toContain('pg_notify');
      await q(v1);
      await q(`UPDATE sluice_capture SET trigger_version = 1 WHERE table_name = $1`, [t]);
    }
    await q(`ALTER TABLE renamed RENAME TO renamed_since`);
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('start rewrites the functions of version-1 captures; the writer no longer notifies; changes still flow', async () => {
    expect(await body('kept')).toContain('pg_notify');
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      logDestination: { write: (line) => void logs.push(line) },
      routes: [
        {
          name: 'sink',
          match: { entity: 'thing' },
          connector: 'webhook',
          options: { url: `${sink.url}/hook` },
        },
      ],
    });
    expect(await body('kept')).not.toContain('pg_notify');
    expect(await version('kept')).toBe(2);
    await q(`INSERT INTO kept VALUES (1, 0)`);
    await waitFor(() => sink.requests.length >= 1, 'the callout of the insert');
    expect(JSON.parse(sink.requests[0].body)).toMatchObject({ recordId: '1', op: 'insert' });
  });

  it('a capture whose table is gone keeps its old functions and is named in a warning', async () => {
    expect(await version('renamed')).toBe(1);
    expect(await body('renamed')).toContain('pg_notify');
    const warning = logs.map((l) => JSON.parse(l)).find((l) => l.table === 'public.renamed');
    expect(warning).toMatchObject({
      msg: expect.stringContaining('not upgraded'),
      error: expect.stringContaining('does not exist'),
    });
  });
});
