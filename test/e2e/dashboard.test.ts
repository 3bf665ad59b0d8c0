import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath } from '../helpers/chromium';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const SCREENSHOT = join('test-results', 'dashboard.png');
const NARROW = join('test-results', 'dashboard-420.png');

describe('dashboard in headless Chromium', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    // First: on a fresh machine this installs the browser (minutes), before anything else is started.
    const executablePath = chromiumPath();
    db = await createTestDb();
    // The CRM refuses three records (dead letters); the warehouse takes everything.
    sink = await startSink((r) =>
      r.path === '/crm' && /"a-[123]"/.test(r.body) ? { status: 422, body: 'unknown account' } : {},
    );
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `${sink.url}/crm` },
        },
        {
          name: 'warehouse',
          match: { entity: '*' },
          connector: 'webhook',
          options: { url: `${sink.url}/wh` },
        },
      ],
    });
    const ids = Array.from({ length: 200 }, (_, i) => `a-${i + 1}`);
    expect((await api(svc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids })).status).toBe(202);
    await waitFor(
      async () =>
        (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state IN ('done', 'dead')`)) ===
        400,
      'all 400 deliveries settled',
    );
    // A planner process (disabled, so it never runs and changes no counts) for the planner panel.
    const proc = await api(svc, 'POST', '/v1/processes', {
      name: 'nightly-sync',
      handler: 'sync',
      kind: 'recurrent',
      schedule: 'every 1d',
      params: { entity: 'account', ids: ['a-1'] },
      enabled: false,
    });
    expect(proc.status).toBeLessThan(300);
    profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
    // A fresh profile per run (playwright takes it as userDataDir, not as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      viewport: { width: 1280, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 900_000);
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await sink?.close();
    await db?.drop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('asks for the key, shows live figures and an axis-labelled chart, replays a dead letter on click, asks before replaying all, fits 420 px, and breaks no CSP rule', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // CSP refusals (an inline script or style) show up as console errors; the refused key's 401s do too.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
    });
    const shell = await page.goto(svc.url);
    const csp = shell!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');

    // No key yet: the page holds no data and asks for one; a wrong key is refused by the API.
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#key', 'not-a-key');
    await page.click('#login-form button');
    await expect.poll(() => page.textContent('#login-error')).toContain('not accepted');

    await page.fill('#key', svc.key);
    await page.click('#login-form button');
    await page.waitForSelector('body[data-loaded="true"]');

    // Live figures match the database.
    await expect.poll(() => page.textContent('#q-dead')).toBe('3');
    await expect.poll(() => page.textContent('#q-done')).toBe('397');
    expect(await page.locator('#dlq tr[data-id]').count()).toBe(3);
    const routes = await page.locator('#routes tr').allTextContents();
    expect(routes.join('\n')).toMatch(/crm\s*closed/);
    expect(routes.join('\n')).toMatch(/warehouse\s*closed/);
    expect(await page.textContent('#consumer')).toContain('leader');
    expect(await page.textContent('#processes')).toContain('nightly-sync');
    expect(await page.textContent('#slots')).toMatch(/0 of 5 slots/);

    // Replay one dead letter through its button; the drain delivers it (the CRM accepts it now).
    sink.respond = () => ({});
    const row = page.locator('#dlq tr[data-id]').first();
    const id = await row.getAttribute('data-id');
    await row.locator('button.replay').click();
    await expect.poll(() => page.textContent('#toast')).toContain('replayed 1');
    await waitFor(
      async () =>
        (await db.pool.query(`SELECT state FROM event_queue WHERE id = $1`, [id])).rows[0].state === 'done',
      'replayed row delivered',
    );
    await expect.poll(() => page.locator('#dlq tr[data-id]').count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => page.textContent('#q-done'), { timeout: 15_000 }).toBe('398');

    // A few more bursts so the throughput chart has a shape in the screenshot.
    for (let burst = 1; burst <= 4; burst++) {
      const before = await page.textContent('#updated');
      const ids = Array.from({ length: 100 * burst }, (_, i) => `b${burst}-${i}`);
      expect((await api(svc, 'POST', '/v1/events', { entity: 'order', op: 'insert', ids })).status).toBe(202);
      await expect.poll(() => page.textContent('#updated'), { timeout: 15_000 }).not.toBe(before);
    }
    await expect.poll(() => page.textContent('#q-done'), { timeout: 15_000 }).toBe('1,398');

    // The slot limit from the planner panel, then a slot held for a process due in a few minutes.
    await page.fill('#limit', '0');
    await page.click('#limit-form button');
    await expect.poll(() => page.textContent('#toast')).toContain('whole number from 1 to 1000');
    await page.fill('#limit', '1');
    await page.click('#limit-form button');
    await expect.poll(() => page.textContent('#toast')).toContain('slot limit set to 1');
    expect((await api(svc, 'GET', '/v1/planner/settings')).body).toMatchObject({
      maxActive: 1,
      updatedBy: 'api',
    });
    await expect.poll(() => page.textContent('#slots')).toMatch(/0 of 1 slots/);
    const due = new Date(Date.now() + 5 * 60_000);
    const hhmm = `${String(due.getUTCHours()).padStart(2, '0')}:${String(due.getUTCMinutes()).padStart(2, '0')}`;
    const sync = { handler: 'sync', params: { entity: 'account', ids: ['a-1'] } };
    expect(
      (
        await api(svc, 'POST', '/v1/processes', {
          ...sync,
          name: 'nightly-report',
          kind: 'recurrent',
          schedule: `every day at ${hhmm}`,
          priority: 100,
        })
      ).status,
    ).toBe(201);
    expect((await api(svc, 'POST', '/v1/processes', { ...sync, name: 'adhoc', kind: 'single' })).status).toBe(
      201,
    );
    await expect
      .poll(() => page.textContent('#held'), { timeout: 15_000 })
      .toMatch(/slot held for nightly-report due .+, expected 10 min \(waiting: adhoc\)/);

    // The chart has values on both axes (deliveries per second left, pending right) and a time axis.
    const rateAxis = await page.locator('#chart text.axis.rate').allTextContents();
    expect(rateAxis.length).toBeGreaterThanOrEqual(3);
    expect(rateAxis.every((t) => /^[0-9.]+k?$/.test(t))).toBe(true);
    expect(await page.locator('#chart text.axis.pending').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#chart text.axis').allTextContents()).toContain('now');
    await expect.poll(() => page.locator('#warnings').isVisible()).toBe(false);

    // "Replay all shown" asks first: declined, nothing is replayed.
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.click('#replay-all');
    await expect.poll(() => asked.length).toBe(1);
    expect(asked[0]).toContain('Replay 2 dead letters?');
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'dead'`)).toBe(2);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

    // 420 px wide: every table stays inside its card and no card scrolls sideways.
    await page.setViewportSize({ width: 420, height: 900 });
    await page.waitForTimeout(300); // a relayout (the chart redraws on resize)
    // Runs in the page (a string: this project's TypeScript has no DOM types).
    const spills = await page.evaluate<string[]>(`
      [...document.querySelectorAll('main section:not(.hidden)')].flatMap((sec) => {
        const card = sec.getBoundingClientRect();
        const name = sec.querySelector('h2')?.textContent.trim();
        const out = [...sec.querySelectorAll('table, svg')]
          .filter((t) => t.getBoundingClientRect().right > card.right + 0.5)
          .map((t) => name + ': ' + t.tagName + ' ends at ' + t.getBoundingClientRect().right + ' > ' + card.right);
        return sec.scrollWidth > sec.clientWidth + 1 ? [...out, name + ' scrolls sideways'] : out;
      })`);
    expect(spills).toEqual([]);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    await page.screenshot({ path: NARROW, fullPage: true });

    // Accepted, every dead letter shown goes back to pending and is delivered.
    page.once('dialog', (d) => void d.accept());
    await page.click('#replay-all');
    await waitFor(
      async () => (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'dead'`)) === 0,
      'all dead letters replayed',
    );
    expect(errors).toEqual([]);
  });

  it('shows a paused route with a "paused" badge in the routes table, and drops it on resume', async () => {
    expect((await api(svc, 'POST', '/v1/routes/warehouse/pause')).status).toBe(200);
    const page = await browser.newPage();
    try {
      await page.goto(svc.url);
      await page.fill('#key', svc.key);
      await page.click('#login-form button');
      await page.waitForSelector('body[data-loaded="true"]');
      const routesText = async () => (await page.textContent('#routes')) ?? '';
      await waitFor(async () => /warehouse\s*paused/.test(await routesText()), 'the paused badge');
      expect(await routesText()).not.toMatch(/crm\s*paused/);
      expect((await api(svc, 'POST', '/v1/routes/warehouse/resume')).status).toBe(200);
      await waitFor(async () => !/paused/.test(await routesText()), 'the paused badge gone');
    } finally {
      await page.close();
    }
  });

  it("searches the attempt log by route and record, pages with More, and shows an event's attempt history on click", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(svc.url);
      await page.fill('#key', svc.key);
      await page.click('#login-form button');
      await page.waitForSelector('body[data-loaded="true"]');
      // Loaded with the newest 25 attempts; More appends the next page.
      await expect.poll(() => page.locator('#deliveries tr[data-attempt]').count()).toBe(25);
      await page.click('#deliveries-more');
      await expect.poll(() => page.locator('#deliveries tr[data-attempt]').count()).toBe(50);

      // a-2 was refused by the CRM with 422 (dead) and taken by the warehouse.
      await page.fill('#d-route', 'crm');
      await page.fill('#d-record', 'a-2');
      await page.selectOption('#d-status', 'dead');
      await page.click('#deliveries-form button');
      await expect.poll(() => page.locator('#deliveries tr[data-attempt]').count()).toBe(1);
      const row = (await page.textContent('#deliveries tr[data-attempt]')) ?? '';
      expect(row).toMatch(/crm\s*account:a-2/);
      expect(row).toContain('dead');
      expect(row).toContain('422');

      await page.click('#deliveries tr[data-attempt] button.history');
      await page.locator('#event-history').waitFor({ state: 'visible' });
      const history = await page.locator('#history tr').allTextContents();
      expect(history.some((t) => /crm.*dead.*422/.test(t))).toBe(true);
      expect(history.some((t) => /warehouse.*succeeded.*200/.test(t))).toBe(true);
      expect(await page.textContent('#history')).toContain('unknown account');

      await page.fill('#d-record', 'no-such-record');
      await page.click('#deliveries-form button');
      await expect.poll(() => page.textContent('#deliveries')).toContain('no attempts');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('warns when no route is configured, in status and on the page', async () => {
    // A database of its own: routes are shared through the database, so one next to svc would have svc's.
    const bareDb = await createTestDb();
    const bare = await startTestService({ databaseUrl: bareDb.url, kafka: false });
    try {
      const status = await api(bare, 'GET', '/v1/status');
      expect(status.body.warnings).toEqual([expect.stringContaining('no routes configured')]);
      expect((await api(svc, 'GET', '/v1/status')).body.warnings).toEqual([]);
      const page = await browser.newPage();
      await page.goto(bare.url);
      await page.fill('#key', bare.key);
      await page.click('#login-form button');
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await page.textContent('#warnings')).toContain('no routes configured');
      await page.close();
    } finally {
      await bare.stop();
      await bareDb.drop();
    }
  });

  it('opens the API viewer at /docs without a key, rendered from /docs/json, with no CSP refusal', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${svc.url}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.textContent('.swagger-ui .info .title')).toContain('Sluice');
    await page.locator('.opblock-summary-path', { hasText: '/v1/events' }).first().waitFor();
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: join('test-results', 'docs.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
