// Citizens (and hotline operators): submit a report, my reports, track a
// case by its code.
import { t, tOr, getLang, dateTime, unitName } from './fmt.js';
import { h, field, select, notice, errorText, formData, statusTag, heading } from './ui.js';
import { get, post, once, uploadFile } from './api.js';
import { session } from './auth.js';

function catName(c) { return getLang() === 'vi' ? c.name_vi : c.name_en; }

export async function report(main) {
  const s = session();
  const operator = s && s.role === 'operator';
  main.append(heading(t(operator ? 'report.title_caller' : 'report.title')));
  const [cats, units] = await Promise.all([once('/v1/categories'), once('/v1/units')]);
  const wards = units.items.filter((u) => u.type === 'ward' || u.type === 'commune')
    .sort((a, b) => a.name_vi.localeCompare(b.name_vi, 'vi'));
  const msg = h('div', { class: 'msg' });
  const lat = h('input', { name: 'lat', inputmode: 'decimal', required: true, placeholder: '21.0285' });
  const lng = h('input', { name: 'lng', inputmode: 'decimal', required: true, placeholder: '105.8542' });
  const geoStatus = h('span', { class: 'hint', role: 'status' });
  const geo = h('button', {
    type: 'button', class: 'secondary',
    onclick: () => {
      if (!navigator.geolocation) { geoStatus.textContent = t('report.geo_none'); return; }
      geoStatus.textContent = t('report.geo_wait');
      navigator.geolocation.getCurrentPosition((p) => {
        lat.value = p.coords.latitude.toFixed(6);
        lng.value = p.coords.longitude.toFixed(6);
        geoStatus.textContent = t('report.geo_ok');
      }, () => { geoStatus.textContent = t('report.geo_failed'); }, { timeout: 10000 });
    },
  }, t('report.geo'));
  const idem = crypto.randomUUID();
  const form = h('form', { class: 'card' },
    field(t('report.category'), select('category', cats.items.map((c) => [c.code, catName(c)]), 'lighting')),
    field(t('report.title_field'), h('input', { name: 'title', required: true, maxlength: 200 })),
    field(t('report.description'), h('textarea', { name: 'description', required: true, rows: 4, maxlength: 5000 })),
    field(t('report.urgency'), select('urgency', ['normal', 'urgent', 'complex'].map((u) => [u, t(`urgency.${u}`)]), 'normal'), t('report.urgency_hint')),
    h('fieldset', {}, h('legend', {}, t('report.location')),
      h('div', { class: 'row' }, geo, geoStatus),
      h('div', { class: 'row' }, field(t('report.lat'), lat), field(t('report.lng'), lng)),
      field(t('report.ward'), select('ward_code', [['', t('report.ward_none')], ...wards.map((u) => [u.code.slice(5), unitName(u)])], '')),
      field(t('report.address'), h('input', { name: 'address', maxlength: 300, autocomplete: 'street-address' }))),
    field(t('report.photos'), h('input', { name: 'photos', type: 'file', multiple: true,
      accept: 'image/jpeg,image/png,image/heic,video/mp4' }), t('report.photos_hint')),
    h('fieldset', {}, h('legend', {}, t('report.contact')),
      field(t('report.name'), h('input', { name: 'name', autocomplete: 'name', maxlength: 200 })),
      field(t('report.phone'), h('input', { name: 'phone', type: 'tel', autocomplete: 'tel', maxlength: 32 })),
      field(t('report.email'), h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: 200 }))),
    h('button', { type: 'submit' }, t('report.send')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = formData(form);
    const cat = cats.items.find((c) => c.code === f.category);
    const body = {
      kind: cat ? cat.kind : 'field',
      category: f.category,
      title: f.title || '',
      description: f.description || '',
      urgency: f.urgency,
      location: {
        lat: Number(String(f.lat || '').replace(',', '.')),
        lng: Number(String(f.lng || '').replace(',', '.')),
        ward_code: f.ward_code || null,
        address: f.address || null,
      },
    };
    if (f.name || f.phone || f.email) body.contact = { name: f.name || null, phone: f.phone || null, email: f.email || null };
    if (operator) body.channel = 'hotline';
    try {
      // Each file goes straight to storage on its own slot; the report names them.
      const files = Array.from(form.querySelector('input[name=photos]').files || []);
      if (files.length) {
        msg.replaceChildren(notice('info', t('report.uploading', { n: files.length })));
        body.media = [];
        for (const f of files) body.media.push({ upload: await uploadFile(f) });
      }
      const r = await post('/v1/cases', body, { headers: { 'Idempotency-Key': idem } });
      const n = r.body.notice;
      msg.replaceChildren(notice('success', t('report.sent', { code: r.body.tracking_code }),
        h('span', {}, ' ', h('a', { href: `#/case/${r.body.id}` }, t('report.open')))));
      if (n) msg.append(notice('info', getLang() === 'vi' ? n.message_vi : n.message));
      form.reset();
      msg.querySelector('.notice').focus?.();
    } catch (e) {
      msg.replaceChildren(notice('error', errorText(e)));
    }
  });
  main.append(msg, form);
}

