'use strict';
// Auth: the key lives in sessionStorage and goes out as a bearer header on every data call.
const KEY = 'sluice.apiKey';
const $ = (id) => document.getElementById(id);
const history = [];
let prev = null;
let timer = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'onclick') e.addEventListener('click', v);
    // Through the CSSOM: the page's CSP refuses style attributes.
    else if (k === 'style') e.style.cssText = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return e;
}
const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '-');
const age = (ms) => {
  if (ms === null || ms === undefined) return '-';
  const s = ms / 1000;
  if (s < 1) return `${Math.round(ms)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
};
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '-');
function toast(msg) {
  const t = $('toast');
  t.textContent = msg;
  t.style.display = 'block';
  setTimeout(() => (t.style.display = 'none'), 2500);
}

class Unauthorized extends Error {}
async function call(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}`, ...(init.headers || {}) },
  });
  if (res.status === 401) throw new Unauthorized();
  if (res.status === 404) return null; // not available (e.g. the planner is not part of this build)
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error((body && body.error && body.error.message) || `HTTP ${res.status}`);
  return body;
}
const itemsOf = (b, ...keys) => {
  if (!b) return null;
  if (Array.isArray(b)) return b;
  for (const k of ['items', ...keys]) if (Array.isArray(b[k])) return b[k];
  return [];
};

function showLogin(message) {
  clearTimeout(timer);
  $('app').classList.add('hidden');
  $('login').classList.remove('hidden');
  $('login-error').textContent = message || '';
}
function showApp() {
  $('login').classList.add('hidden');
  $('app').classList.remove('hidden');
}

function renderStatus(s) {
  $('instance').textContent = `instance ${s.instance}`;
  const warnings = s.warnings || [];
  $('warnings').classList.toggle('hidden', warnings.length === 0);
  $('warnings').replaceChildren(...warnings.map((w) => el('p', {}, w)));
  const q = s.queue || {};
  $('q-pending').textContent = fmt(q.pending);
  $('q-running').textContent = fmt(q.running);
  $('q-done').textContent = fmt(q.done);
  $('q-dead').textContent = fmt(q.dead);
  $('q-dead').className = q.dead > 0 ? 'v bad' : 'v';
  $('q-age').textContent = age(q.oldestPendingAgeMs);
  const relay = s.relay || {};
  $('relay-lag').textContent = relay.enabled ? fmt(relay.lag && relay.lag.unpublished) : 'off';

  const now = Date.parse(s.time) || Date.now();
  let rate = 0;
  if (prev && now > prev.t) rate = Math.max(0, ((q.done || 0) - prev.done) / ((now - prev.t) / 1000));
  prev = { t: now, done: q.done || 0 };
  $('rate').textContent = rate.toFixed(rate < 10 ? 1 : 0);
  history.push({ rate, pending: q.pending || 0 });
  if (history.length > 90) history.shift();
  drawChart();

  const c = s.consumer || {};
  const tbody = $('consumer');
  tbody.replaceChildren(
    ...[
      [
        'state',
        el(
          'span',
          {
            class: `badge ${c.state === 'running' || c.state === 're-armed' ? 'ok' : c.state === 'stalled' ? 'bad' : 'muted'}`,
          },
          c.state,
        ),
      ],
      ...(c.stalled ? [['stalled', el('span', { class: 'badge bad' }, c.stalled)]] : []),
      ['role', el('span', { class: `badge ${c.role === 'leader' ? 'ok' : 'warn'}` }, c.role)],
      ['lanes held', c.lanes ? `${c.lanes.held.length} of ${c.lanes.total}` : '-'],
      ['term', c.term ?? '-'],
      [
        'batches',
        `${fmt(c.batches && c.batches.finished)} finished${c.batches && c.batches.rearms ? `, ${fmt(c.batches.rearms)} re-arms` : ''}`,
      ],
      ['in flight', fmt(c.inFlight)],
      [
        'active batches',
        c.batches && c.batches.active
          ? c.batches.active.map((b) => `#${b.id}: ${b.finished}/${b.size}`).join(', ') || 'none'
          : '-',
      ],
      [
        'last batch',
        c.lastBatch ? `${c.lastBatch.size} rows in ${age(c.lastBatch.ageMs ?? c.lastBatch.ms)}` : '-',
      ],
      ['delivered / retried', `${fmt(c.delivered)} / ${fmt(c.retried)}`],
      ['dead / deferred', `${fmt(c.dead)} / ${fmt(c.deferred)}`],
      ['Kafka relay', relay.enabled ? `${relay.state}, ${fmt(relay.published)} published` : 'off'],
      [
        'trigger captures',
        s.capture
          ? `${fmt(s.capture.fannedOut)} fanned out, ${fmt(s.capture.backlog && s.capture.backlog.changes)} waiting`
          : '-',
      ],
    ].map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))),
  );

  renderLanes(s.lanes);

  const byRoute = q.byRoute || {};
  const states = s.routes || {};
  const names = [
    ...new Set([...Object.keys(s.breakers || {}), ...Object.keys(byRoute), ...Object.keys(states)]),
  ].sort();
  $('routes').replaceChildren(
    ...(names.length
      ? names.map((name) => {
          const b = (s.breakers || {})[name];
          const r = byRoute[name] || {};
          const cls = !b ? 'muted' : b.state === 'closed' ? 'ok' : b.state === 'open' ? 'bad' : 'warn';
          return el(
            'tr',
            {},
            el('td', {}, name, ' ', routeState(states[name])),
            el('td', {}, el('span', { class: `badge ${cls}` }, b ? b.state : 'not configured here')),
            el('td', { class: 'wide' }, fmt(b && b.inFlight)),
            el('td', { class: 'wide' }, fmt(b && b.calls)),
            el('td', { class: 'wide' }, fmt(b && b.failures)),
            el('td', {}, fmt(r.pending || 0)),
            el('td', { class: 'wide' }, fmt(r.running || 0)),
            el('td', {}, fmt(r.done || 0)),
            el('td', { class: r.dead ? 'bad' : '' }, fmt(r.dead || 0)),
          );
        })
      : [el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'no routes configured'))]),
  );
  renderBackfills((s.planner && s.planner.backfills) || []);
  const p = s.planner;
  $('slots').textContent =
    p && typeof p.maxActive === 'number' ? `(${p.active ?? 0} of ${p.maxActive} slots active)` : '';
  if (p && typeof p.maxActive === 'number' && document.activeElement !== $('limit'))
    $('limit').value = p.maxActive;
  renderHeld((p && p.held) || []);
}

