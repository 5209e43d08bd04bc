// The processes panel and the state badges in each terminal pane's header. A configured process
// runs one or more copies ("shipping", "shipping-2", …); each copy has its card (state, pid,
// uptime, restarts, last exit, what it holds in Kafka, why it is held back or stalled, its
// history; Stop / Start / Restart), and a consumer's copies sit under a head with − and + to
// scale them. States come from the push stream's `processes` events, or from polling when the
// stream is down; uptime ticks locally in between.

import { request } from './api.js';
import { clone_template, el, format_clock, format_duration } from './dom.js';

const STATE_CLASS = {
  RUNNING: 'ok',
  STARTING: 'warn', BACKOFF: 'warn', STOPPING: 'warn',
  FATAL: 'bad', EXITED: 'bad',
  STOPPED: 'idle',
};
const UP_STATES = new Set(['RUNNING', 'STARTING']);

// Puts node at position index of parent, moving it only when it is elsewhere: a moved node
// loses keyboard focus, and these lists are updated on every push.
function place(parent, node, index) {
  const there = parent.children[index];
  if (there !== node) parent.insertBefore(node, there || null);
}

export class processes_view {
  // pane_for(terminal) gives the terminal_pane whose header shows the state.
  constructor(list, { pane_for, notify }) {
    this.list_ = list;
    this.pane_for_ = pane_for;
    this.notify_ = notify;
    this.items_ = new Map();     // copy name -> { node, process, received_at }
    this.programs_ = new Map();  // process name -> { node, copies, instances, received_at, busy }
    this.kafka_ = new Map();     // copy name -> { group, partitions, lag, idle_reason } (GET /api/groups)
    this.health_ = new Map();    // group -> its health, the freshest the page has
    setInterval(() => this.tick_(), 1000);
  }

  update(processes) {
    const now = performance.now();
    const seen = new Set();
    const order = [];  // [program name, [copies]] in the daemon's order
    for (const process of processes) {
      const program = process.process ?? process.name;
      let group = order.find(([name]) => name === program);
      if (!group) order.push(group = [program, []]);
      group[1].push(process);
    }
    order.forEach(([name, copies], index) => {
      let program = this.programs_.get(name);
      if (!program) {
        program = this.build_program_(name);
        this.programs_.set(name, program);
      }
      program.scalable = copies.some((copy) => copy.group !== null && copy.group !== undefined);
      program.instances = copies[0].instances ?? copies.length;
      program.max_instances = copies[0].max_instances ?? 1;  // the daemon's limit on copies
      program.received_at = now;
      place(this.list_, program.node, index);
      copies.forEach((process, at) => {
        seen.add(process.name);
        let item = this.items_.get(process.name);
        if (!item) {
          item = { node: this.build_(process.name) };
          this.items_.set(process.name, item);
        }
        item.process = process;
        item.received_at = now;
        place(program.copies, item.node, at);
        this.render_(item);
      });
      this.render_program_(program);
    });
    for (const [name, item] of this.items_) {
      if (seen.has(name)) continue;
      item.node.remove();
      this.items_.delete(name);
    }
    for (const [name, program] of this.programs_) {
      if (order.some(([kept]) => kept === name)) continue;
      program.node.remove();
      this.programs_.delete(name);
    }
    this.render_badges_();
  }

  // From GET /api/groups: the group member each consumer copy is, beside its state.
  set_groups(groups) {
    this.kafka_.clear();
    for (const group of groups) {
      if (group.health) this.health_.set(group.group, group.health);
      for (const member of group.members || [])
        if (member.process) {
          this.kafka_.set(member.process, { group: group.group, partitions: member.partitions, lag: member.lag,
                                            idle_reason: member.idle ? member.idle_reason : null });
        }
    }
    this.render_all_();
  }

  // From the push stream's metrics, every second: each group's health, whose `stalled` names
  // the copies stalled now.
  set_health(groups) {
    for (const [group, live] of Object.entries(groups || {}))
      if (live && live.health) this.health_.set(group, live.health);
    this.render_all_();
  }

  render_all_() {
    for (const item of this.items_.values()) this.render_(item);
    this.render_badges_();
  }

  build_program_(name) {
    const node = clone_template('program-template');
    node.dataset.program = name;
    node.querySelector('.program-name').textContent = name;
    const scaler = node.querySelector('.scaler');
    scaler.setAttribute('aria-label', `copies of ${name}`);
    const program = { node, copies: node.querySelector('.copies'), instances: 1, received_at: 0, busy: false, scalable: false };
    for (const button of scaler.querySelectorAll('button[data-scale]')) {
      const delta = Number(button.dataset.scale);
      button.setAttribute('aria-label', `${delta > 0 ? 'add a copy of' : 'remove a copy of'} ${name}`);
      button.addEventListener('click', () => this.scale_(name, program, delta));
    }
    return program;
  }

