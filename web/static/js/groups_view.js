// Consumer groups from GET /api/groups: per group its health (OK, WARN, STALL, STOP, ERR, with
// the reason and the stalled copies; the push stream's metrics update it every second), its
// totals (lag in messages and seconds, processed, duplicates, lost, latency p50/p99), each with
// the one line that defines it, a row per partition (committed, end, lag, status), its members
// (which process copy on which host, the partitions it holds and their lag, or why it is idle),
// and the partitions' changes of hands as a timeline. Each card offers a reset of the group's
// offsets (replay), confirmed only after the daemon's dry run said what it would do.

import { request } from './api.js';
import { GROUP_ORDER, compare_groups, el, format_clock, format_ms, format_number } from './dom.js';

const HEALTH_STATUSES = ['OK', 'WARN', 'STALL', 'STOP', 'ERR'];
// What each status means, for the badge's tooltip (the daemon's rules, group_health.hpp).
const HEALTH_MEANING = {
  OK: 'the commits keep up, or the lag reached zero in the window',
  WARN: 'the commits move, but the lag only grows',
  STALL: 'the committed offset does not move while orders wait, and a member holds the partition',
  STOP: 'the committed offset does not move while orders wait, and no member holds the partition',
  ERR: 'the offsets cannot be read, or one of the group\'s consumers is gone',
};

// What each figure means; the daemon keeps these definitions (pipeline_state.hpp).
const EXPLAIN = {
  lag: 'records in the topic the group has not committed yet',
  processed: 'orders the group has a processing record for',
  duplicates: 'orders with more than one record (at-least-once, after a crash or rebalance), replays aside',
  replayed: 'orders processed again because an operator reset the offsets or redrove a dead letter (in processed too)',
  skipped: 'orders a reset moved the group past without processing them',
  lost: 'orders the group committed past without a processing record',
  p50: 'processing time minus the order record\'s CreateTime, median of the last orders',
  p99: 'the same, 99th percentile',
};

// Where to: the choice in the dialog, as the API's request body.
function reset_body(target, when) {
  if (target !== 'timestamp') return { to: target };
  const ms = Date.parse(when);  // datetime-local: local time
  return Number.isNaN(ms) ? null : { to: 'timestamp', timestamp_ms: ms };
}

// What a reset did or would do, in words.
function describe_reset(answer) {
  const copies = answer.copies || [];
  const who = copies.length ? `${copies.join(', ')} will be stopped, then started again` : 'no consumer of it runs here';
  const parts = (answer.partitions || []).length;
  return [`${who}; the committed offsets of ${parts} partition${parts === 1 ? '' : 's'} move.`,
          `${format_number(answer.replayed)} orders will be processed again (counted as replayed, not as duplicates); ` +
          `${format_number(answer.skipped)} skipped.`];
}


export class groups_view {
  // on_groups(groups) hears every refresh (the processes panel shows what each consumer holds);
  // confirm is the page's confirm_dialog, notify shows an action's outcome.
  constructor(box, { on_groups, confirm, notify } = {}) {
    this.box_ = box;
    this.on_groups_ = on_groups || (() => {});
    this.confirm_ = confirm;
    this.notify_ = notify || (() => {});
    this.timelines_open_ = new Set();  // groups whose rebalance timeline the user opened
  }

  // From the push stream's metrics, every second: each group's health, onto the cards shown.
  set_health(groups) {
    for (const [group, live] of Object.entries(groups || {})) {
      const card = [...this.box_.children].find((node) => node.dataset.group === group);
      if (card && live) render_health(card, live.health);
    }
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
    this.on_groups_(groups);
    if (groups.length === 0) {
      this.box_.replaceChildren(el('p', 'muted', 'No consumer group has committed yet.'));
      return;
    }
    this.box_.replaceChildren(...groups.map((group) => this.render_group_(group)));
  }