// [0,1,2,5,7,8] -> "0-2, 5, 7-8"
function ranges(list) {
  const out = [];
  for (let i = 0; i < list.length; i++) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    out.push(j > i ? `${list[i]}-${list[j]}` : `${list[i]}`);
    i = j;
  }
  return out.join(', ');
}

// Every live instance, the lanes it holds and the rows waiting in them; lanes nobody holds, if any.
function renderLanes(l) {
  if (!l) return;
  const pending = new Map(l.lanes.map((x) => [x.lane, x.pending]));
  const orphans = l.lanes.filter((x) => !x.holder).map((x) => x.lane);
  $('lanes-total').textContent =
    `(${l.total} lanes, ${l.instances.length} instance${l.instances.length === 1 ? '' : 's'})`;
  $('instances').replaceChildren(
    ...l.instances.map((i) =>
      el(
        'tr',
        {},
        el('td', {}, i.id),
        el('td', {}, `${i.lanes.length}: ${ranges(i.lanes) || 'none'}`),
        el('td', {}, fmt(i.lanes.reduce((n, lane) => n + (pending.get(lane) || 0), 0))),
        el('td', { class: 'wide' }, new Date(i.seenAt).toLocaleTimeString()),
      ),
    ),
    ...(orphans.length
      ? [
          el(
            'tr',
            {},
            el('td', { class: 'warn' }, 'nobody (being taken over)'),
            el('td', {}, `${orphans.length}: ${ranges(orphans)}`),
            el('td', {}, fmt(orphans.reduce((n, lane) => n + (pending.get(lane) || 0), 0))),
            el('td', { class: 'wide' }, ''),
          ),
        ]
      : []),
  );
}

