// One terminal pane: the lines of one captured terminal, with a filter, pause, clear, the count of
// lines the daemon's ring dropped, and a notice when this page missed lines.

import { render_ansi } from './ansi.js';
import { clone_template, el } from './dom.js';

export const MAX_LINES = 1000;  // per pane, matching the daemon's default ring

const plain_text = new WeakMap();  // line element -> its text in lower case, for the filter

export class terminal_pane {
  constructor(name, { on_clear }) {
    this.name = name;
    this.section = clone_template('terminal-template');
    this.section.dataset.terminal = name;
    this.section.querySelector('.title').textContent = name;
    this.lines_ = this.section.querySelector('.lines');
    this.lines_.setAttribute('aria-label', `${name} output`);
    this.count_ = this.section.querySelector('.count');
    this.status = this.section.querySelector('.status');
    this.jump_ = this.section.querySelector('.jump');
    this.missed_ = this.section.querySelector('.missed');
    this.filter_ = this.section.querySelector('.filter');
    this.pause_ = this.section.querySelector('.pause');
    this.filter_.setAttribute('aria-label', `filter ${name} lines`);

    this.last_seq = 0;     // highest seq shown or held, so a replayed line is never shown twice
    this.dropped_ = 0;
    this.line_count_ = 0;  // line elements, without gap markers
    this.held_ = [];       // lines that arrived while paused
    this.paused_ = false;
    this.needle_ = '';
    this.follow_ = true;   // keep the newest line in view until the user scrolls up
    this.last_top_ = 0;    // scrollTop as we last left it, to tell the user's scrolling from ours

    this.lines_.addEventListener('scroll', () => this.on_scroll_());
    // The header can wrap and the window can shrink; stay on the newest line regardless.
    new ResizeObserver(() => this.follow_ && this.scroll_to_latest_()).observe(this.lines_);
    this.jump_.addEventListener('click', () => this.scroll_to_latest_());
    this.section.querySelector('.clear').addEventListener('click', () => on_clear(this));
    this.pause_.addEventListener('click', () => this.set_paused_(!this.paused_));
    this.filter_.addEventListener('input', () => this.apply_filter_());
    this.missed_.addEventListener('click', () => { this.missed_.hidden = true; });
    this.update_count_();
  }

  // entries: [{seq, timestamp, line}] in seq order.
  append(entries) {
    const fresh = entries.filter((e) => e.seq === undefined || e.seq > this.last_seq);
    if (fresh.length === 0) return;
    const newest = fresh[fresh.length - 1].seq;
    if (newest !== undefined) this.last_seq = newest;
    if (this.paused_) {
      this.held_.push(...fresh);
      if (this.held_.length > MAX_LINES) this.held_.splice(0, this.held_.length - MAX_LINES);
      this.update_count_();
      return;
    }
    this.render_(fresh);
  }

  set_dropped(dropped) {
    if (dropped === this.dropped_) return;
    this.dropped_ = dropped;
    this.update_count_();
  }

  // Lines were lost between what this page had and what it got: mark the place and say so.
  mark_missed() {
    const time = new Date().toLocaleTimeString('en-GB');
    const marker = el('div', 'gap', `— lines missing here: this page fell behind the daemon's ring (${time}) —`);
    if (this.paused_) this.held_.push({ marker });
    else this.append_nodes_([marker]);
    this.missed_.textContent = `Some lines were lost to this page at ${time}; they are marked in the log. (click to dismiss)`;
    this.missed_.hidden = false;
  }

  clear() {
    this.lines_.replaceChildren();
    this.held_ = [];
    this.line_count_ = 0;
    this.missed_.hidden = true;
    this.set_follow_(true);
    this.update_count_();
  }

  // A restarted daemon numbers its lines from 1 again.
  reset() {
    this.clear();
    this.last_seq = 0;
    this.dropped_ = 0;
    this.update_count_();
  }

  render_(entries) {
    const nodes = [];
    for (const entry of entries.slice(-MAX_LINES)) nodes.push(entry.marker || this.render_line_(entry));
    this.append_nodes_(nodes);
  }

  render_line_(entry) {
    const line = el('div', 'line');
    if (entry.seq !== undefined) line.dataset.seq = entry.seq;
    const { nodes, text } = render_ansi(entry.line);
    line.append(el('span', 'ts', entry.timestamp), ...nodes);
    plain_text.set(line, text.toLowerCase());
    if (this.needle_ && !text.toLowerCase().includes(this.needle_)) line.hidden = true;
    this.line_count_++;
    return line;
  }

  append_nodes_(nodes) {
    if (nodes.length === 0) return;
    const fragment = document.createDocumentFragment();
    fragment.append(...nodes);
    this.lines_.append(fragment);

    // Reading scrollHeight forces a layout: only needed to keep a scrolled-back reader in place.
    const height_before_trim = this.follow_ ? 0 : this.lines_.scrollHeight;
    while (this.lines_.childElementCount > MAX_LINES) {
      const first = this.lines_.firstElementChild;
      if (first.classList.contains('line')) this.line_count_--;
      first.remove();
    }
    if (this.follow_) {
      this.scroll_to_latest_();
    } else {
      // Trimming the top moves everything up; shift back so what the user is reading stays put.
      this.lines_.scrollTop -= height_before_trim - this.lines_.scrollHeight;
      this.last_top_ = this.lines_.scrollTop;
    }
    this.update_count_();
  }

  set_paused_(paused) {
    this.paused_ = paused;
    this.pause_.setAttribute('aria-pressed', String(paused));
    this.pause_.textContent = paused ? 'Resume' : 'Pause';
    this.section.classList.toggle('paused', paused);
    if (!paused) {
      const held = this.held_;
      this.held_ = [];
      this.render_(held);
      this.scroll_to_latest_();
    }
    this.update_count_();
  }

  apply_filter_() {
    this.needle_ = this.filter_.value.trim().toLowerCase();
    for (const line of this.lines_.children) {
      const text = plain_text.get(line);
      if (text === undefined) {
        line.hidden = this.needle_ !== '';  // gap markers show only unfiltered
        continue;
      }
      line.hidden = this.needle_ !== '' && !text.includes(this.needle_);
    }
    if (this.follow_) this.scroll_to_latest_();
    this.update_count_();
  }

  update_count_() {
    const n = this.line_count_;
    const parts = [`${n} ${n === 1 ? 'line' : 'lines'}`];
    if (this.needle_) {
      let shown = 0;
      for (const line of this.lines_.children) if (!line.hidden && plain_text.has(line)) shown++;
      parts.push(`${shown} shown`);
    }
    if (this.held_.length > 0) parts.push(`${this.held_.length} held`);
    parts.push(`${this.dropped_} dropped`);
    this.count_.textContent = parts.join(' · ');
    this.count_.title = `lines in this pane; ${this.dropped_} pushed out of the daemon's ring of recent lines`;
  }

  on_scroll_() {
    // Scroll events arrive a frame late, after layout may have changed, so "not at the bottom"
    // alone does not mean the user scrolled away; only moving up does.
    const top = this.lines_.scrollTop;
    const at_bottom = this.lines_.scrollHeight - top - this.lines_.clientHeight < 8;
    if (at_bottom) this.set_follow_(true);
    else if (top < this.last_top_) this.set_follow_(false);
    this.last_top_ = top;
  }

  set_follow_(follow) {
    this.follow_ = follow;
    this.jump_.hidden = follow;
  }

  scroll_to_latest_() {
    this.lines_.scrollTop = this.lines_.scrollHeight;
    this.last_top_ = this.lines_.scrollTop;
    this.set_follow_(true);
  }
}