  render_program_(program) {
    const { node, instances, busy, scalable } = program;
    node.classList.toggle('scalable', scalable);
    node.querySelector('.program-head').hidden = !scalable;
    const group = [...this.items_.values()].find((item) => item.process.process === node.dataset.program && item.process.group);
    node.querySelector('.program-group').textContent = group ? group.process.group : '';
    const count = node.querySelector('.instances');
    count.textContent = instances;
    count.dataset.instances = instances;
    node.querySelector('.instances-label').textContent = instances === 1 ? 'copy' : 'copies';
    node.classList.toggle('busy', busy);
    for (const button of node.querySelectorAll('button[data-scale]')) {
      const target = instances + Number(button.dataset.scale);
      button.disabled = target < 1 || target > program.max_instances;
      // While a request is in flight the button keeps focus but does nothing.
      button.setAttribute('aria-disabled', String(button.disabled || busy));
    }
  }

  build_(name) {
    const node = clone_template('process-template');
    node.dataset.process = name;
    node.querySelector('.name').textContent = name;
    for (const button of node.querySelectorAll('button[data-action]')) {
      button.setAttribute('aria-label', `${button.dataset.action} ${name}`);
      button.addEventListener('click', () => this.act_(name, button.dataset.action, node));
    }
    const history = node.querySelector('.history');
    history.addEventListener('toggle', () => {
      if (history.open) {
        const item = this.items_.get(name);
        if (item) this.render_history_(item, true);
      }
    });
    return node;
  }

  // Stalled now: the group's health names it. The health comes every second; the copy's own
  // flag only with the next change of the process list, so it is the fallback.
  stalled_(process) {
    const health = process.group ? this.health_.get(process.group) : undefined;
    if (health && Array.isArray(health.stalled)) return health.stalled.includes(process.name);
    return Boolean(process.stalled);
  }

  render_(item) {
    const { process, node } = item;
    const state = node.querySelector('.state');
    state.textContent = process.state;
    state.className = `state ${STATE_CLASS[process.state] || 'idle'}`;
    const stalled = UP_STATES.has(process.state) && this.stalled_(process);
    node.querySelector('.stalled-badge').hidden = !stalled;
    node.classList.toggle('is-stalled', stalled);
    const leaving = process.instances !== undefined && process.instance > process.instances;
    node.querySelector('.leaving').hidden = !leaving;

    const facts = [];
    facts.push(['pid', process.pid ?? '–']);
    facts.push(['up', UP_STATES.has(process.state) ? format_duration(this.uptime_(item)) : '–']);
    facts.push(['restarts', process.restarts]);
    if (process.state === 'RUNNING' && process.ready === false) facts.push(['ready', 'not yet']);
    // The daemon says "exit code 1" or "killed by signal 9": "last exit code 1" reads on.
    facts.push(process.last_exit ? ['last', process.last_exit] : ['last exit', '–']);
    const kafka = this.kafka_.get(process.name);
    if (UP_STATES.has(process.state) && (process.group || kafka)) {
      facts.push(['group', process.group || kafka.group]);
      // The copy's own word on what it holds is the freshest; the group's view is the fallback.
      const partitions = Array.isArray(process.partitions) ? process.partitions : kafka ? kafka.partitions : null;
      if (partitions === null) facts.push(['partitions', 'not known yet']);
      else if (partitions.length) facts.push(['partitions', partitions.join(', ')]);
      else facts.push(['partitions', `none (idle${kafka && kafka.idle_reason ? `: ${kafka.idle_reason}` : ''})`]);
      if (kafka) facts.push(['lag', kafka.lag]);
    }
    const box = node.querySelector('.facts');
    box.replaceChildren(...facts.map(([label, value]) => {
      const fact = el('span', 'fact');
      fact.dataset.fact = label;
      fact.append(el('span', 'label', label), el('span', 'value', value));
      if (label.startsWith('last') || label === 'group' || String(value).length > 24) fact.classList.add('wide');
      if (label === 'partitions' && String(value).startsWith('none')) fact.classList.add('idle-fact');
      return fact;
    }));

    const held = node.querySelector('.held');
    held.hidden = !process.held;
    held.querySelector('.held-reason').textContent = process.held || '';
    const stall_note = node.querySelector('.stall-note');
    stall_note.hidden = !stalled;
    if (stalled) stall_note.querySelector('.stall-reason').textContent = this.stall_reason_(process);
    this.render_history_(item, false);

    const busy = node.classList.contains('busy');
    for (const button of node.querySelectorAll('button[data-action]')) {
      const action = button.dataset.action;
      const useless = (action === 'start' && UP_STATES.has(process.state)) ||
                      (action === 'stop' && ['STOPPED', 'EXITED', 'FATAL', 'STOPPING'].includes(process.state));
      button.disabled = busy || useless;
    }
  }