// A paused route, or one outside its delivery window (with when it opens): its rows wait. A route whose
// every attempt fails: since when, and when auto-disable pauses it.
function routeState(r) {
  if (r && !r.closed && r.failing) {
    const at = r.failing.disablesAt;
    return el(
      'span',
      {
        class: 'badge bad',
        title: `every attempt failed since ${r.failing.since}${at ? `; auto-disabled at ${at}` : ''}`,
      },
      'failing',
    );
  }
  if (!r || !r.closed) return '';
  if (r.closed === 'paused')
    return el('span', { class: 'badge warn', title: `paused by ${r.pausedBy} at ${r.pausedAt}` }, 'paused');
  const at = r.window && r.window.nextOpenAt;
  const when = at
    ? new Date(at).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' })
    : '?';
  return el(
    'span',
    { class: 'badge muted', title: `delivery window (${r.window.timeZone})` },
    `closed until ${when}`,
  );
}

// Free slots the planner keeps for a process about to start (slot reservation).
function renderHeld(held) {
  const hm = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  $('held').replaceChildren(
    ...held.map((h) =>
      el(
        'p',
        { class: 'warn' },
        `slot held for ${h.process} due ${hm(h.dueAt)}, expected ${h.expectedMinutes} min` +
          ` (waiting: ${h.heldFrom.slice(0, 5).join(', ')}${h.heldFrom.length > 5 ? ` and ${h.heldFrom.length - 5} more` : ''})`,
      ),
    ),
  );
}

async function setLimit(n) {
  const s = await call('/v1/planner/settings', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ maxActive: n }),
  });
  toast(`slot limit set to ${s ? s.maxActive : n} (every instance, next pass)`);
  $('limit').blur();
  await refresh();
}

/** A round step for a 4-interval axis reaching `max`: 1, 2 or 5 times a power of ten, at least `min`. */
function niceStep(max, min) {
  const raw = Math.max(max / 4, min);
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= raw);
}
const short = (n) =>
  n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : `${+n.toFixed(1)}`;

