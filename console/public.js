// The city's public figures for a period, in the city's own terms, with
// charts and the league table of units (units under the minimum sample are
// listed, not ranked).
import { t, num, pct, day, todayHanoi, getLang } from './fmt.js';
import { h, field, notice, errorText, heading } from './ui.js';
import { get } from './api.js';
import { hbars } from './charts.js';

export async function stats(main) {
  main.append(heading(t('stats.title')));
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const from = params.get('from') || `${todayHanoi().slice(0, 7)}-01`;
  const to = params.get('to') || todayHanoi(1);
  const fromIn = h('input', { type: 'date', name: 'from', value: from, required: true });
  const toIn = h('input', { type: 'date', name: 'to', value: to, required: true });
  const form = h('form', { class: 'filters row' }, field(t('stats.from'), fromIn), field(t('stats.to'), toIn, t('stats.to_hint')),
    h('button', { type: 'submit' }, t('stats.show')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/stats?from=${fromIn.value}&to=${toIn.value}`;
  });
  main.append(form);
  const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  // Both requests at once: the city's figures and every unit's.
  const [city, units] = await Promise.all([
    get(`/v1/stats?${q}`).then((r) => r.body),
    get(`/v1/stats/units?${q}`).then((r) => r.body).catch((e) => ({ error: e })),
  ]);
  main.append(h('p', { class: 'period' }, t('stats.period', { from: day(city.from), to: day(city.to) })));
  main.append(h('p', { class: 'headline', 'data-total': city.total }, t('stats.sentence', {
    total: num(city.total), field: num(city.by_kind.field), procedure: num(city.by_kind.procedure),
    resolved: num(city.resolved), on_time: pct(city.on_time_rate),
  })));
  const tile = (k, v) => h('div', { class: 'tile' }, h('span', { class: 'tile-value' }, v), h('span', { class: 'tile-label' }, t(k)));
  main.append(h('div', { class: 'tiles' },
    tile('stats.received', num(city.total)), tile('stats.field', num(city.by_kind.field)),
    tile('stats.procedure', num(city.by_kind.procedure)), tile('stats.resolved', num(city.resolved)),
    tile('stats.on_time', pct(city.on_time_rate)), tile('stats.late', pct(city.late_rate)),
    tile('stats.overdue_open', num(city.overdue_open)), tile('stats.rejected', num(city.rejected))));
  const charts = h('div', { class: 'charts' });
  charts.append(hbars(t('stats.chart_kinds'), [
    { label: t('stats.field'), value: city.by_kind.field },
    { label: t('stats.procedure'), value: city.by_kind.procedure },
  ], { fmt: (x) => num(x) }));
  charts.append(hbars(t('stats.chart_resolved'), [
    { label: t('stats.on_time_n'), value: city.resolved_on_time, cls: 'bar-green' },
    { label: t('stats.late_n'), value: city.resolved_late, cls: 'bar-red' },
  ], { fmt: (x) => num(x) }));
  main.append(charts);
  main.append(h('h2', {}, t('stats.league')));
  if (units.error) {
    main.append(notice('error', errorText(units.error)));
    return;
  }
  const name = (u) => (getLang() === 'vi' ? u.name_vi : u.name_en);
  const min = units.min_resolved_for_ranking;
  const ranked = units.items.filter((u) => u.rank != null);
  const unranked = units.items.filter((u) => u.rank == null && (u.total > 0 || (u.overdue_open || 0) > 0));
  const silent = units.items.length - ranked.length - unranked.length;
  if (ranked.length) {
    main.append(hbars(t('stats.chart_units'), ranked.slice(0, 15).map((u) => ({ label: name(u), value: u.on_time_rate })), { fmt: pct, max: 1 }));
  }
  const table = (rows, withRank) => h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('list.scroll') }, h('table', {},
    h('thead', {}, h('tr', {}, withRank ? h('th', { scope: 'col' }, t('sc.rank')) : null,
      ['sc.unit', 'sc.received', 'sc.resolved', 'sc.on_time', 'sc.overdue_open'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, rows.map((u) => h('tr', { 'data-unit': u.unit },
      withRank ? h('td', {}, num(u.rank)) : null,
      h('td', {}, name(u)), h('td', {}, num(u.total)), h('td', {}, num(u.resolved)),
      h('td', {}, pct(u.on_time_rate)), h('td', {}, num(u.overdue_open)))))));
  main.append(ranked.length ? table(ranked, true) : notice('info', t('stats.none_ranked', { n: min })));
  if (unranked.length) {
    main.append(h('h3', {}, t('stats.unranked', { n: min })), table(unranked, false));
  }
  if (silent > 0) main.append(h('p', { class: 'muted' }, t('stats.silent', { n: num(silent) })));
}
