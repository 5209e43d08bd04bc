// Dead letters from GET /api/dead-letters: a count per reason and the most recent records, whose
// value is shown as (cut) text only: it is exactly the kind of input that is not to be trusted.
// Each record, or all of a reason, can be redriven (produced again to the orders topic) after a
// confirmation; a record redriven already says when, and where it went.

import { request } from './api.js';
import { el, format_clock, format_number } from './dom.js';

const VALUE_CHARS = 120;

// Dead letters of one original record (one per group that gave up on it) go out as one record.
function originals(letters) {
  return new Set(letters.map((l) => `${l.partition}/${l.offset}`)).size;
}

export class dead_letters_view {
  // confirm: the page's confirm_dialog; notify shows a redrive's outcome.
  constructor(counts, table_body, { confirm, notify } = {}) {
    this.counts_ = counts;
    this.body_ = table_body;
    this.confirm_ = confirm;
    this.notify_ = notify || (() => {});
  }

  async refresh() {
    let letters;
    try {
      letters = await request('GET', '/api/dead-letters');
    } catch (err) {
      this.counts_.replaceChildren(el('span', 'muted', `Dead letters unavailable: ${err.message}`));
      throw err;
    }
    const recent = (letters.recent || []).slice().sort((a, b) => (b.timestamp_ms || 0) - (a.timestamp_ms || 0));
    const counts = Object.entries(letters.counts || {}).sort((a, b) => b[1] - a[1]);
    if (counts.length === 0) {
      this.counts_.replaceChildren(el('span', 'muted', 'None so far: every record was a valid order.'));
    } else {
      this.counts_.replaceChildren(...counts.map(([reason, n]) => {
        const chip = el('span', 'chip');
        chip.dataset.reason = reason;
        chip.append(el('span', '', reason), el('strong', '', format_number(n)));
        const waiting = recent.filter((l) => l.reason === reason && !l.redriven);
        if (this.confirm_ && waiting.length > 0) {
          const all = el('button', 'redrive-all', 'Redrive all');
          all.type = 'button';
          all.setAttribute('aria-label', `redrive all dead letters with reason ${reason}`);
          all.addEventListener('click', () => this.redrive_({ reason }, waiting,
                                                            `Redrive the dead letters with reason ${reason}`));
          chip.append(all);
        }
        return chip;
      }));
    }
    this.body_.closest('table').hidden = recent.length === 0;
    this.body_.replaceChildren(...recent.map((letter) => {
      const row = el('tr');
      row.dataset.dlq = `${letter.dlq_partition}/${letter.dlq_offset}`;
      const value = String(letter.value ?? '');
      const value_cell = el('td', 'value', value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS)}…` : value);
      value_cell.title = value;
      row.append(el('td', 'nowrap', format_clock(letter.timestamp_ms)), el('td', 'nowrap', letter.reason),
                 el('td', 'nowrap', letter.group), el('td', 'nowrap', `p${letter.partition} @${letter.offset}`),
                 el('td', '', letter.detail), value_cell, this.redrive_cell_(letter));
      return row;
    }));
  }

  redrive_cell_(letter) {
    const cell = el('td', 'nowrap redrive');
    const before = letter.redriven_before > 0 ? `redriven ${letter.redriven_before}× before; ` : '';
    if (letter.redriven) {
      const done = letter.redriven;
      cell.append(el('span', 'redriven', `${before}redriven ${format_clock(done.t_ms)} → p${done.partition} @${done.offset}`));
      return cell;
    }
    if (before) cell.append(el('span', 'muted', before));
    if (!this.confirm_ || letter.dlq_partition < 0) return cell;
    const button = el('button', '', 'Redrive');
    button.type = 'button';
    button.setAttribute('aria-label', `redrive the dead letter at ${letter.dlq_partition}/${letter.dlq_offset}`);
    button.addEventListener('click', () => this.redrive_(
        { dead_letters: [{ partition: letter.dlq_partition, offset: letter.dlq_offset }] }, [letter],
        `Redrive the record ${letter.group} dead-lettered`));
    cell.append(button);
    return cell;
  }

  async redrive_(body, letters, title) {
    const records = originals(letters);
    const { answer: confirmed } = this.confirm_.ask({
      title,
      content: [
        el('p', 'plan', `${format_number(letters.length)} dead letter${letters.length === 1 ? '' : 's'} ` +
                        `(${format_number(records)} original record${records === 1 ? '' : 's'}) will be produced again ` +
                        'to the orders topic, each original once, with its key, value and a dlq.redriven header.'),
        el('p', 'muted', 'Every consumer group reads them again: a group that had processed one counts it as replayed. ' +
                         'A record that still fails comes back here with its redrive count.'),
      ],
      confirm_label: 'Redrive',
    });
    if (!(await confirmed)) return;
    try {
      const answer = await request('POST', '/api/dead-letters/redrive', { body, timeout_ms: 60000 });
      const failed = (answer.items || []).find((item) => item.outcome === 'failed');
      this.notify_(`Redrive: ${answer.summary}${failed ? ` (${failed.message})` : ''}`, failed ? 'bad' : 'ok');
    } catch (err) {
      this.notify_(`Redrive not done: ${err.message}`);
    }
    this.refresh().catch(() => {});
  }
}