// Drawn in the SVG's own pixels (its viewBox follows its size), so the axis text is never stretched.
function drawChart() {
  const svg = $('chart');
  const W = Math.max(200, Math.round(svg.clientWidth || 800));
  const H = Math.max(120, Math.round(svg.clientHeight || 250));
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const L = 46; // left axis: deliveries per second
  const R = 54; // right axis: pending rows
  const T = 10;
  const B = 22; // time axis
  const n = 90; // samples shown (2 s apart)
  const maxRate = 4 * niceStep(Math.max(0, ...history.map((h) => h.rate)), 0.5);
  const maxPending = 4 * niceStep(Math.max(0, ...history.map((h) => h.pending)), 1);
  const x = (i) => W - R - (history.length - 1 - i) * ((W - L - R) / (n - 1));
  const y = (v, max) => T + (1 - v / max) * (H - T - B);
  const pts = (f, max) => history.map((h, i) => `${x(i).toFixed(1)},${y(f(h), max).toFixed(1)}`);
  const ns = 'http://www.w3.org/2000/svg';
  const mk = (tag, a, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(a)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const kids = [];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const yy = T + f * (H - T - B);
    kids.push(mk('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'grid' }));
    kids.push(
      mk('text', { x: L - 6, y: yy + 4, class: 'axis rate', 'text-anchor': 'end' }, short(maxRate * (1 - f))),
    );
    kids.push(mk('text', { x: W - R + 6, y: yy + 4, class: 'axis pending' }, short(maxPending * (1 - f))));
  }
  for (const s of [180, 120, 60, 0]) {
    const xx = W - R - (s / 2) * ((W - L - R) / (n - 1));
    kids.push(
      mk(
        'text',
        { x: xx, y: H - 6, class: 'axis', 'text-anchor': s ? 'middle' : 'end' },
        s ? `-${s / 60} min` : 'now',
      ),
    );
  }
  if (history.length > 1) {
    const rate = pts((h) => h.rate, maxRate);
    kids.push(
      mk('polygon', { points: `${x(0)},${H - B} ${rate.join(' ')} ${W - R},${H - B}`, class: 'rate-area' }),
    );
    kids.push(mk('polyline', { points: rate.join(' '), class: 'rate-line' }));
    kids.push(mk('polyline', { points: pts((h) => h.pending, maxPending).join(' '), class: 'pending-line' }));
  }
  svg.replaceChildren(...kids);
  $('chart-scale').textContent =
    `left: delivered / s (0-${short(maxRate)}), right: pending (0-${short(maxPending)})`;
}

async function replay(ids) {
  let n = 0;
  if (ids.length === 1) {
    const r = await call(`/v1/dead-letters/${encodeURIComponent(ids[0])}/replay`, { method: 'POST' });
    n = r ? r.replayed : 0;
  } else {
    const r = await call('/v1/dead-letters/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids }),
    });
    n = r ? r.replayed : 0;
  }
  toast(`replayed ${n} dead letter${n === 1 ? '' : 's'}`);
  await refresh();
}

function renderDeadLetters(body) {
  const items = itemsOf(body) || [];
  $('dlq-count').textContent = `(${items.length}${items.length >= 100 ? '+' : ''})`;
  $('replay-all').disabled = items.length === 0;
  $('replay-all').onclick = () => {
    const ids = items.map((d) => d.id);
    const n = `${ids.length} dead letter${ids.length === 1 ? '' : 's'}`;
    if (!confirm(`Replay ${n}? Every one shown goes back to pending with its attempts reset.`)) return;
    replay(ids).catch(report);
  };
  $('dlq').replaceChildren(
    ...(items.length
      ? items.map((d) =>
          el(
            'tr',
            { 'data-id': d.id },
            el('td', {}, d.id),
            el('td', { class: 'wide' }, when(d.deadAt)),
            el('td', {}, d.route),
            el('td', {}, `${d.entity}:${d.recordId}`),
            el('td', { class: 'wide' }, d.op),
            el('td', { class: 'wide' }, d.attempts),
            el('td', { class: 'wide' }, d.lastStatus ?? '-'),
            el(
              'td',
              { class: 'err', title: `${d.lastError || ''}\n${d.lastResponse || ''}` },
              d.lastError || '',
            ),
            el(
              'td',
              {},
              el('button', { class: 'replay', onclick: () => replay([d.id]).catch(report) }, 'Replay'),
            ),
          ),
        )
      : [el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'no dead letters'))]),
  );
}

// The attempt log: searched on demand (not on every refresh), one page at a time; an event's history below.
const outcomeClass = (o) =>
  o === 'succeeded' ? 'ok' : o === 'deferred' ? 'muted' : o === 'dead' ? 'bad' : 'warn';
const deliveries = { query: '', next: null };

function deliveryQuery() {
  const q = ['limit=25'];
  for (const [id, key] of [
    ['d-route', 'route'],
    ['d-entity', 'entity'],
    ['d-record', 'recordId'],
    ['d-event', 'eventId'],
    ['d-status', 'status'],
  ]) {
    const v = $(id).value.trim();
    if (v) q.push(`${key}=${encodeURIComponent(v)}`);
  }
  return q.join('&');
}

async function searchDeliveries(more) {
  if (!more) deliveries.query = deliveryQuery();
  const cursor = more && deliveries.next ? `&cursor=${encodeURIComponent(deliveries.next)}` : '';
  const body = await call(`/v1/deliveries?${deliveries.query}${cursor}`);
  const items = itemsOf(body) || [];
  deliveries.next = body ? body.next : null;
  $('deliveries-more').classList.toggle('hidden', !deliveries.next);
  const rows = items.map((a) =>
    el(
      'tr',
      { 'data-attempt': a.id },
      el('td', { class: 'wide' }, when(a.startedAt)),
      el('td', { class: 'wide' }, a.route),
      el('td', { title: a.route }, `${a.entity}:${a.recordId}`),
      el('td', { class: 'wide' }, a.attempt),
      el('td', {}, el('span', { class: `badge ${outcomeClass(a.outcome)}` }, a.outcome)),
      el('td', { title: a.error || '' }, a.httpStatus ?? a.errorCode ?? '-'),
      el('td', { class: 'wide' }, a.durationMs),
      el(
        'td',
        {},
        el(
          'button',
          {
            class: 'history',
            title: 'show every attempt of this event',
            onclick: () => showHistory(a.eventId).catch(report),
          },
          a.eventId.slice(0, 8),
        ),
      ),
    ),
  );
  if (more) $('deliveries').append(...rows);
  else
    $('deliveries').replaceChildren(
      ...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'no attempts'))]),
    );
}