  // The group's reason when it is about this copy's partitions, else the copy's own history.
  stall_reason_(process) {
    const health = this.health_.get(process.group);
    const mine = (health && health.partitions || []).filter((p) => p.holder === process.name && p.status === 'STALL');
    if (mine.length) return mine.map((p) => p.reason).join('; ');
    const last = (process.history || []).filter((entry) => entry.event === 'stalled').pop();
    return last && last.reason ? last.reason : 'its partitions\' committed offsets stopped moving';
  }

  // Newest first. Redrawn only when something new happened (or on opening), so an open list
  // keeps its scroll position while uptime ticks.
  render_history_(item, force) {
    const history = item.process.history || [];
    const box = item.node.querySelector('.history');
    const last = history[history.length - 1];
    const signature = `${history.length}:${last ? `${last.t_ms}${last.event}` : ''}`;
    box.hidden = history.length === 0;
    box.querySelector('summary').textContent = `History (${history.length})`;
    if (!force && (box.dataset.signature === signature || !box.open)) return;
    box.dataset.signature = signature;
    box.querySelector('.events').replaceChildren(...history.slice().reverse().map((entry) => {
      const row = el('li', `event event-${entry.event === 'stalled' ? 'stalled' : STATE_CLASS[entry.event] || 'ok'}`);
      row.append(el('time', '', format_clock(entry.t_ms)), el('span', 'event-name', ` ${entry.event}`));
      if (entry.reason) row.append(el('span', 'muted', ` · ${entry.reason}`));
      return row;
    }));
  }

  uptime_(item) {
    const base = item.process.uptime_seconds || 0;
    return base + (performance.now() - item.received_at) / 1000;
  }

  // One badge per copy writing into the terminal; with several copies each names its copy.
  render_badges_() {
    const by_terminal = new Map();
    for (const { process } of this.items_.values()) {
      if (!by_terminal.has(process.terminal)) by_terminal.set(process.terminal, []);
      by_terminal.get(process.terminal).push(process);
    }
    for (const [terminal, list] of by_terminal) {
      const badges = [];
      for (const process of list) {
        const alone = list.length === 1 && process.name === terminal;
        const badge = el('span', `state ${STATE_CLASS[process.state] || 'idle'}`, alone ? process.state : `${process.name} ${process.state}`);
        badge.title = process.held ? `${process.name}: ${process.state} (${process.held})` : `${process.name}: ${process.state}`;
        badges.push(badge);
        if (UP_STATES.has(process.state) && this.stalled_(process)) {
          const stalled = el('span', 'badge stalled-badge', alone ? 'stalled' : `${process.name} stalled`);
          stalled.title = `${process.name}: ${this.stall_reason_(process)}`;
          badges.push(stalled);
        }
      }
      this.pane_for_(terminal).status.replaceChildren(...badges);
    }
  }

  tick_() {
    for (const item of this.items_.values())
      if (UP_STATES.has(item.process.state)) this.render_(item);
  }

  async scale_(name, program, delta) {
    const target = program.instances + delta;
    if (program.busy || target < 1 || target > program.max_instances) return;
    program.busy = true;
    this.render_program_(program);
    const sent_at = performance.now();
    try {
      const answer = await request('POST', `/api/processes/${encodeURIComponent(name)}/scale`, { body: { instances: target } });
      // A push since the request is newer than the answer; otherwise the answer is.
      if (program.received_at < sent_at && Number.isInteger(answer.instances)) program.instances = answer.instances;
      this.notify_('');
    } catch (err) {
      this.notify_(`Could not scale ${name} to ${target}: ${err.message}`);
    } finally {
      program.busy = false;
      this.render_program_(program);
    }
  }

  async act_(name, action, node) {
    node.classList.add('busy');
    const item = this.items_.get(name);
    if (item) this.render_(item);
    const sent_at = performance.now();
    try {
      const answer = await request('POST', `/api/processes/${encodeURIComponent(name)}/${action}`);
      const current = this.items_.get(name);
      // The answer's state is as of the request: a stream event since then is newer (a consumer
      // can stop before the answer arrives), so the answer must not overwrite it.
      if (current && answer.state && current.received_at < sent_at) {
        current.process = { ...current.process, state: answer.state };
        this.render_badges_();
      }
      this.notify_('');
    } catch (err) {
      this.notify_(`Could not ${action} ${name}: ${err.message}`);
    } finally {
      node.classList.remove('busy');
      const current = this.items_.get(name);
      if (current) this.render_(current);
    }
  }
}
