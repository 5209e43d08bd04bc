// The processes panel (state, pid, uptime, restarts, last exit; Stop / Start / Restart) and the
// state badge in each terminal pane's header. States come from the push stream's `processes`
// events, or from polling when the stream is down; uptime ticks locally in between.

import { request } from './api.js';
import { clone_template, el, format_duration } from './dom.js';

const STATE_CLASS = {
  RUNNING: 'ok',
  STARTING: 'warn', BACKOFF: 'warn', STOPPING: 'warn',
  FATAL: 'bad', EXITED: 'bad',
  STOPPED: 'idle',
};
const UP_STATES = new Set(['RUNNING', 'STARTING']);

export class processes_view {
  // pane_for(terminal) gives the terminal_pane whose header shows the state.
  constructor(list, { pane_for, notify }) {
    this.list_ = list;
    this.pane_for_ = pane_for;
    this.notify_ = notify;
    this.items_ = new Map();  // name -> { node, process, received_at }
    this.kafka_ = new Map();  // process name -> { group, partitions, lag }
    setInterval(() => this.tick_(), 1000);
  }

  update(processes) {
    const now = performance.now();
    const seen = new Set();
    for (const process of processes) {
      seen.add(process.name);
      let item = this.items_.get(process.name);
      if (!item) {
        item = { node: this.build_(process.name) };
        this.items_.set(process.name, item);
      }
      item.process = process;
      item.received_at = now;
      this.list_.append(item.node);  // keeps the daemon's order
      this.render_(item);
    }
    for (const [name, item] of this.items_) {
      if (seen.has(name)) continue;
      item.node.remove();
      this.items_.delete(name);
    }
    this.render_badges_();
  }

  // From GET /api/groups: the group member each consumer process is, beside its state.
  set_groups(groups) {
    this.kafka_.clear();
    for (const group of groups)
      for (const member of group.members || [])
        if (member.process) this.kafka_.set(member.process, { group: group.group, partitions: member.partitions, lag: member.lag });
    for (const item of this.items_.values()) this.render_(item);
  }

  build_(name) {
    const node = clone_template('process-template');
    node.dataset.process = name;
    node.querySelector('.name').textContent = name;
    for (const button of node.querySelectorAll('button[data-action]')) {
      button.setAttribute('aria-label', `${button.dataset.action} ${name}`);
      button.addEventListener('click', () => this.act_(name, button.dataset.action, node));
    }
    return node;
  }

  render_(item) {
    const { process, node } = item;
    const state = node.querySelector('.state');
    state.textContent = process.state;
    state.className = `state ${STATE_CLASS[process.state] || 'idle'}`;
    const facts = [];
    facts.push(['pid', process.pid ?? '–']);
    facts.push(['up', UP_STATES.has(process.state) ? format_duration(this.uptime_(item)) : '–']);
    facts.push(['restarts', process.restarts]);
    // The daemon says "exit code 1" or "killed by signal 9": "last exit code 1" reads on.
    facts.push(process.last_exit ? ['last', process.last_exit] : ['last exit', '–']);
    const kafka = UP_STATES.has(process.state) ? this.kafka_.get(process.name) : undefined;
    if (kafka) {
      facts.push(['group', kafka.group]);
      facts.push(['partitions', kafka.partitions.length ? kafka.partitions.join(', ') : 'none (idle)']);
      facts.push(['lag', kafka.lag]);
    }
    const box = node.querySelector('.facts');
    box.replaceChildren(...facts.map(([label, value]) => {
      const fact = el('span', 'fact');
      fact.dataset.fact = label;
      fact.append(el('span', 'label', label), el('span', 'value', value));
      if (label.startsWith('last') || label === 'group') fact.classList.add('wide');
      return fact;
    }));
    const busy = node.classList.contains('busy');
    for (const button of node.querySelectorAll('button[data-action]')) {
      const action = button.dataset.action;
      const useless = (action === 'start' && UP_STATES.has(process.state)) ||
                      (action === 'stop' && ['STOPPED', 'EXITED', 'FATAL', 'STOPPING'].includes(process.state));
      button.disabled = busy || useless;
    }
  }

  uptime_(item) {
    const base = item.process.uptime_seconds || 0;
    return base + (performance.now() - item.received_at) / 1000;
  }

  render_badges_() {
    const by_terminal = new Map();
    for (const { process } of this.items_.values()) {
      if (!by_terminal.has(process.terminal)) by_terminal.set(process.terminal, []);
      by_terminal.get(process.terminal).push(process);
    }
    for (const [terminal, list] of by_terminal) {
      this.pane_for_(terminal).status.replaceChildren(...list.map((process) => {
        const badge = el('span', `state ${STATE_CLASS[process.state] || 'idle'}`, process.state);
        badge.title = process.name === terminal ? process.state : `${process.name}: ${process.state}`;
        return badge;
      }));
    }
  }

  tick_() {
    for (const item of this.items_.values())
      if (UP_STATES.has(item.process.state)) this.render_(item);
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