async function showHistory(eventId) {
  const body = await call(`/v1/events/${encodeURIComponent(eventId)}/attempts`);
  const items = itemsOf(body) || [];
  $('history-event').textContent = eventId;
  $('event-history').classList.remove('hidden');
  $('history').replaceChildren(
    ...items.map((a) =>
      el(
        'tr',
        {},
        el('td', { class: 'wide' }, when(a.startedAt)),
        el('td', {}, a.route),
        el('td', {}, a.attempt),
        el('td', {}, el('span', { class: `badge ${outcomeClass(a.outcome)}` }, a.outcome)),
        el('td', {}, a.httpStatus ?? a.errorCode ?? '-'),
        el('td', { class: 'wide' }, a.durationMs),
        el(
          'td',
          { class: 'err', title: `${a.error || ''}\n${a.response || ''}` },
          [a.error, a.response].filter(Boolean).join(' — '),
        ),
      ),
    ),
  );
}

function progressOf(run) {
  const p = run.progress || {};
  const total = p.rowsTotal ?? p.total;
  const done = p.rowsDone ?? p.done;
  if (typeof total !== 'number' || typeof done !== 'number') return null;
  const pct = total > 0 ? Math.min(100, (done / total) * 100) : 100;
  const bar = el(
    'div',
    { class: 'bar', title: `${done} of ${total}` },
    el('div', { style: `width:${pct.toFixed(1)}%` }),
  );
  const pages =
    typeof p.pagesStarted === 'number'
      ? `, pages ${p.pagesFinished}/${p.pagesStarted}${p.pagesSlow ? `, ${p.pagesSlow} slow` : ''}`
      : '';
  return el(
    'div',
    {},
    bar,
    el('div', { class: 'muted' }, `${fmt(done)} / ${fmt(total)} rows (${pct.toFixed(0)}%)${pages}`),
  );
}

// Backfills in progress (from /v1/status): one progress bar each.
function renderBackfills(list) {
  $('backfills').replaceChildren(
    ...list.map((b) => {
      const pct = typeof b.percent === 'number' ? b.percent : null;
      const pages = b.pages
        ? `, pages ${b.pages.finished}/${b.pages.started}${b.pages.slow ? `, ${b.pages.slow} slow` : ''}`
        : '';
      return el(
        'div',
        { class: 'backfill', style: 'margin-bottom:10px' },
        el(
          'div',
          {},
          `backfill ${b.table} → ${b.route} `,
          el('span', { class: `badge ${b.status === 'running' ? 'warn' : 'bad'}` }, b.status),
        ),
        el('div', { class: 'bar' }, el('div', { style: `width:${pct ?? 0}%` })),
        el(
          'div',
          { class: 'muted' },
          `${fmt(b.rowsDone)} / ${b.rowsTotal === null ? '?' : fmt(b.rowsTotal)} rows${pct === null ? '' : ` (${pct}%)`}${pages}`,
        ),
      );
    }),
  );
}