export async function mine(main) {
  const s = session();
  main.append(heading(t(s && s.role === 'operator' ? 'mine.title_entered' : 'mine.title')));
  const r = await get('/v1/cases?mine=true&limit=50');
  if (!r.body.items.length) {
    main.append(notice('info', t('mine.empty')), h('p', {}, h('a', { href: '#/report' }, t('nav.report'))));
    return;
  }
  main.append(caseTable(r.body.items, false));
}

/** A list of cases as a table (each title links to its page). */
export function caseTable(items, withBadge, badge) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('list.scroll') }, h('table', {},
    h('caption', { class: 'sr-only' }, t('list.caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('col.case')),
      h('th', { scope: 'col' }, t('col.status')),
      withBadge ? h('th', { scope: 'col' }, t('col.deadline')) : null,
      h('th', { scope: 'col' }, t('col.received')))),
    h('tbody', {}, items.map((c) => h('tr', { 'data-id': c.id },
      h('td', {}, h('a', { href: `#/case/${c.id}` }, c.title), h('br'), h('small', { class: 'code' }, c.tracking_code)),
      h('td', {}, statusTag(c.status)),
      withBadge ? h('td', {}, badge(c), h('br'), h('small', {}, dateTime(c.due ?? c.resolve_due))) : null,
      h('td', {}, dateTime(c.received_at)))))));
}

export async function track(main, code) {
  main.append(heading(t('track.title')));
  const input = h('input', { name: 'code', required: true, value: code || '', placeholder: 'HN-26-7K3QX-9MPTR', autocapitalize: 'characters' });
  const out = h('div', { class: 'msg' });
  const form = h('form', { class: 'card row-form' }, field(t('track.code'), input), h('button', { type: 'submit' }, t('track.find')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/track/${encodeURIComponent(input.value.trim())}`;
  });
  main.append(form, out);
  if (!code) return;
  try {
    const c = (await get(`/v1/track/${encodeURIComponent(code)}`)).body;
    out.replaceChildren(h('section', { class: 'card' },
      h('h2', {}, c.title),
      h('p', {}, statusTag(c.status), ' ', h('span', { class: 'code' }, c.tracking_code)),
      h('dl', {},
        h('dt', {}, t('case.unit')), h('dd', {}, c.unit_name || c.unit || '–'),
        h('dt', {}, t('case.received')), h('dd', {}, dateTime(c.received_at)),
        h('dt', {}, t('case.resolve_due')), h('dd', {}, dateTime(c.resolve_due)),
        c.answer ? [h('dt', {}, t('case.answer')), h('dd', {}, c.answer)] : null),
      timeline(c.timeline.map((e) => ({ at: e.at, action: e.action, role: e.actor_role, text: e.text, unit: e.unit })))));
  } catch (e) {
    out.replaceChildren(notice('error', errorText(e)));
  }
}

/** A timeline: [{at, action, role, text, unit}] oldest first. */
export function timeline(events) {
  return h('section', { class: 'timeline-wrap' }, h('h2', {}, t('case.timeline')),
    h('ol', { class: 'timeline' }, events.map((e) => h('li', {},
      h('time', { datetime: e.at }, dateTime(e.at)), ' ',
      h('strong', {}, tOr(`action.${e.action}`, e.action)),
      e.role ? h('span', { class: 'muted' }, ` · ${tOr(`role.${e.role}`, e.role)}`) : null,
      e.unit ? h('span', { class: 'muted' }, ` · ${e.unit}`) : null,
      e.text ? h('p', {}, e.text) : null))));
}
