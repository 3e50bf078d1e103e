// Small SVG charts written here (nothing third-party): horizontal bars for
// units, vertical bars for months. Each chart is an <svg role="img"> with a
// title, and the same figures are always in a table beside it.
import { h } from './ui.js';

const S = { __svg: true };
const svg = (tag, attrs = {}, ...kids) => h(tag, { ...S, ...attrs }, ...kids);

/**
 * Horizontal bars: rows [{label, value}], value formatted by `fmt`;
 * `max` fixes the scale (e.g. 1 for rates).
 */
export function hbars(title, rows, { fmt = String, max } = {}) {
  const barH = 22;
  const gap = 8;
  const labelW = 180;
  const width = 560;
  const valueW = 80;
  const top = max ?? Math.max(1, ...rows.map((r) => r.value ?? 0));
  const height = rows.length * (barH + gap) + gap;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${Math.max(height, 30)}`, role: 'img', 'aria-label': title, class: 'chart',
    preserveAspectRatio: 'xMinYMin meet',
  }, svg('title', {}, title));
  rows.forEach((r, i) => {
    const y = gap + i * (barH + gap);
    const w = r.value == null ? 0 : Math.max(1, ((width - labelW - valueW) * r.value) / top);
    const label = r.label.length > 26 ? `${r.label.slice(0, 25)}…` : r.label;
    chart.append(
      svg('text', { x: labelW - 6, y: y + barH * 0.7, 'text-anchor': 'end', class: 'chart-label' }, label),
      svg('rect', { x: labelW, y, width: w, height: barH, class: `bar ${r.cls || ''}`, rx: 2 }),
      svg('text', { x: labelW + w + 6, y: y + barH * 0.7, class: 'chart-value' }, r.value == null ? '–' : fmt(r.value)),
    );
  });
  return h('figure', { class: 'figure' }, h('figcaption', {}, title), chart);
}

/** Vertical bars, one per column [{label, value}] (e.g. months). */
export function vbars(title, cols, { fmt = String, max } = {}) {
  const width = 560;
  const height = 220;
  const base = 180;
  const top = max ?? Math.max(1, ...cols.map((c) => c.value ?? 0));
  const step = width / Math.max(1, cols.length);
  const bw = Math.min(48, step * 0.6);
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: 'chart',
  }, svg('title', {}, title), svg('line', { x1: 0, x2: width, y1: base, y2: base, class: 'axis' }));
  cols.forEach((c, i) => {
    const x = i * step + (step - bw) / 2;
    const hgt = c.value == null ? 0 : ((base - 24) * c.value) / top;
    chart.append(
      svg('rect', { x, y: base - hgt, width: bw, height: hgt, class: 'bar', rx: 2 }),
      svg('text', { x: x + bw / 2, y: base - hgt - 6, 'text-anchor': 'middle', class: 'chart-value' }, c.value == null ? '–' : fmt(c.value)),
      svg('text', { x: x + bw / 2, y: base + 18, 'text-anchor': 'middle', class: 'chart-label' }, c.label),
    );
  });
  return h('figure', { class: 'figure' }, h('figcaption', {}, title), chart);
}
