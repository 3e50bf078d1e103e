// The console: a hash router (#/queue, #/case/<id>, …), the header with
// navigation per role, the language toggle and the sign-in page.
import { t, getLang, setLang } from './fmt.js';
import { h, field, select, notice, errorText, heading } from './ui.js';
import { session, signOut, devSignIn, hostedSignIn, completeHostedSignIn } from './auth.js';
import { get, once } from './api.js';
import * as citizen from './citizen.js';
import * as staff from './staff.js';
import * as inspector from './inspector.js';
import * as pub from './public.js';

const ROLES = ['citizen', 'operator', 'official', 'unit_admin', 'triage', 'inspector', 'admin'];

const NAV = {
  none: [['#/stats', 'nav.stats'], ['#/track', 'nav.track'], ['#/signin', 'nav.signin']],
  citizen: [['#/report', 'nav.report'], ['#/mine', 'nav.mine'], ['#/track', 'nav.track'], ['#/stats', 'nav.stats']],
  operator: [['#/report', 'nav.report_caller'], ['#/mine', 'nav.entered'], ['#/track', 'nav.track'], ['#/stats', 'nav.stats']],
  official: [['#/queue', 'nav.queue'], ['#/unit', 'nav.unit'], ['#/stats', 'nav.stats']],
  unit_admin: [['#/queue', 'nav.queue'], ['#/unit', 'nav.unit'], ['#/inspections', 'nav.inspections'], ['#/stats', 'nav.stats']],
  triage: [['#/triage', 'nav.triage'], ['#/stats', 'nav.stats']],
  inspector: [['#/inspections', 'nav.inspections'], ['#/scorecards', 'nav.scorecards'], ['#/stats', 'nav.stats']],
  admin: [['#/inspections', 'nav.inspections'], ['#/scorecards', 'nav.scorecards'], ['#/triage', 'nav.triage'], ['#/stats', 'nav.stats']],
};

const HOME = {
  citizen: '#/mine', operator: '#/report', official: '#/queue', unit_admin: '#/queue',
  triage: '#/triage', inspector: '#/inspections', admin: '#/inspections',
};

