// Small DOM helpers: elements are built, never parsed from strings (no
// innerHTML), so text from the API cannot become markup.
import { t, getLang } from './fmt.js';

/** h('a', {href: '#/x', class: 'c'}, 'text', child, …) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElementNS(
    tag === 'svg' || attrs.__svg ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === '__svg' || v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
/** A labelled form control: label + input/select/textarea with an id. */
export function field(label, control, hint) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/** The error body of the API (CONTRACT.md "Errors") in the user's language. */
export function errorText(err) {
  if (err && err.body && err.body.error) {
    const e = err.body.error;
    return getLang() === 'vi' ? (e.message_vi || e.message) : (e.message || e.message_vi);
  }
  if (err && err.status === 0) return t('err.network');
  return t('err.generic');
}

/** A message box (role=alert for errors, status for success). */
export function notice(kind, text, extra) {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text, extra || null);
}

export function showError(where, err) {
  const box = notice('error', errorText(err));
  if (err && (err.status === 409 || err.status === 412)) {
    box.append(' ', h('button', { type: 'button', class: 'link', onclick: () => window.dispatchEvent(new Event('hashchange')) }, t('act.reload')));
  }
  where.replaceChildren(box);
  return box;
}

export const STATUS_CLASS = {
  received: 'st-gray', triage: 'st-amber', assigned: 'st-blue', in_progress: 'st-blue',
  awaiting_info: 'st-amber', resolved: 'st-green', rejected: 'st-red', closed: 'st-gray',
};

export function statusTag(s) {
  return h('span', { class: `tag ${STATUS_CLASS[s] || ''}` }, t(`status.${s}`));
}

/**
 * Deadline badge from the API's `working_hours_left` (to what the unit owes
 * next: the acknowledgement while assigned, else the resolution): red once
 * passed (or the case is overdue), amber with less than 8 working hours
 * left (a fresh 8-hour acknowledgement window starts green), else green.
 */
export function dueBadge(c) {
  const open = !['resolved', 'rejected', 'closed'].includes(c.status);
  if (!open) return null;
  const fmt = (x) => x.toLocaleString(getLang() === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 1 });
  let level;
  let text;
  if (c.overdue || (typeof c.working_hours_left === 'number' && c.working_hours_left < 0)) {
    level = 'red';
    text = typeof c.working_hours_left === 'number' && c.working_hours_left < 0
      ? t('due.over_by', { h: fmt(-c.working_hours_left) }) : t('due.overdue');
  } else if (typeof c.working_hours_left === 'number') {
    level = c.working_hours_left < 8 ? 'amber' : 'green';
    text = t('due.left', { h: fmt(c.working_hours_left) });
  } else if (c.status === 'awaiting_info') {
    return h('span', { class: 'badge badge-paused', 'data-level': 'paused' }, t('due.paused'));
  } else {
    return null;
  }
  return h('span', { class: `badge badge-${level}`, 'data-level': level }, text);
}

/** A form's fields as an object (trimmed strings; empty → omitted). */
export function formData(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) {
    const s = typeof v === 'string' ? v.trim() : v;
    if (s !== '') out[k] = s;
  }
  return out;
}

export function heading(text) {
  return h('h1', { tabindex: '-1' }, text);
}
