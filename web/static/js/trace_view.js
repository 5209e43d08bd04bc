// The order trace: GET /api/orders/{id} drawn as the order's path, produced -> each consumer
// group, with times and latency, and what is pending, lost or was processed more than once.

import { api_error, request } from './api.js';
import { compare_groups, el, format_clock, format_ms, format_number } from './dom.js';
import { group_class } from './groups_view.js';

export class trace_view {
  constructor(form, input, result) {
    this.input_ = input;
    this.result_ = result;
    this.current_ = null;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.trace(input.value.trim());
    });
  }

  async trace(id) {
    if (!/^\d+$/.test(id)) {
      this.result_.replaceChildren(el('p', 'muted', 'An order id is a whole number, e.g. 1001.'));
      return;
    }
    this.current_ = id;
    this.result_.replaceChildren(el('p', 'muted', `Looking up order ${id}…`));
    try {
      const order = await request('GET', `/api/orders/${id}`);
      if (this.current_ === id) this.render_(order);
    } catch (err) {
      if (this.current_ !== id) return;
      const text = err instanceof api_error && err.status === 404 ? err.message : `Trace failed: ${err.message}`;
      this.result_.replaceChildren(el('p', 'muted', text));
    }
  }

  render_(order) {
    const head = el('p', 'trace-head');
    head.append(el('strong', '', `Order ${order.order_id}`));
    if (order.total !== null && order.total !== undefined) head.append(el('span', 'muted', ` · $${format_number(order.total, 2)}`));
    if (order.lost) head.append(el('span', 'state bad', 'lost'));

    const path = el('ol', 'path');
    const produced = el('li', 'step produced');
    produced.append(el('span', 'step-name', 'produced'));
    if (order.produced) {
      const p = order.produced;
      produced.append(el('span', 'step-time', format_clock(p.timestamp_ms)),
                      el('span', 'step-detail', `partition ${p.partition} · offset ${p.offset}`));
    } else {
      produced.classList.add('unknown');
      produced.append(el('span', 'step-detail', 'not seen on the topic'));
    }
    path.append(produced);

    const processed = order.processed || {};
    const pending = new Set(order.pending || []);
    const lost = new Set(order.lost_by || []);
    const groups = [...new Set([...Object.keys(processed), ...pending, ...lost])].sort(compare_groups);
    for (const group of groups) {
      const step = el('li', `step group-step swatch-${group_class(group)}`);
      step.dataset.group = group;
      step.append(el('span', 'step-name', group.replace(/-group$/, '')));
      const done = processed[group];
      if (done) {
        step.append(el('span', 'step-time', format_clock(done.timestamp_ms)),
                    el('span', 'step-detail', `latency ${format_ms(done.latency_ms)}`));
        if (done.times > 1) step.append(el('span', 'state warn', `duplicate ×${done.times}`));
        else step.append(el('span', 'state ok', 'done'));
      } else if (lost.has(group)) {
        const state = el('span', 'state bad', 'lost');
        state.title = 'the group committed past this order without a processing record';
        step.append(state);
      } else {
        step.append(el('span', 'state idle', 'pending'));
      }
      path.append(step);
    }
    this.result_.replaceChildren(head, path);
  }
}
