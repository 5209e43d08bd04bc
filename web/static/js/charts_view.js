// The charts: orders and revenue per second, lag per group, and end-to-end latency p50/p99 per
// group over the daemon's history (GET /api/metrics/history, up to 600 one-second points), drawn
// with uPlot (web/node_modules/uplot, served by the daemon as /vendor/uplot.js).

import { request } from './api.js';
import { compare_groups, group_colour } from './dom.js';

const HEIGHT = 150;
const AXIS = { stroke: '#8b949e', grid: { stroke: '#21262d', width: 1 }, ticks: { stroke: '#30363d', width: 1 } };

function zero_based(u, min, max) {
  return [0, max > 0 ? max * 1.1 : 1];
}

function clock(seconds, with_seconds = true) {
  const d = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${with_seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

function number_value(digits) {
  return (u, v) => (v === null || v === undefined ? '–' : v.toFixed(digits));
}

export class charts_view {
  constructor(figures, note) {
    this.figures_ = figures;  // { orders, revenue, lag, latency }: <figure> elements
    this.note_ = note;
    this.charts_ = {};        // name -> { plot, signature }
    this.available_ = typeof window.uPlot === 'function';
    if (!this.available_) {
      note.textContent = 'The chart library (/vendor/uplot.js) did not load; charts are off.';
      note.hidden = false;
      return;
    }
    const resize = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const chart = Object.values(this.charts_).find((c) => c.figure === entry.target);
        if (chart) chart.plot.setSize({ width: this.width_(entry.target), height: HEIGHT });
      }
    });
    for (const figure of Object.values(figures)) resize.observe(figure);
  }

  async refresh() {
    if (!this.available_) return;
    const history = await request('GET', '/api/metrics/history');
    const points = history.points || [];
    const interval = history.interval_seconds || 1;
    const x = points.map((p) => p.t_ms / 1000);
    const groups = [...new Set(points.flatMap((p) => Object.keys(p.lag || {})))].sort(compare_groups);

    this.draw_('orders', [{ label: 'orders/s', stroke: '#e3b341', fill: 'rgba(227,179,65,0.12)', value: number_value(1) }],
               [x, points.map((p) => p.orders / interval)]);
    this.draw_('revenue', [{ label: '$/s', stroke: '#3fb950', fill: 'rgba(63,185,80,0.12)', value: number_value(2) }],
               [x, points.map((p) => p.revenue / interval)]);
    this.draw_('lag', groups.map((g, i) => ({ label: short(g), stroke: group_colour(g, i), value: number_value(0) })),
               [x, ...groups.map((g) => points.map((p) => (p.lag ? p.lag[g] ?? null : null)))]);
    this.draw_('latency',
               [...groups.map((g, i) => ({ label: `${short(g)} p50`, stroke: group_colour(g, i), value: number_value(0) })),
                ...groups.map((g, i) => ({ label: `${short(g)} p99`, stroke: group_colour(g, i), dash: [5, 4], value: number_value(0) }))],
               [x, ...groups.map((g) => points.map((p) => (p.p50_ms ? p.p50_ms[g] ?? null : null))),
                ...groups.map((g) => points.map((p) => (p.p99_ms ? p.p99_ms[g] ?? null : null)))]);
  }

  width_(figure) {
    return Math.max(200, Math.floor(figure.clientWidth));
  }

  // Series that change (a group appears) need a new plot; otherwise only the data changes.
  draw_(name, series, data) {
    const figure = this.figures_[name];
    const signature = series.map((s) => s.label).join('|');
    let chart = this.charts_[name];
    if (chart && chart.signature !== signature) {
      chart.plot.destroy();
      chart = null;
    }
    if (!chart) {
      const options = {
        width: this.width_(figure),
        height: HEIGHT,
        cursor: { drag: { x: false, y: false, setScale: false } },
        legend: { live: true },
        scales: { x: { time: true }, y: { range: zero_based } },
        axes: [{ ...AXIS, space: 70, values: (u, splits) => splits.map((t) => clock(t)) }, { ...AXIS, size: 48 }],
        series: [{ label: 'time', value: (u, t) => (t === null || t === undefined ? '–' : clock(t)) }, ...series.map((s) => ({ width: 1.5, points: { show: false }, ...s }))],
      };
      chart = { plot: new window.uPlot(options, data, figure), signature, figure };
      this.charts_[name] = chart;
    } else {
      chart.plot.setData(data);
    }
  }
}

function short(group) {
  return group.replace(/-group$/, '');
}
