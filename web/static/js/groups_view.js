// Consumer groups from GET /api/groups: per group its totals (lag in messages and seconds,
// processed, duplicates, lost, latency p50/p99), a row per partition (committed, end, lag), which
// member holds which partitions, and the partitions' changes of hands as a timeline.

import { request } from './api.js';
import { GROUP_ORDER, compare_groups, el, format_clock, format_ms, format_number } from './dom.js';

export class groups_view {
  constructor(box) {
    this.box_ = box;
    this.timelines_open_ = new Set();  // groups whose rebalance timeline the user opened
  }

  async refresh() {
    let groups;
    try {
      groups = await request('GET', '/api/groups');
    } catch (err) {
      this.box_.replaceChildren(el('p', 'muted', `Groups unavailable: ${err.message}`));
      throw err;
    }
    groups.sort((a, b) => compare_groups(a.group, b.group));
    if (groups.length === 0) {
      this.box_.replaceChildren(el('p', 'muted', 'No consumer group has committed yet.'));
      return;
    }
    this.box_.replaceChildren(...groups.map((group) => this.render_group_(group)));
  }

  render_group_(group) {
    const card = el('article', 'group');
    card.dataset.group = group.group;
    const head = el('h3');
    head.append(el('span', `swatch swatch-${group_class(group.group)}`), el('span', '', group.group));
    card.append(head);

    const stats = el('dl', 'stats');
    const stat = (label, value, tone) => {
      const box = el('div', tone ? `stat ${tone}` : 'stat');
      box.append(el('dt', '', label), el('dd', '', value));
      stats.append(box);
    };
    const seconds = group.lag_seconds === null || group.lag_seconds === undefined ? '' : ` (${format_number(group.lag_seconds, 0)} s)`;
    stat('lag', `${format_number(group.lag)}${seconds}`, group.lag > 0 ? 'warn' : '');
    stat('processed', format_number(group.processed));
    stat('duplicates', format_number(group.duplicates), group.duplicates > 0 ? 'warn' : '');
    stat('lost', format_number(group.lost), group.lost > 0 ? 'bad' : '');
    stat('p50', format_ms(group.latency_ms ? group.latency_ms.p50 : null));
    stat('p99', format_ms(group.latency_ms ? group.latency_ms.p99 : null));
    card.append(stats);

    const table = el('table', 'data');
    const header = el('tr');
    for (const name of ['partition', 'committed', 'end', 'lag']) header.append(el('th', 'num', name));
    const thead = el('thead');
    thead.append(header);
    const body = el('tbody');
    for (const p of (group.partitions || []).slice().sort((a, b) => a.partition - b.partition)) {
      const row = el('tr');
      row.append(el('td', 'num', p.partition), el('td', 'num', format_number(p.committed)),
                 el('td', 'num', format_number(p.end)), el('td', `num${p.lag > 0 ? ' warn' : ''}`, format_number(p.lag)));
      body.append(row);
    }
    table.append(thead, body);
    const timeline = render_rebalances(group.rebalances || []);
    // Cards are redrawn on every refresh: keep an opened timeline open.
    timeline.open = this.timelines_open_.has(group.group);
    timeline.addEventListener('toggle', () => {
      if (timeline.open) this.timelines_open_.add(group.group);
      else this.timelines_open_.delete(group.group);
    });
    card.append(table, render_assignment(group.assignment || {}), timeline);
    return card;
  }
}

// Member ids are long ("rdkafka-3f2c…"): the tail tells members apart and fits the card.
function short_member(member) {
  return member.length > 14 ? `…${member.slice(-12)}` : member;
}

function render_assignment(assignment) {
  const list = el('ul', 'assignment');
  const members = Object.keys(assignment).sort();
  if (members.length === 0) list.append(el('li', 'muted', 'No member has processed an order lately.'));
  for (const member of members) {
    const item = el('li');
    const name = el('span', 'member', short_member(member));
    name.title = member;
    item.append(name, el('span', '', ` partitions ${assignment[member].join(', ')}`));
    list.append(item);
  }
  return list;
}

// Newest first; "from" is null when a partition was first seen with its member.
function render_rebalances(rebalances) {
  const box = el('details', 'rebalances');
  box.append(el('summary', '', `Rebalances (${rebalances.length})`));
  const list = el('ol', 'timeline');
  for (const change of rebalances.slice().reverse()) {
    const item = el('li');
    const move = change.from === null ? `assigned to ${short_member(change.to)}`
                                      : `${short_member(change.from)} → ${short_member(change.to)}`;
    item.append(el('time', '', format_clock(change.t_ms)), el('span', '', ` partition ${change.partition}: ${move}`));
    item.title = change.from === null ? change.to : `${change.from} → ${change.to}`;
    list.append(item);
  }
  box.append(list);
  return box;
}

// A CSS class suffix for a group's colour swatch: the three departments have their own.
export function group_class(group) {
  return GROUP_ORDER.includes(group) ? group.replace('-group', '') : 'other';
}
