// Staff screens: the unit's queue, the case page (every role's actions),
// triage, and the unit's roster, headcount and scorecard.
import { t, getLang, dateTime, num, pct, unitName, todayHanoi } from './fmt.js';
import { h, field, select, notice, errorText, formData, statusTag, dueBadge, heading, showError } from './ui.js';
import { get, post, put, once } from './api.js';
import { session } from './auth.js';
import { caseTable, timeline } from './citizen.js';

const OPEN = ['received', 'triage', 'assigned', 'in_progress', 'awaiting_info'];
const REJECT_REASONS = ['not_city_matter', 'duplicate', 'insufficient_info', 'not_in_jurisdiction', 'under_court_proceedings', 'abusive'];

/** Calendar order by deadline: only for a server that does not sort by due. */
function byDue(a, b) {
  const key = (c) => (c.resolve_due ? Date.parse(c.resolve_due) : Infinity);
  return key(a) - key(b);
}

/** The unit's queue, what is due next first, with deadline badges. */
export async function queue(main) {
  const s = session();
  main.append(heading(t('queue.title', { unit: s.unit || '' })));
  // The first page of the queue is asked for at once, beside the categories.
  const first = get(`/v1/cases?${new URLSearchParams({ unit: s.unit, sort: 'due', limit: '100' })}`).catch(() => null);
  const cats = await once('/v1/categories');
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const status = h('select', { name: 'status' },
    h('option', { value: '' }, t('queue.all_open')),
    OPEN.map((st) => h('option', { value: st, selected: params.get('status') === st }, t(`status.${st}`))),
    ['resolved', 'rejected', 'closed'].map((st) => h('option', { value: st, selected: params.get('status') === st }, t(`status.${st}`))));
  const category = h('select', { name: 'category' }, h('option', { value: '' }, t('queue.all_categories')),
    cats.items.map((c) => h('option', { value: c.code, selected: params.get('category') === c.code }, getLang() === 'vi' ? c.name_vi : c.name_en)));
  const list = h('div', { 'aria-live': 'polite' });
  let prefetched = !status.value && !category.value ? first : null;
  const load = async () => {
    const q = new URLSearchParams({ unit: s.unit, sort: 'due', limit: '100' });
    if (status.value) q.set('status', status.value);
    if (category.value) q.set('category', category.value);
    try {
      const r = (prefetched && (await prefetched)) || (await get(`/v1/cases?${q}`));
      prefetched = null;
      let items = r.body.items;
      if (!status.value) items = items.filter((c) => OPEN.includes(c.status));
      // The API orders by what is due next (sort=due); a server without
      // it gives no working_hours_left, and the list is ordered here.
      if (items.length && items[0].working_hours_left === undefined) items = [...items].sort(byDue);
      list.replaceChildren(items.length ? caseTable(items, true, dueBadge) : notice('info', t('queue.empty')));
    } catch (e) {
      showError(list, e);
    }
  };
  const filters = h('form', { class: 'filters row', role: 'search' },
    field(t('queue.status'), status), field(t('queue.category'), category));
  status.addEventListener('change', load);
  category.addEventListener('change', load);
  filters.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  main.append(filters, h('p', { class: 'legend' },
    h('span', { class: 'badge badge-green' }, t('due.legend_green')), ' ',
    h('span', { class: 'badge badge-amber' }, t('due.legend_amber')), ' ',
    h('span', { class: 'badge badge-red' }, t('due.legend_red'))), list);
  await load();
}

/** Triage: cases no rule could route, and cases passed around. */
export async function triage(main) {
  main.append(heading(t('triage.title')));
  const r = await get('/v1/cases?status=triage&limit=100');
  const items = r.body.items;
  const passed = items.filter((c) => c.transfers >= 3);
  main.append(h('h2', {}, t('triage.unrouted')),
    items.length ? caseTable(items, true, dueBadge) : notice('info', t('triage.empty')),
    h('h2', {}, t('triage.passed')),
    passed.length ? caseTable(passed, true, dueBadge) : notice('info', t('triage.passed_empty')));
}

function actionForm(name, fields, submitLabel, onSubmit) {
  const msg = h('div', { class: 'msg' });
  const form = h('form', { class: 'action', 'data-action': name }, fields, h('button', { type: 'submit' }, submitLabel), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      await onSubmit(formData(form));
    } catch (e) {
      showError(msg, e);
    } finally {
      btn.disabled = false;
    }
  });
  return h('details', { class: 'card action-card' }, h('summary', {}, t(`act.${name}`)), form);
}