  // The reset dialog: where to, what the daemon says it would do, then the reset itself.
  async reset_(group) {
    const target = el('select', 'reset-target');
    target.setAttribute('aria-label', 'reset to');
    for (const [value, text] of [['earliest', 'the earliest record (replay all)'], ['latest', 'the end (skip what waits)'],
                                 ['timestamp', 'a point in time']]) {
      const option = el('option', '', text);
      option.value = value;
      target.append(option);
    }
    const when = el('input', 'reset-time');
    when.type = 'datetime-local';
    when.step = '1';
    when.hidden = true;
    when.setAttribute('aria-label', 'reset to this time');
    const label = el('label', '', 'to ');
    label.append(target);
    const plan = el('p', 'plan', 'Asking the daemon what this would do…');
    const detail = el('p', 'muted');
    let body = null;
    let asked = 0;
    let ticket = null;
    const replan = async () => {
      when.hidden = target.value !== 'timestamp';
      body = reset_body(target.value, when.value);
      this.confirm_.ready(false, ticket);
      if (!body) {
        plan.textContent = 'Choose the time to go back (or forward) to.';
        detail.textContent = '';
        return;
      }
      const mine = ++asked;
      plan.textContent = 'Asking the daemon what this would do…';
      detail.textContent = '';
      try {
        const answer = await request('POST', `/api/groups/${encodeURIComponent(group)}/reset`,
                                     { body: { ...body, dry_run: true }, timeout_ms: 30000 });
        if (mine !== asked || !this.confirm_.showing(ticket)) return;
        const [first, second] = describe_reset(answer);
        plan.textContent = second;
        detail.textContent = first;
        this.confirm_.ready(true, ticket);
      } catch (err) {
        if (mine !== asked || !this.confirm_.showing(ticket)) return;
        plan.textContent = `Not possible now: ${err.message}`;
      }
    };
    target.addEventListener('change', replan);
    when.addEventListener('change', replan);
    const asking = this.confirm_.ask({ title: `Reset the offsets of ${group}`, content: [label, when, plan, detail],
                                       confirm_label: 'Reset offsets' });
    ticket = asking.ticket;
    replan();
    if (!(await asking.answer) || !body) return;
    this.notify_(`Resetting ${group}…`, 'info');
    try {
      // Stopping the consumers takes up to the stop grace period.
      const answer = await request('POST', `/api/groups/${encodeURIComponent(group)}/reset`, { body, timeout_ms: 120000 });
      this.notify_(`${group} reset to ${answer.to}: ${format_number(answer.replayed)} orders to process again, ` +
                   `${format_number(answer.skipped)} skipped`, 'ok');
      this.refresh().catch(() => {});
    } catch (err) {
      this.notify_(`Reset of ${group} not done: ${err.message}`);
    }
  }

