// Home Affairs inspectors (and unit admins for their own unit):
// inspections by status and reason, the evidence page with findings and
// closing; every unit's scorecard with charts and the CSV download.
import { t, tOr, dateTime, num, pct, todayHanoi, getLang } from './fmt.js';
import { h, field, select, notice, formData, heading, showError, statusTag } from './ui.js';
import { get, post, api } from './api.js';
import { session } from './auth.js';
import { timeline } from './citizen.js';
import { hbars, vbars } from './charts.js';

const STATUSES = ['open', 'answered', 'closed'];
const REASONS = ['overdue', 'empty_roster', 'low_on_time_rate', 'registration_below_target'];
const FINDINGS = ['justified_delay', 'unit_at_fault', 'official_at_fault'];

export async function inspections(main) {
  main.append(heading(t('insp.title')));
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const status = select('status', [['', t('insp.any_status')], ...STATUSES.map((x) => [x, t(`insp.status.${x}`)])], params.get('status') || 'open');
  const reason = select('reason', [['', t('insp.any_reason')], ...REASONS.map((x) => [x, t(`insp.reason.${x}`)])], params.get('reason') || '');
  const list = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    const q = new URLSearchParams({ limit: '100' });
    if (status.value) q.set('status', status.value);
    if (reason.value) q.set('reason', reason.value);
    const s = session();
    if (s.role === 'unit_admin') q.set('unit', s.unit);
    try {
      const r = await get(`/v1/inspections?${q}`);
      const items = r.body.items;
      list.replaceChildren(items.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('list.scroll') }, h('table', {},
        h('thead', {}, h('tr', {}, ['insp.col.id', 'insp.col.unit', 'insp.col.reason', 'insp.col.status', 'insp.col.opened'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, items.map((i) => h('tr', {},
          h('td', {}, h('a', { href: `#/inspection/${encodeURIComponent(i.id)}` }, i.id)),
          h('td', {}, i.unit), h('td', {}, tOr(`insp.reason.${i.reason}`, i.reason)),
          h('td', {}, tOr(`insp.status.${i.status}`, i.status)), h('td', {}, dateTime(i.opened_at)))))))
        : notice('info', t('insp.empty')));
    } catch (e) { showError(list, e); }
  };
  const filters = h('form', { class: 'filters row', role: 'search' }, field(t('insp.status'), status), field(t('insp.reason'), reason));
  status.addEventListener('change', load);
  reason.addEventListener('change', load);
  filters.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  main.append(filters, list);
  await load();
}

/** The evidence page: the inspection, its case and timeline, holds, the
 * notifications sent and when, the roster; findings, the answer, closing. */