/** What `s` may do to a case in its status (the API decides; this only offers). */
function available(s, c) {
  const st = c.status;
  const unitRole = s.role === 'official' || s.role === 'unit_admin';
  const a = [];
  if (unitRole && c.unit === s.unit) {
    if (st === 'assigned') a.push('accept');
    if (['assigned', 'in_progress', 'awaiting_info'].includes(st)) a.push('note');
    if (st === 'in_progress') a.push('request_info', 'resolve');
    if (['assigned', 'in_progress'].includes(st)) a.push('transfer', 'reject');
    if (['assigned', 'in_progress', 'awaiting_info'].includes(st) && !c.extension) a.push('extend');
  }
  if ((s.role === 'triage' || s.role === 'admin') && st === 'triage') a.push('route');
  if (s.role === 'citizen' && c.submitted_by === s.sub) {
    if (st === 'awaiting_info') a.push('info');
    if (st === 'resolved') a.push('rate');
    if (st === 'resolved' || st === 'rejected') a.push('reopen');
  }
  return a;
}

/** The case page: details, timeline and the actions the caller may take. */
export async function casePage(main, id) {
  const s = session();
  // The case and the unit names at once (the names are cached per page load).
  const [r, unitList, cats] = await Promise.all([
    get(`/v1/cases/${encodeURIComponent(id)}`), once('/v1/units'), once('/v1/categories')]);
  const cat = cats.items.find((x) => x.code === r.body.category);
  const c = r.body;
  const etag = r.etag;
  const units = unitList.items;
  const unitOf = (code) => units.find((u) => u.code === code);
  main.append(heading(c.title));
  main.append(h('p', { class: 'meta' }, statusTag(c.status), ' ', dueBadge(c), ' ',
    h('span', { class: 'code' }, c.tracking_code)));
  main.append(h('section', { class: 'card' }, h('dl', { class: 'grid' },
    h('dt', {}, t('case.category')), h('dd', {}, cat ? (getLang() === 'vi' ? cat.name_vi : cat.name_en) : c.category),
    h('dt', {}, t('case.urgency')), h('dd', {}, t(`urgency.${c.urgency}`)),
    h('dt', {}, t('case.unit')), h('dd', {}, c.unit_name || unitName(unitOf(c.unit)) || '–'),
    h('dt', {}, t('case.received')), h('dd', {}, dateTime(c.received_at)),
    h('dt', {}, t('case.ack_due')), h('dd', {}, dateTime(c.ack_due)),
    h('dt', {}, t('case.resolve_due')), h('dd', {}, dateTime(c.resolve_due)),
    h('dt', {}, t('case.location')), h('dd', {}, `${c.location.lat}, ${c.location.lng}${c.location.address ? ` — ${c.location.address}` : ''}`),
    c.contact ? [h('dt', {}, t('case.contact')), h('dd', {}, [c.contact.name, c.contact.phone, c.contact.email].filter(Boolean).join(' · ') || '–')] : null,
    h('dt', {}, t('case.description')), h('dd', {}, c.description),
    (c.media_links || []).length ? [h('dt', {}, t('case.photos')), h('dd', {}, mediaList(c.media_links))] : null,
    c.open_question ? [h('dt', {}, t('case.question')), h('dd', { class: 'question' }, c.open_question)] : null,
    c.answer ? [h('dt', {}, t('case.answer')), h('dd', { class: 'answer' }, c.answer.text,
      (c.answer.evidence || []).filter((e) => !String(e).startsWith('upload:')).length
        ? h('ul', {}, c.answer.evidence.filter((e) => !String(e).startsWith('upload:')).map((e) => h('li', {}, String(e)))) : null,
      (c.evidence_links || []).length ? mediaList(c.evidence_links) : null)] : null,
    c.rating ? [h('dt', {}, t('case.rating')), h('dd', {}, `${c.rating.score}/5${c.rating.comment ? ` — ${c.rating.comment}` : ''}`)] : null)));

  const acts = available(s, c);
  const unitOptions = units.filter((u) => u.code !== c.unit).map((u) => [u.code, `${u.code} — ${unitName(u)}`]);
  // After an action the page is drawn again from the API with a message;
  // after a transfer or a routing the case is no longer this caller's to
  // read, so the list comes back instead.
  const done = (key, away) => async () => {
    sessionStorage.setItem('pakn.flash', t(key));
    const back = s.role === 'triage' ? '#/triage' : '#/queue';
    if (away && location.hash !== back) location.hash = back;
    else window.dispatchEvent(new Event('hashchange'));
  };
  const send = (name, body, key) => post(`/v1/cases/${c.id}/${name}`, body, { etag })
    .then(done(key, name === 'transfer' || name === 'route'));
  const textArea = (name, label, required = true) => field(label, h('textarea', { name, rows: 3, required, maxlength: 4000 }));
  const forms = {
    accept: () => actionForm('accept', [h('p', {}, t('act.accept_hint'))], t('act.accept'), () => send('accept', {}, 'done.accept')),
    note: () => actionForm('note', [textArea('text', t('act.note_text')),
      h('div', { class: 'check' }, h('input', { type: 'checkbox', name: 'public', value: 'true', id: 'note-public' }), h('label', { for: 'note-public' }, t('act.note_public')))],
    t('act.note'), (f) => send('note', { text: f.text || '', public: f.public === 'true' }, 'done.note')),
    request_info: () => actionForm('request_info', [textArea('question', t('act.question'))], t('act.request_info'),
      (f) => send('request_info', { question: f.question || '' }, 'done.request_info')),
    resolve: () => actionForm('resolve', [textArea('answer', t('act.answer')),
      field(t('act.evidence'), h('textarea', { name: 'evidence', rows: 2 }), t('act.evidence_hint'))], t('act.resolve'),
    (f) => send('resolve', { answer: f.answer || '', evidence: (f.evidence || '').split(/\s+/).filter(Boolean) }, 'done.resolve')),
    transfer: () => actionForm('transfer', [field(t('act.to_unit'), select('to_unit', unitOptions, '')), textArea('reason', t('act.reason'))],
      t('act.transfer'), (f) => send('transfer', { to_unit: f.to_unit, reason: f.reason || '' }, 'done.transfer')),
    reject: () => actionForm('reject', [field(t('act.reason_code'), select('reason_code', REJECT_REASONS.map((x) => [x, t(`reject.${x}`)]), 'not_city_matter')),
      textArea('answer', t('act.answer'))], t('act.reject'),
    (f) => send('reject', { reason_code: f.reason_code, answer: f.answer || '' }, 'done.reject')),
    extend: () => actionForm('extend', [field(t('act.working_days'), h('input', { name: 'working_days', type: 'number', min: 1, max: 5, value: 1, required: true })),
      textArea('reason', t('act.reason'))], t('act.extend'),
    (f) => send('extend', { working_days: Number(f.working_days), reason: f.reason || '' }, 'done.extend')),
    route: () => actionForm('route', [field(t('act.to_unit'), select('to_unit', unitOptions, ''))], t('act.route'),
      (f) => send('route', { to_unit: f.to_unit }, 'done.route')),
    info: () => actionForm('info', [textArea('text', t('act.info_text'))], t('act.info'), (f) => send('info', { text: f.text || '' }, 'done.info')),
    rate: () => actionForm('rate', [field(t('act.score'), select('score', [5, 4, 3, 2, 1].map((n) => [String(n), t(`score.${n}`)]), '5')),
      field(t('act.comment'), h('textarea', { name: 'comment', rows: 2, maxlength: 4000 }))], t('act.rate'),
    (f) => send('rate', { score: Number(f.score), comment: f.comment || null }, 'done.rate')),
    reopen: () => actionForm('reopen', [textArea('reason', t('act.reason'))], t('act.reopen'), (f) => send('reopen', { reason: f.reason || '' }, 'done.reopen')),
  };
  if (acts.length) {
    main.append(h('section', { class: 'actions', 'aria-label': t('act.title') }, h('h2', {}, t('act.title')), acts.map((a) => forms[a]())));
  }
  main.append(timeline(c.timeline.map((e) => ({
    at: e.at,
    action: e.action,
    // pakn's own steps (the router, the sweep) act as the system.
    role: e.actor && e.actor.startsWith('system') ? 'system' : e.actor_role,
    text: e.text,
    unit: e.unit,
  }))));
}