  render_group_(group) {
    const card = el('article', 'group');
    card.dataset.group = group.group;
    const head = el('h3');
    head.append(el('span', `swatch swatch-${group_class(group.group)}`), el('span', '', group.group));
    if (group.state) head.append(el('span', 'group-state muted', group.state));
    head.append(el('span', 'badge health'));
    if (this.confirm_) {
      const reset = el('button', 'reset-button', 'Reset offsets…');
      reset.type = 'button';
      reset.setAttribute('aria-label', `reset the offsets of ${group.group}`);
      reset.addEventListener('click', () => this.reset_(group.group));
      head.append(reset);
    }
    card.append(head, el('p', 'health-reason'));

    const stats = el('dl', 'stats');
    const stat = (label, value, tone) => {
      const box = el('div', tone ? `stat ${tone}` : 'stat');
      box.dataset.stat = label;
      box.append(el('dt', '', label), el('dd', '', value), el('dd', 'why', EXPLAIN[label]));
      stats.append(box);
    };
    const seconds = group.lag_seconds === null || group.lag_seconds === undefined ? '' : ` (${format_number(group.lag_seconds, 0)} s)`;
    stat('lag', `${format_number(group.lag)}${seconds}`, group.lag > 0 ? 'warn' : '');
    stat('processed', format_number(group.processed));
    stat('duplicates', format_number(group.duplicates), group.duplicates > 0 ? 'warn' : '');
    stat('replayed', format_number(group.replayed));
    if (group.skipped > 0) stat('skipped', format_number(group.skipped), 'warn');
    stat('lost', format_number(group.lost), group.lost > 0 ? 'bad' : '');
    stat('p50', format_ms(group.latency_ms ? group.latency_ms.p50 : null));
    stat('p99', format_ms(group.latency_ms ? group.latency_ms.p99 : null));
    card.append(stats);

    const table = el('table', 'data');
    const header = el('tr');
    for (const name of ['partition', 'committed', 'end', 'lag']) header.append(el('th', 'num', name));
    header.append(el('th', '', 'status'));
    const thead = el('thead');
    thead.append(header);
    const body = el('tbody');
    for (const p of (group.partitions || []).slice().sort((a, b) => a.partition - b.partition)) {
      const row = el('tr');
      row.dataset.partition = p.partition;
      row.append(el('td', 'num', p.partition), el('td', 'num', format_number(p.committed)),
                 el('td', 'num', format_number(p.end)), el('td', `num${p.lag > 0 ? ' warn' : ''}`, format_number(p.lag)),
                 el('td', 'partition-status'));
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
    card.append(table, render_members(group.members || []), timeline);
    render_health(card, group.health);
    return card;
  }
}

// Labels are GROUP@HOST#PID (the consumer's client id): the group is the card's already.
function short_member(label) {
  const at = label.indexOf('@');
  const rest = at > 0 && label.includes('#') ? label.slice(at + 1) : label;
  return rest.length > 24 ? `…${rest.slice(-22)}` : rest;
}

// Each member: which process copy it is (or "external": not run by this daemon), the partitions
// it holds and their lag, or that it is idle and why; the member id is the detail on hover.
function render_members(members) {
  const list = el('ul', 'assignment');
  if (members.length === 0) list.append(el('li', 'muted', 'No member holds a partition now.'));
  for (const member of members.slice().sort((a, b) => a.label.localeCompare(b.label))) {
    const idle = member.idle ?? member.partitions.length === 0;
    const item = el('li', idle ? 'idle-member' : '');
    item.dataset.member = member.label;
    if (member.process) item.dataset.process = member.process;
    const name = el('span', 'member', short_member(member.label));
    name.title = `${member.label}\nmember id ${member.member_id || '–'}${member.host ? `\nhost ${member.host}` : ''}`;
    const who = member.process ? `process ${member.process}` : 'external';
    item.append(name, el('span', member.process ? 'muted' : 'external', ` ${who}`), el('span', '', ' · '));
    if (idle) {
      item.append(el('span', 'badge idle-tag', 'idle'),
                  el('span', 'idle-reason muted', ` ${member.idle_reason || 'holds no partition now'}`));
    } else {
      item.append(el('span', '', `partitions ${member.partitions.join(', ')}, lag ${format_number(member.lag)}`));
    }
    list.append(item);
  }
  return list;
}

function health_class(status) {
  return HEALTH_STATUSES.includes(status) ? status.toLowerCase() : 'unknown';
}

// The badge in the card's head, the line under it (the status, why, and which copies stall) and
// each partition row's status.
function render_health(card, health) {
  const verdicts = new Map(((health && health.partitions) || []).map((p) => [String(p.partition), p]));
  for (const row of card.querySelectorAll('tr[data-partition]')) {
    const cell = row.querySelector('.partition-status');
    const verdict = verdicts.get(row.dataset.partition);
    cell.textContent = verdict ? verdict.status : '–';
    cell.className = `partition-status ${verdict ? `health-${health_class(verdict.status)}` : 'muted'}`;
    cell.title = verdict ? verdict.reason || (verdict.holder ? `held by ${verdict.holder}` : HEALTH_MEANING[verdict.status] || '') : '';
  }
  const badge = card.querySelector('.health');
  const reason = card.querySelector('.health-reason');
  if (!health) {
    badge.textContent = '…';
    badge.className = 'badge health health-unknown';
    badge.title = 'health not judged yet';
    card.dataset.health = '';
    reason.replaceChildren();
    reason.hidden = true;
    return;
  }
  const status = String(health.status);
  badge.textContent = status;
  badge.className = `badge health health-${health_class(status)}`;
  badge.title = `${status}: ${HEALTH_MEANING[status] || 'unknown status'}`;
  card.dataset.health = status;
  const stalled = Array.isArray(health.stalled) ? health.stalled : [];
  const parts = [el('span', 'health-text', health.reason || '')];
  if (stalled.length) {
    parts.push(el('span', 'stalled-label', ' stalled: '));
    stalled.forEach((name, i) => {
      if (i > 0) parts.push(el('span', '', ', '));
      parts.push(el('span', 'stalled-copy', name));
    });
  }
  reason.replaceChildren(...parts);
  reason.className = `health-reason health-${health_class(status)}`;
  reason.hidden = false;
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
