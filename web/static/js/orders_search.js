// The order search above the trace: GET /api/orders with the form's filters, newest first; each
// result traces its order when clicked. Everything shown is text.

import { request } from './api.js';
import { el, format_clock, format_number } from './dom.js';

const RESULTS = 50;

export class orders_search {
  // on_pick(order_id) traces the order picked.
  constructor(form, results, { on_pick }) {
    this.form_ = form;
    this.results_ = results;
    this.on_pick_ = on_pick;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.search();
    });
  }

  query_() {
    const data = new FormData(this.form_);
    const query = new URLSearchParams();
    for (const name of ['user', 'item', 'min_total', 'max_total']) {
      const value = String(data.get(name) || '').trim();
      if (value) query.set(name, value);
    }
    for (const [name, field] of [['from_ms', 'from'], ['to_ms', 'to']]) {
      const ms = Date.parse(String(data.get(field) || ''));  // datetime-local: local time
      if (!Number.isNaN(ms)) query.set(name, String(ms));
    }
    query.set('limit', String(RESULTS));
    return query;
  }

  async search() {
    this.results_.replaceChildren(el('li', 'muted', 'Searching…'));
    let answer;
    try {
      answer = await request('GET', `/api/orders?${this.query_()}`);
    } catch (err) {
      this.results_.replaceChildren(el('li', 'muted', `Search failed: ${err.message}`));
      return;
    }
    const found = answer.orders || [];
    if (found.length === 0) {
      this.results_.replaceChildren(el('li', 'muted', `No order matches (of the ${format_number(answer.searched)} kept).`));
      return;
    }
    this.results_.replaceChildren(...found.map((order) => {
      const item = el('li');
      item.dataset.order = order.order_id;
      const button = el('button', '', `${order.order_id} · ${order.user} · $${format_number(order.total, 2)} · ` +
                                       `${format_clock(order.timestamp_ms)} · ${order.items}`);
      button.type = 'button';
      button.title = `trace order ${order.order_id}`;
      button.addEventListener('click', () => this.on_pick_(String(order.order_id)));
      item.append(button);
      return item;
    }));
  }
}