const ROUTES = [
  [/^#\/signin$/, () => signInPage],
  [/^#\/stats$/, () => pub.stats],
  [/^#\/track(?:\/(.+))?$/, () => citizen.track],
  [/^#\/report$/, () => citizen.report],
  [/^#\/mine$/, () => citizen.mine],
  [/^#\/case\/([0-9A-Za-z]+)$/, () => staff.casePage],
  [/^#\/queue$/, () => staff.queue],
  [/^#\/triage$/, () => staff.triage],
  [/^#\/unit$/, () => staff.unitPage],
  [/^#\/inspections$/, () => inspector.inspections],
  [/^#\/inspection\/(.+)$/, () => inspector.inspection],
  [/^#\/scorecards$/, () => inspector.scorecards],
];

let config = { dev_login: false, hosted_ui: null };

function header() {
  const s = session();
  const nav = h('ul', {}, (NAV[s ? s.role : 'none'] || NAV.none).map(([href, key]) =>
    h('li', {}, h('a', { href, 'aria-current': location.hash.startsWith(href) ? 'page' : null }, t(key)))));
  const who = s
    ? h('span', { class: 'who' }, `${t(`role.${s.role}`)} · ${s.sub}${s.unit ? ` · ${s.unit}` : ''}`,
      ' ', h('button', { type: 'button', class: 'link', onclick: () => { signOut(); location.hash = '#/signin'; render(); } }, t('nav.signout')))
    : null;
  const toggle = h('button', {
    type: 'button', class: 'lang', lang: getLang() === 'vi' ? 'en' : 'vi',
    'aria-label': t('lang.switch'),
    onclick: () => { setLang(getLang() === 'vi' ? 'en' : 'vi'); render(); },
  }, getLang() === 'vi' ? 'English' : 'Tiếng Việt');
  document.getElementById('top').replaceChildren(
    h('a', { href: '#/', class: 'brand' }, t('app.name')),
    h('nav', { 'aria-label': t('nav.label') }, nav),
    h('div', { class: 'tools' }, who, toggle),
  );
  document.title = `${t('app.name')} — ${t('app.tagline')}`;
}

async function signInPage(main) {
  main.append(heading(t('signin.title')));
  const msg = h('div', { class: 'msg' });
  main.append(msg);
  if (config.hosted_ui) {
    main.append(h('section', { class: 'card' },
      h('h2', {}, t('signin.hosted')),
      h('p', {}, t('signin.hosted_hint')),
      h('div', { class: 'row' },
        h('button', { type: 'button', onclick: () => hostedSignIn(config, 'citizen') }, t('signin.as_citizen')),
        h('button', { type: 'button', onclick: () => hostedSignIn(config, 'staff') }, t('signin.as_staff')))));
  }
  if (config.dev_login) {
    let units = [];
    try { units = (await once('/v1/units')).items; } catch (e) { msg.replaceChildren(notice('error', errorText(e))); }
    const unitSel = select('unit', [['', t('signin.no_unit')], ...units.map((u) => [u.code, `${u.code} — ${getLang() === 'vi' ? u.name_vi : u.name_en}`])], '');
    const role = select('role', ROLES.map((r) => [r, t(`role.${r}`)]), 'citizen');
    const sub = h('input', { name: 'sub', required: true, autocomplete: 'username', value: 'cong-dan-1', maxlength: 128 });
    const form = h('form', { class: 'card', novalidate: false },
      h('h2', {}, t('signin.dev')),
      h('p', {}, t('signin.dev_hint')),
      field(t('signin.role'), role),
      field(t('signin.sub'), sub),
      field(t('signin.unit'), unitSel, t('signin.unit_hint')),
      h('button', { type: 'submit' }, t('signin.submit')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const s = await devSignIn(role.value, sub.value.trim(), unitSel.value || null);
        location.hash = HOME[s.role] || '#/stats';
      } catch (e) {
        msg.replaceChildren(notice('error', errorText(e)));
      }
    });
    main.append(form);
  }
  if (!config.hosted_ui && !config.dev_login) main.append(notice('info', t('signin.none')));
}

async function render() {
  // The skip link (#main) is not a route: move focus, keep the page.
  if (location.hash && !location.hash.startsWith('#/')) {
    document.getElementById('main').focus();
    if (document.getElementById('main').hasAttribute('data-ready')) return;
    history.replaceState(null, '', location.pathname);
  }
  header();
  document.querySelector('.skip').textContent = t('skip');
  const main = document.getElementById('main');
  const s = session();
  let hash = location.hash || '#/';
  if (hash === '#/' || hash === '#') hash = s ? (HOME[s.role] || '#/stats') : '#/signin';
  const route = ROUTES.find(([re]) => re.test(hash));
  main.replaceChildren();
  main.setAttribute('aria-busy', 'true');
  if (!route) {
    main.append(heading(t('err.not_found_page')));
  } else {
    const args = hash.match(route[0]).slice(1).map((x) => (x ? decodeURIComponent(x) : x));
    try {
      await route[1]()(main, ...args);
    } catch (e) {
      main.append(notice('error', errorText(e)));
    }
  }
  // The outcome of the action that led here (set before the redraw).
  const flash = sessionStorage.getItem('pakn.flash');
  if (flash) {
    sessionStorage.removeItem('pakn.flash');
    const h1 = main.querySelector('h1');
    const box = notice('success', flash);
    if (h1) h1.after(box); else main.prepend(box);
  }
  main.removeAttribute('aria-busy');
  main.setAttribute('data-ready', hash);
}

async function start() {
  // Relative URLs need the page's folder: /dev → /dev/
  if (!location.pathname.endsWith('/')) {
    location.replace(`${location.pathname}/${location.search}${location.hash}`);
    return;
  }
  setLang(getLang());
  try {
    config = (await get('/console/config.json')).body;
  } catch (e) { /* keep the defaults: no sign-in offered */ }
  try {
    if (await completeHostedSignIn(config)) {
      const s = session();
      location.hash = HOME[s.role] || '#/stats';
    }
  } catch (e) {
    location.hash = '#/signin';
    await render();
    document.getElementById('main').prepend(notice('error', t('signin.failed', { why: e.oauth || '' })));
    window.addEventListener('hashchange', render);
    return;
  }
  window.addEventListener('hashchange', render);
  await render();
}

start();