export async function inspection(main, id) {
  const s = session();
  const r = await get(`/v1/inspections/${encodeURIComponent(id)}`);
  const v = r.body;
  const i = v.inspection;
  main.append(heading(t('insp.page', { id: i.id })));
  main.append(h('section', { class: 'card' }, h('dl', { class: 'grid' },
    h('dt', {}, t('insp.col.unit')), h('dd', {}, i.unit),
    h('dt', {}, t('insp.col.reason')), h('dd', {}, tOr(`insp.reason.${i.reason}`, i.reason)),
    h('dt', {}, t('insp.col.status')), h('dd', { 'data-status': i.status }, tOr(`insp.status.${i.status}`, i.status)),
    h('dt', {}, t('insp.col.opened')), h('dd', {}, dateTime(i.opened_at)),
    i.closed_at ? [h('dt', {}, t('insp.closed_at')), h('dd', {}, dateTime(i.closed_at))] : null,
    i.unit_answer ? [h('dt', {}, t('insp.unit_answer')), h('dd', {}, i.unit_answer)] : null)));
  if (v.case) {
    const c = v.case;
    main.append(h('section', { class: 'card' }, h('h2', {}, t('insp.case')),
      h('p', {}, h('a', { href: `#/case/${c.id}` }, c.title), ' ', statusTag(c.status), ' ', h('span', { class: 'code' }, c.tracking_code)),
      h('dl', { class: 'grid' },
        h('dt', {}, t('case.received')), h('dd', {}, dateTime(c.received_at)),
        h('dt', {}, t('case.resolve_due')), h('dd', {}, dateTime(c.resolve_due))),
      h('h3', {}, t('insp.holds')),
      (c.holds || []).length ? h('ul', {}, c.holds.map((x) => h('li', {}, `${x.unit}: ${dateTime(x.from)} → ${dateTime(x.to)} (${x.working_hours == null ? '–' : num(x.working_hours, 1)} ${t('insp.wh')})`)))
        : h('p', {}, '–')),
    timeline(c.timeline.map((e) => ({
      at: e.at, action: e.action, role: e.actor && e.actor.startsWith('system') ? 'system' : e.actor_role, text: e.text, unit: e.unit,
    }))));
  }
  main.append(h('section', { class: 'card' }, h('h2', {}, t('insp.notifications')),
    v.notifications.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('list.scroll') }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('insp.event')), h('th', { scope: 'col' }, t('insp.decided')), h('th', { scope: 'col' }, t('insp.published')))),
      h('tbody', {}, v.notifications.map((n) => h('tr', {}, h('td', {}, n.event), h('td', {}, dateTime(n.decided_at)), h('td', {}, dateTime(n.published_at)))))))
      : h('p', {}, t('insp.no_notifications'))));
  main.append(h('section', { class: 'card' }, h('h2', {}, t('unit.roster')),
    v.roster.officials.length ? h('ul', {}, v.roster.officials.map((o) => h('li', {}, `${o.name} (${o.sub})${o.title ? ` — ${o.title}` : ''}`)))
      : notice('info', t('unit.roster_empty'))));
  const findings = h('section', { class: 'card findings' }, h('h2', {}, t('insp.findings')),
    (i.findings || []).length ? h('ul', {}, i.findings.map((f) => h('li', {}, h('strong', {}, tOr(`finding.${f.kind}`, f.kind)), ` — ${f.text} (${dateTime(f.at)})`)))
      : h('p', {}, t('insp.no_findings')));
  main.append(findings);
  const etag = r.etag;
  const reload = () => window.dispatchEvent(new Event('hashchange'));
  const inspectorRole = s.role === 'inspector' || s.role === 'admin';
  if (inspectorRole && i.status !== 'closed') {
    const msg = h('div', { class: 'msg' });
    const officials = h('input', { name: 'officials' });
    const form = h('form', { class: 'card', 'data-action': 'finding' }, h('h2', {}, t('insp.add_finding')),
      field(t('insp.finding_kind'), select('kind', FINDINGS.map((k) => [k, t(`finding.${k}`)]), 'unit_at_fault')),
      field(t('insp.finding_officials'), officials, t('insp.finding_officials_hint')),
      field(t('insp.finding_text'), h('textarea', { name: 'text', rows: 3, required: true })),
      h('button', { type: 'submit' }, t('insp.record')), msg);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = formData(form);
      try {
        await post(`/v1/inspections/${encodeURIComponent(i.id)}/findings`,
          { kind: f.kind, officials: (f.officials || '').split(/[\s,]+/).filter(Boolean), text: f.text || '' }, { etag });
        reload();
      } catch (e) { showError(msg, e); }
    });
    const closeMsg = h('div', { class: 'msg' });
    const close = h('button', {
      type: 'button', class: 'secondary',
      onclick: async () => {
        try { await post(`/v1/inspections/${encodeURIComponent(i.id)}/close`, {}, { etag }); reload(); } catch (e) { showError(closeMsg, e); }
      },
    }, t('insp.close'));
    main.append(form, h('div', { class: 'card' }, close, closeMsg));
  }
  if (s.role === 'unit_admin' && i.status === 'open') {
    const msg = h('div', { class: 'msg' });
    const form = h('form', { class: 'card' }, h('h2', {}, t('insp.answer')),
      field(t('insp.answer_text'), h('textarea', { name: 'text', rows: 3, required: true })), h('button', { type: 'submit' }, t('insp.send_answer')), msg);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await post(`/v1/inspections/${encodeURIComponent(i.id)}/answer`, { text: formData(form).text || '' }, { etag }); reload(); } catch (e) { showError(msg, e); }
    });
    main.append(form);
  }
}

