// Dead letters from GET /api/dead-letters: a count per reason and the most recent records, whose
// value is shown as (cut) text only: it is exactly the kind of input that is not to be trusted.

import { request } from './api.js';
import { el, format_clock, format_number } from './dom.js';

const VALUE_CHARS = 120;

export class dead_letters_view {
  constructor(counts, table_body) {
    this.counts_ = counts;
    this.body_ = table_body;
  }

  async refresh() {
    let letters;
    try {
      letters = await request('GET', '/api/dead-letters');
    } catch (err) {
      this.counts_.replaceChildren(el('span', 'muted', `Dead letters unavailable: ${err.message}`));
      throw err;
    }
    const counts = Object.entries(letters.counts || {}).sort((a, b) => b[1] - a[1]);
    if (counts.length === 0) {
      this.counts_.replaceChildren(el('span', 'muted', 'None so far: every record was a valid order.'));
    } else {
      this.counts_.replaceChildren(...counts.map(([reason, n]) => {
        const chip = el('span', 'chip');
        chip.append(el('span', '', reason), el('strong', '', format_number(n)));
        return chip;
      }));
    }
    this.body_.closest('table').hidden = (letters.recent || []).length === 0;
    const recent = (letters.recent || []).slice().sort((a, b) => (b.timestamp_ms || 0) - (a.timestamp_ms || 0));
    this.body_.replaceChildren(...recent.map((letter) => {
      const row = el('tr');
      const value = String(letter.value ?? '');
      const value_cell = el('td', 'value', value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS)}…` : value);
      value_cell.title = value;
      row.append(el('td', 'nowrap', format_clock(letter.timestamp_ms)), el('td', 'nowrap', letter.reason),
                 el('td', 'nowrap', letter.group), el('td', 'nowrap', `p${letter.partition} @${letter.offset}`),
                 el('td', '', letter.detail), value_cell);
      return row;
    }));
  }
}
