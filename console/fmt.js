// Language, message lookup and Vietnamese formats (numbers, percentages,
// dates in Asia/Ho_Chi_Minh). Every label comes from messages.js.
import { MESSAGES } from './messages.js';

const KEY = 'pakn.lang';
let lang = sessionStorage.getItem(KEY) === 'en' ? 'en' : 'vi';

export function getLang() { return lang; }
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'vi';
  sessionStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

/** The label `key` in the current language, `{name}` filled from `params`. */
export function t(key, params = {}) {
  const s = MESSAGES[lang][key] ?? MESSAGES.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, n) => (n in params ? String(params[n]) : m));
}

const locale = () => (lang === 'vi' ? 'vi-VN' : 'en-GB');
export const TZ = 'Asia/Ho_Chi_Minh';

/** 846 → "846"; 12345 → "12.345" (vi) */
export function num(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(n);
}

/** A fraction 0–1 as "97,45 %" (vi) or "97.45 %" (en). */
export function pct(x) {
  if (x === null || x === undefined) return '–';
  return `${num(x * 100, 2)}\u00a0%`;
}

/** An instant as "03/12/2026 14:30" in Hanoi time. */
export function dateTime(iso) {
  if (!iso) return '–';
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** A local day "2026-12-03" as "03/12/2026". */
export function day(ymd) {
  if (!ymd) return '–';
  const [y, m, d] = ymd.split('-');
  return `${d}/${m}/${y}`;
}

/** Today in Hanoi as YYYY-MM-DD. */
export function todayHanoi(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(d);
}

/** The unit's name in the current language. */
export function unitName(u) {
  if (!u) return '–';
  return lang === 'vi' ? u.name_vi : u.name_en;
}

/** `t(key)` when the catalogue has it, else `fallback`. */
export function tOr(key, fallback) {
  return key in MESSAGES[lang] || key in MESSAGES.vi ? t(key) : fallback;
}
