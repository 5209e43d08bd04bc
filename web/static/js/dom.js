// Small DOM helpers. Everything the daemon sends is untrusted, so text only ever goes in through
// textContent; nothing here takes HTML.

export function el(tag, class_name, text) {
  const node = document.createElement(tag);
  if (class_name) node.className = class_name;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function clone_template(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

// "18:32:05.123" in local time, for millisecond timestamps from Kafka.
export function format_clock(ms) {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function format_duration(seconds) {
  const s = Math.floor(seconds || 0);
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
}

export function format_ms(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

export function format_number(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Number(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// The departments' groups first, in pipeline order; anything else after, by name.
export const GROUP_ORDER = ['shipping-group', 'email-group', 'analytics-group'];
export function compare_groups(a, b) {
  const ra = GROUP_ORDER.indexOf(a), rb = GROUP_ORDER.indexOf(b);
  return (ra === -1 ? 99 : ra) - (rb === -1 ? 99 : rb) || (a < b ? -1 : a > b ? 1 : 0);
}

// One colour per group, the same in the charts, the tables and the trace.
const GROUP_COLOURS = { 'shipping-group': '#58a6ff', 'email-group': '#d2a8ff', 'analytics-group': '#3fb950' };
const SPARE_COLOURS = ['#f0883e', '#ff7b72', '#79c0ff', '#e3b341'];
export function group_colour(group, index = 0) {
  return GROUP_COLOURS[group] || SPARE_COLOURS[index % SPARE_COLOURS.length];
}