/** The unit's roster, headcount and scorecard (unit admins edit). */
export async function unitPage(main) {
  const s = session();
  const code = s.unit;
  main.append(heading(t('unit.title', { unit: code })));
  const canEdit = s.role === 'unit_admin' || s.role === 'admin';
  const month = todayHanoi().slice(0, 7);
  const [roster, head, card] = await Promise.all([
    get(`/v1/units/${code}/roster`).then((r) => r.body).catch((e) => ({ error: e })),
    get(`/v1/units/${code}/headcount`).then((r) => r.body).catch((e) => ({ error: e })),
    get(`/v1/units/${code}/scorecard?period=${month}`).then((r) => r.body).catch((e) => ({ error: e })),
  ]);
  // Roster
  const rosterSec = h('section', { class: 'card' }, h('h2', {}, t('unit.roster')));
  if (roster.error) rosterSec.append(notice('error', errorText(roster.error)));
  else {
    const rows = roster.officials.map((o) => `${o.sub} | ${o.name} | ${o.title || ''}`).join('\n');
    if (!roster.officials.length) rosterSec.append(notice('info', t('unit.roster_empty')));
    else {
      rosterSec.append(h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('list.scroll') }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('unit.sub')), h('th', { scope: 'col' }, t('unit.name')), h('th', { scope: 'col' }, t('unit.job')))),
        h('tbody', {}, roster.officials.map((o) => h('tr', {}, h('td', {}, o.sub), h('td', {}, o.name), h('td', {}, o.title || '')))))));
    }
    if (canEdit) {
      const msg = h('div', { class: 'msg' });
      const ta = h('textarea', { name: 'roster', rows: 5 });
      ta.value = rows;
      const form = h('form', {}, field(t('unit.roster_edit'), ta, t('unit.roster_hint')), h('button', { type: 'submit' }, t('unit.save')), msg);
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const officials = ta.value.split('\n').map((l) => l.split('|').map((x) => x.trim())).filter((p) => p[0])
          .map(([sub, name, title]) => ({ sub, name: name || sub, title: title || '' }));
        try {
          await put(`/v1/units/${code}/roster`, { officials });
          msg.replaceChildren(notice('success', t('unit.saved')));
        } catch (e) { showError(msg, e); }
      });
      rosterSec.append(form);
    }
  }
  // Headcount
  const headSec = h('section', { class: 'card' }, h('h2', {}, t('unit.headcount')));
  if (head.error) headSec.append(notice('error', errorText(head.error)));
  else {
    headSec.append(h('p', {}, t('unit.staff', { n: head.staff == null ? '–' : num(head.staff) })));
    if (canEdit) {
      const msg = h('div', { class: 'msg' });
      const input = h('input', { name: 'staff', type: 'number', min: 0, max: 1000000, value: head.staff ?? '' });
      const form = h('form', { class: 'row-form' }, field(t('unit.staff_label'), input), h('button', { type: 'submit' }, t('unit.save')), msg);
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try {
          await put(`/v1/units/${code}/headcount`, { staff: Number(input.value) });
          msg.replaceChildren(notice('success', t('unit.saved')));
        } catch (e) { showError(msg, e); }
      });
      headSec.append(form);
    }
  }
  // Scorecard
  const cardSec = h('section', { class: 'card' }, h('h2', {}, t('unit.scorecard', { period: month })));
  if (card.error) cardSec.append(notice('error', errorText(card.error)));
  else cardSec.append(scorecardList(card));
  main.append(rosterSec, headSec, cardSec);
}

