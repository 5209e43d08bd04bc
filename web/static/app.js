// The orderstream monitor: polls the daemon for new terminal lines and process states and renders
// them into one pane per terminal. Lines are untrusted child output, so they only ever become text.
'use strict';

const OUTPUT_POLL_MS = 500;
const OUTPUT_RETRY_MS = 2000;
const PROCESS_POLL_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;  // a hung request would otherwise stall its poll loop for good
const MAX_LINES = 1000;           // per pane, matching the daemon's ring
const PREFERRED_ORDER = ['producer', 'shipping', 'email', 'analytics'];
const STATE_CLASS = {
  RUNNING: 'ok',
  STARTING: 'warn', BACKOFF: 'warn', STOPPING: 'warn',
  FATAL: 'bad', EXITED: 'bad',
  STOPPED: 'idle',
};

const panes = new Map();  // terminal name -> pane
let since = 0;            // highest seq rendered so far

// ---- HTTP -------------------------------------------------------------------------------------

async function request(method, path) {
  const response = await fetch(path, {
    method,
    cache: 'no-store',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${method} ${path}: HTTP ${response.status}`);
  return body;
}

// ---- Panes ------------------------------------------------------------------------------------

function rank(name) {
  const i = PREFERRED_ORDER.indexOf(name);
  return i === -1 ? PREFERRED_ORDER.length : i;
}

// Panes appear as the API names terminals, so a config with other terminals still gets a pane each.
function pane_for(name) {
  let pane = panes.get(name);
  if (pane) return pane;

  const section = document.getElementById('terminal-template').content.firstElementChild.cloneNode(true);
  section.dataset.terminal = name;
  section.querySelector('.title').textContent = name;
  pane = {
    name,
    section,
    lines: section.querySelector('.lines'),
    count: section.querySelector('.count'),
    status: section.querySelector('.status'),
    jump: section.querySelector('.jump'),
    follow: true,  // keep the newest line in view until the user scrolls up
    last_top: 0,   // scrollTop as we last left it, to tell the user's scrolling from ours
  };
  pane.lines.addEventListener('scroll', () => on_scroll(pane));
  // The header can wrap to more rows and the window can shrink; stay on the newest line regardless.
  new ResizeObserver(() => pane.follow && scroll_to_latest(pane)).observe(pane.lines);
  pane.jump.addEventListener('click', () => scroll_to_latest(pane));
  section.querySelector('.clear').addEventListener('click', () => clear(pane));

  // Known terminals keep their usual order; unknown ones follow in the order they appear.
  const grid = document.getElementById('terminals');
  const later = [...panes.values()].find((other) => rank(other.name) > rank(name));
  grid.insertBefore(section, later ? later.section : null);
  panes.set(name, pane);
  return pane;
}

function at_bottom(element) {
  return element.scrollHeight - element.scrollTop - element.clientHeight < 8;
}

// Scroll events arrive a frame late, after layout may have changed, so "not at the bottom" alone
// does not mean the user scrolled away; only moving up does.
function on_scroll(pane) {
  const top = pane.lines.scrollTop;
  if (at_bottom(pane.lines)) set_follow(pane, true);
  else if (top < pane.last_top) set_follow(pane, false);
  pane.last_top = top;
}

function set_follow(pane, follow) {
  pane.follow = follow;
  pane.jump.hidden = follow;
}

function scroll_to_latest(pane) {
  pane.lines.scrollTop = pane.lines.scrollHeight;
  pane.last_top = pane.lines.scrollTop;
  set_follow(pane, true);
}

function render_line(entry) {
  const line = document.createElement('div');
  line.className = 'line';
  const ts = document.createElement('span');
  ts.className = 'ts';
  ts.textContent = entry.timestamp;
  line.append(ts, document.createTextNode(entry.line));
  return line;
}

function append_lines(pane, entries) {
  if (entries.length === 0) return;
  const fragment = document.createDocumentFragment();
  for (const entry of entries.slice(-MAX_LINES)) fragment.append(render_line(entry));
  pane.lines.append(fragment);

  const height_before_trim = pane.lines.scrollHeight;
  while (pane.lines.childElementCount > MAX_LINES) pane.lines.firstElementChild.remove();
  if (pane.follow) {
    scroll_to_latest(pane);
  } else {
    // Trimming the top moves everything up; shift back so what the user is reading stays put.
    pane.lines.scrollTop -= height_before_trim - pane.lines.scrollHeight;
    pane.last_top = pane.lines.scrollTop;
  }
  update_count(pane);
}

function empty_pane(pane) {
  pane.lines.replaceChildren();
  set_follow(pane, true);
  update_count(pane);
}

function update_count(pane) {
  const n = pane.lines.childElementCount;
  let text = `${n} ${n === 1 ? 'line' : 'lines'}`;
  if (pane.dropped > 0) text += ` · ${pane.dropped} rotated out`;
  pane.count.textContent = text;
}

// ---- Output polling ---------------------------------------------------------------------------

async function poll_outputs() {
  let delay = OUTPUT_POLL_MS;
  try {
    const body = await request('GET', `/api/outputs?since=${since}`);
    if (body.seq < since) {
      // Sequence numbers only grow, so the daemon restarted: start over from its first line.
      panes.forEach(empty_pane);
      since = 0;
    } else {
      for (const [name, entries] of Object.entries(body.terminals || {})) {
        append_lines(pane_for(name), entries);
      }
      for (const [name, dropped] of Object.entries(body.dropped || {})) {
        const pane = pane_for(name);
        pane.dropped = dropped;
        update_count(pane);
      }
      since = body.seq;
    }
    set_connection(true);
  } catch (err) {
    set_connection(false);
    delay = OUTPUT_RETRY_MS;
  }
  setTimeout(poll_outputs, delay);
}

function set_connection(connected) {
  const badge = document.getElementById('connection');
  badge.textContent = connected ? 'connected' : 'disconnected';
  badge.className = `badge ${connected ? 'ok' : 'bad'}`;
}

// ---- Process polling --------------------------------------------------------------------------

async function poll_processes() {
  try {
    const processes = await request('GET', '/api/processes');
    const by_terminal = new Map();
    for (const process of processes) {
      if (!by_terminal.has(process.terminal)) by_terminal.set(process.terminal, []);
      by_terminal.get(process.terminal).push(process);
    }
    for (const [name, list] of by_terminal) {
      pane_for(name).status.replaceChildren(...list.map((p) => render_process(p, name)));
    }
  } catch (err) {
    // The output poll already shows the daemon as disconnected; keep the last known states.
  }
  setTimeout(poll_processes, PROCESS_POLL_MS);
}

function render_process(process, terminal) {
  const strip = document.createElement('span');
  strip.className = 'proc';

  const state = document.createElement('span');
  state.className = `state ${STATE_CLASS[process.state] || 'idle'}`;
  state.textContent = process.state;
  strip.append(state);

  const facts = [];
  if (process.name !== terminal) facts.push(process.name);
  if (process.pid) facts.push(`pid ${process.pid}`);
  if (process.state === 'RUNNING') facts.push(`up ${format_uptime(process.uptime_seconds)}`);
  facts.push(`${process.restarts} ${process.restarts === 1 ? 'restart' : 'restarts'}`);
  if (process.last_exit && process.state !== 'RUNNING') facts.push(process.last_exit);
  for (const fact of facts) {
    const span = document.createElement('span');
    span.className = 'fact';
    span.textContent = fact;
    strip.append(span);
  }
  if (process.last_exit) strip.title = `last exit: ${process.last_exit}`;
  return strip;
}

function format_uptime(seconds) {
  const s = Math.floor(seconds || 0);
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
}

// ---- Clearing ---------------------------------------------------------------------------------

async function clear(pane) {
  try {
    await request('POST', `/api/clear/${encodeURIComponent(pane.name)}`);
    empty_pane(pane);
    show_notice('');
  } catch (err) {
    show_notice(`Could not clear ${pane.name}: ${err.message}`);
  }
}

async function clear_all() {
  try {
    await request('POST', '/api/clear');
    panes.forEach(empty_pane);
    show_notice('');
  } catch (err) {
    show_notice(`Could not clear: ${err.message}`);
  }
}

function show_notice(text) {
  document.getElementById('notice').textContent = text;
}

// ---- Start ------------------------------------------------------------------------------------

document.getElementById('clear-all').addEventListener('click', clear_all);
poll_outputs();
poll_processes();