function renderProcesses(body) {
  const items = itemsOf(body, 'processes');
  if (items === null)
    return $('processes').replaceChildren(
      el('p', { class: 'muted' }, 'not available (no planner in this build)'),
    );
  if (!items.length)
    return $('processes').replaceChildren(el('p', { class: 'muted' }, 'no processes registered'));
  $('processes').replaceChildren(
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['name', 'kind', 'schedule', 'priority', 'next due', 'expected', 'last run'].map((h) =>
            el('th', { class: ['kind', 'schedule', 'next due', 'expected'].includes(h) ? 'wide' : '' }, h),
          ),
        ),
      ),
      el(
        'tbody',
        {},
        ...items.map((p) =>
          el(
            'tr',
            {},
            el(
              'td',
              {},
              p.name,
              p.alarmed ? el('span', { class: 'badge bad', style: 'margin-left:6px' }, 'alarm') : '',
              p.enabled === false
                ? el('span', { class: 'badge muted', style: 'margin-left:6px' }, 'disabled')
                : '',
            ),
            el('td', { class: 'wide' }, p.kind ?? '-'),
            el(
              'td',
              { class: 'wide' },
              p.schedule ? p.schedule + (p.timeZone && p.timeZone !== 'UTC' ? ` (${p.timeZone})` : '') : '-',
            ),
            el('td', {}, p.priority ?? '-'),
            el('td', { class: 'wide' }, when(p.nextDueAt)),
            el(
              'td',
              { class: 'wide', title: 'p90 of its recent successful runs' },
              p.durations && p.durations.p90Ms !== null
                ? `${Math.max(1, Math.round(p.durations.p90Ms / 60000))} min`
                : '-',
            ),
            el('td', {}, p.lastRun ? p.lastRun.status : '-'),
          ),
        ),
      ),
    ),
  );
}

function renderRuns(body) {
  const items = itemsOf(body, 'runs');
  if (items === null)
    return $('runs').replaceChildren(el('p', { class: 'muted' }, 'not available (no planner in this build)'));
  if (!items.length) return $('runs').replaceChildren(el('p', { class: 'muted' }, 'no runs yet'));
  const cls = (s) => (s === 'succeeded' ? 'ok' : s === 'failed' ? 'bad' : s === 'running' ? 'warn' : 'muted');
  $('runs').replaceChildren(
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['process', 'status', 'started', 'progress'].map((h) =>
            el('th', { class: h === 'started' ? 'wide' : '' }, h),
          ),
        ),
      ),
      el(
        'tbody',
        {},
        ...items
          .slice(0, 20)
          .map((r) =>
            el(
              'tr',
              {},
              el('td', {}, r.process ?? r.name ?? '-'),
              el('td', {}, el('span', { class: `badge ${cls(r.status)}` }, r.status ?? '-')),
              el('td', { class: 'wide' }, when(r.startedAt)),
              el('td', {}, progressOf(r) || (r.error ? el('span', { class: 'bad' }, r.error) : '-')),
            ),
          ),
      ),
    ),
  );
}

function report(err) {
  if (err instanceof Unauthorized) {
    sessionStorage.removeItem(KEY);
    return showLogin('That key was not accepted.');
  }
  $('live').className = 'dot down';
  $('updated').textContent = `error: ${err.message}`;
}

async function refresh() {
  clearTimeout(timer);
  try {
    const [status, dead, processes, runs] = await Promise.all([
      call('/v1/status'),
      call('/v1/dead-letters?limit=100'),
      call('/v1/processes'),
      call('/v1/runs'),
    ]);
    showApp();
    if (status) renderStatus(status);
    renderDeadLetters(dead);
    renderProcesses(processes);
    renderRuns(runs);
    $('live').className = 'dot live';
    $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    if (!deliveries.loaded) {
      deliveries.loaded = true;
      await searchDeliveries(false);
    }
    document.body.dataset.loaded = 'true';
  } catch (err) {
    report(err);
    if (err instanceof Unauthorized) return;
  }
  timer = setTimeout(refresh, 2000);
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $('key').value.trim());
  $('key').value = '';
  refresh();
});
$('limit-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const n = Number($('limit').value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    return toast('the slot limit is a whole number from 1 to 1000');
  setLimit(n).catch((err) => (err instanceof Unauthorized ? report(err) : toast(err.message)));
});
$('deliveries-form').addEventListener('submit', (e) => {
  e.preventDefault();
  searchDeliveries(false).catch((err) => (err instanceof Unauthorized ? report(err) : toast(err.message)));
});
$('deliveries-more').addEventListener('click', () =>
  searchDeliveries(true).catch((err) => (err instanceof Unauthorized ? report(err) : toast(err.message))),
);
$('signout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  showLogin();
});
window.addEventListener('resize', drawChart);
// The interactive API viewer (public unless SLUICE_PUBLIC_ENDPOINTS closes it).
$('docs').addEventListener('click', () => window.open('/docs', '_blank', 'noopener'));
if (sessionStorage.getItem(KEY)) refresh();
else showLogin();