/** One unit's scorecard as a definition list. */
export function scorecardList(c) {
  const row = (k, v) => [h('dt', {}, t(k)), h('dd', {}, v)];
  return h('dl', { class: 'grid' },
    row('sc.received', num(c.received)), row('sc.resolved', num(c.resolved)),
    row('sc.on_time', pct(c.on_time_rate)), row('sc.late', pct(c.late_rate)),
    row('sc.overdue_open', num(c.overdue_open)), row('sc.median', c.median_hours == null ? '–' : num(c.median_hours, 1)),
    row('sc.p90', c.p90_hours == null ? '–' : num(c.p90_hours, 1)), row('sc.transfers_out', num(c.transfers_out)),
    row('sc.reopens', num(c.reopens)), row('sc.roster', num(c.roster_size)),
    row('sc.satisfaction', c.satisfaction_avg == null ? '–' : num(c.satisfaction_avg, 2)));
}


/** Uploaded photos and videos: thumbnails linking to the cleaned file, or their state. */
function mediaList(links) {
  return h('ul', { class: 'media' }, links.map((m, i) => h('li', {},
    m.status === 'ready'
      ? h('a', { href: m.url, target: '_blank', rel: 'noopener' },
        m.thumbnail_url ? h('img', { src: m.thumbnail_url, alt: t('media.photo', { n: i + 1 }), loading: 'lazy' }) : t('media.file', { n: i + 1 }))
      : h('span', { class: 'hint', 'data-status': m.status }, t(`media.${m.status}`, { reason: m.reason || '' })))));
}