function monthsBack(n) {
  const [y, m] = todayHanoi().split('-').map(Number);
  const out = [];
  for (let k = n - 1; k >= 0; k -= 1) {
    const d = new Date(Date.UTC(y, m - 1 - k, 1));
    const e = new Date(Date.UTC(y, m - k, 1));
    out.push([d.toISOString().slice(0, 10), e.toISOString().slice(0, 10), d.toISOString().slice(0, 7)]);
  }
  return out;
}

/** Every unit's scorecard for a month or a year, charts, the CSV. */
export async function scorecards(main) {
  main.append(heading(t('sc.title')));
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const period = params.get('period') || todayHanoi().slice(0, 7);
  const input = h('input', { name: 'period', value: period, pattern: '\\d{4}(-\\d{2})?', required: true });
  const form = h('form', { class: 'filters row' }, field(t('sc.period'), input, t('sc.period_hint')), h('button', { type: 'submit' }, t('sc.show')));
  form.addEventListener('submit', (e) => { e.preventDefault(); location.hash = `#/scorecards?period=${encodeURIComponent(input.value.trim())}`; });
  const msg = h('div', { class: 'msg' });
  const csv = h('button', {
    type: 'button', class: 'secondary',
    onclick: async () => {
      try {
        const res = await api('GET', `/v1/scorecards.csv?period=${encodeURIComponent(period)}`, { raw: true, headers: { Accept: 'text/csv' } });
        const url = URL.createObjectURL(await res.blob());
        const a = h('a', { href: url, download: `pakn-scorecards-${period}.csv` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 5000);
      } catch (e) { showError(msg, e); }
    },
  }, t('sc.csv'));
  main.append(form, h('p', {}, csv), msg);
  const r = await get(`/v1/scorecards?period=${encodeURIComponent(period)}`);
  const items = r.body.items;
  const name = (c) => (getLang() === 'vi' ? c.name_vi : c.name_en);
  const busiest = [...items].sort((a, b) => b.received - a.received).slice(0, 12);
  const charts = h('div', { class: 'charts' });
  main.append(charts);
  // On-time % by month, city-wide: one request per month, in parallel.
  const months = monthsBack(6);
  const monthly = await Promise.all(months.map(([from, to]) => get(`/v1/stats?from=${from}&to=${to}`).then((x) => x.body).catch(() => null)));
  charts.append(vbars(t('sc.chart_month'), months.map(([, , label], k) => ({ label, value: monthly[k] ? monthly[k].on_time_rate : null })), { fmt: pct, max: 1 }));
  const overdue = [...items].filter((c) => (c.overdue_open || 0) > 0).sort((a, b) => b.overdue_open - a.overdue_open).slice(0, 12);
  charts.append(overdue.length ? hbars(t('sc.chart_overdue'), overdue.map((c) => ({ label: name(c), value: c.overdue_open, cls: 'bar-red' })), { fmt: (x) => num(x) })
    : h('p', {}, t('sc.no_overdue')));
  const timed = busiest.filter((c) => c.median_hours != null);
  if (timed.length) {
    charts.append(hbars(t('sc.chart_median'), timed.map((c) => ({ label: name(c), value: c.median_hours })), { fmt: (x) => num(x, 1) }),
      hbars(t('sc.chart_p90'), timed.map((c) => ({ label: name(c), value: c.p90_hours, cls: 'bar-alt' })), { fmt: (x) => num(x, 1) }));
  }
  main.append(h('h2', {}, t('sc.table')), h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('list.scroll') }, h('table', {},
    h('thead', {}, h('tr', {}, ['sc.rank', 'sc.unit', 'sc.received', 'sc.resolved', 'sc.on_time', 'sc.overdue_open', 'sc.median', 'sc.p90', 'sc.roster']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, [...items].sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9) || b.received - a.received).map((c) => h('tr', {},
      h('td', {}, c.rank == null ? '–' : num(c.rank)), h('td', {}, name(c)), h('td', {}, num(c.received)), h('td', {}, num(c.resolved)),
      h('td', {}, pct(c.on_time_rate)), h('td', {}, num(c.overdue_open)), h('td', {}, c.median_hours == null ? '–' : num(c.median_hours, 1)),
      h('td', {}, c.p90_hours == null ? '–' : num(c.p90_hours, 1)), h('td', {}, c.roster_missing ? t('sc.roster_missing') : num(c.roster_size))))))));
}
