// The orderstream monitor: wires the push stream (/api/stream) and the polled views together.
// Terminal lines are untrusted child output, so everything the daemon sends only becomes text.

import { on_unauthorized, poll, request, set_token, token } from './js/api.js';
import { charts_view } from './js/charts_view.js';
import { cluster_view } from './js/cluster_view.js';
import { confirm_dialog } from './js/confirm_dialog.js';
import { dead_letters_view } from './js/dead_letters_view.js';
import { format_number } from './js/dom.js';
import { groups_view } from './js/groups_view.js';
import { orders_search } from './js/orders_search.js';
import { processes_view } from './js/processes_view.js';
import { sse_stream } from './js/sse_stream.js';
import { terminal_pane } from './js/terminal_pane.js';
import { trace_view } from './js/trace_view.js';

const CLUSTER_POLL_MS = 2000;
const GROUPS_POLL_MS = 2000;
const HISTORY_POLL_MS = 2000;
const DEAD_LETTERS_POLL_MS = 5000;
const PROCESS_POLL_MS = 2000;  // only while the push stream is down
const PREFERRED_ORDER = ['producer', 'shipping', 'email', 'analytics'];
const NEWEST_SEQ = '9007199254740991';  // ?since= this: no lines, just the daemon's current seq

const $ = (id) => document.getElementById(id);
const panes = new Map();  // terminal name -> terminal_pane
let stream_live = false;
let have_lines = false;   // a `lines` event arrived since the daemon (re)started
let instance = null;      // the daemon run whose lines the panes show (`instance` of each event)

// ---- Notices, connection ----------------------------------------------------------------------

// kind: 'bad' for what failed (the default), 'ok' for an action done, 'info' for news and progress.
function notify(text, kind = 'bad') {
  $('notice').textContent = text;
  $('notice').title = text;
  $('notice').dataset.kind = kind;
}

const CONNECTION = {
  connecting: ['connecting…', 'idle'],
  live: ['live', 'ok'],
  reconnecting: ['reconnecting…', 'warn'],
  unauthorized: ['token needed', 'bad'],
};

function set_connection(state) {
  stream_live = state === 'live';
  const [text, tone] = CONNECTION[state] || CONNECTION.connecting;
  $('connection').textContent = text;
  $('connection').className = `badge ${tone}`;
  document.body.dataset.stream = state;
}

// ---- Terminals --------------------------------------------------------------------------------

function rank(name) {
  const i = PREFERRED_ORDER.indexOf(name);
  return i === -1 ? PREFERRED_ORDER.length : i;
}

// Panes appear as the daemon names terminals, so a config with other terminals gets a pane each.
function pane_for(name) {
  let pane = panes.get(name);
  if (pane) return pane;
  pane = new terminal_pane(name, { on_clear: clear_pane });
  // Known terminals keep their usual order; unknown ones follow in the order they appear.
  const later = [...panes.values()].find((other) => rank(other.name) > rank(name));
  $('terminals').insertBefore(pane.section, later ? later.section : null);
  panes.set(name, pane);
  return pane;
}

// While the stream is live its `clear` event empties the pane, in order with the lines that
// follow it; clearing here too could wipe a line that already came after the clear.
async function clear_pane(pane) {
  try {
    await request('POST', `/api/clear/${encodeURIComponent(pane.name)}`);
    if (!stream_live) pane.clear();
    notify('');
  } catch (err) {
    notify(`Could not clear ${pane.name}: ${err.message}`);
  }
}

async function clear_all() {
  try {
    await request('POST', '/api/clear');
    if (!stream_live) panes.forEach((pane) => pane.clear());
    notify('');
  } catch (err) {
    notify(`Could not clear: ${err.message}`);
  }
}

function on_lines(body) {
  // On a first connection every line the ring dropped is "missed"; that is history, not a gap.
  // Otherwise the gap lies before this event's lines, so its marker goes first.
  if (have_lines) for (const name of body.missed || []) pane_for(name).mark_missed();
  for (const [name, entries] of Object.entries(body.terminals || {})) pane_for(name).append(entries);
  for (const [name, dropped] of Object.entries(body.dropped || {})) pane_for(name).set_dropped(dropped);
  have_lines = true;
  instance = body.instance ?? instance;
}

// Before resuming, ask which daemon run answers: another one (it restarted) numbers its lines
// afresh, so the panes start over instead of resuming at a seq that means nothing there.
async function before_reconnect(last_id) {
  const answer = await request('GET', `/api/outputs?since=${NEWEST_SEQ}`);
  if (answer.instance !== instance) {
    panes.forEach((pane) => pane.reset());
    have_lines = false;
    notify('The daemon restarted; showing its new output.', 'info');
    return '';
  }
  return last_id;
}

// ---- Top bar figures --------------------------------------------------------------------------

function on_metrics(metrics) {
  $('rate-orders').textContent = format_number(metrics.orders_per_second, 1);
  $('rate-revenue').textContent = `$${format_number(metrics.revenue_per_second, 2)}`;
  $('rate-total').textContent = format_number(metrics.orders);
  if (typeof metrics.cluster_reachable === 'boolean') cluster.set_reachable(metrics.cluster_reachable, metrics.cluster_waiting);
  // Each group's health, judged every second: its card's badge and the stalled copies' cards.
  if (metrics.groups) {
    groups.set_health(metrics.groups);
    processes.set_health(metrics.groups);
  }
}

// ---- Access token -----------------------------------------------------------------------------

function ask_for_token() {
  const form = $('token-form');
  if (!form.hidden) return;
  form.hidden = false;
  notify(token() ? 'The access token was refused; enter the right one.' : 'This daemon needs an access token.');
  $('token-input').focus();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  set_token($('token-input').value.trim());
  $('token-input').value = '';
  $('token-form').hidden = true;
  notify('');
  stream.restart();
  refreshers.forEach((run) => run());
});
on_unauthorized(ask_for_token);

// ---- Views ------------------------------------------------------------------------------------

const processes = new processes_view($('processes'), { pane_for, notify });
const cluster = new cluster_view(
  { alert: $('cluster-alert'), brokers: $('brokers'), topics: $('topics'), badge: $('cluster-badge') },
  { notify, refresh_soon: () => refresh_cluster() });
const confirm = new confirm_dialog($('confirm-dialog'));
const groups = new groups_view($('groups'), { on_groups: (list) => processes.set_groups(list), confirm, notify });
const charts = new charts_view(
  { orders: $('chart-orders'), revenue: $('chart-revenue'), lag: $('chart-lag'), latency: $('chart-latency') },
  $('charts-note'));
const trace = new trace_view($('trace-form'), $('trace-input'), $('trace-result'));
new orders_search($('search-form'), $('search-results'), {
  on_pick(id) {
    $('trace-input').value = id;
    trace.trace(id);
  },
});
const dead_letters = new dead_letters_view($('dlq-counts'), $('dlq-table').tBodies[0], { confirm, notify });

const stream = new sse_stream('/api/stream', {
  on_state: set_connection,
  before_reconnect,
  on_event(type, data) {
    let body;
    try {
      body = JSON.parse(data);
    } catch {
      return;  // not ours to show
    }
    if (type === 'lines') on_lines(body);
    else if (type === 'clear') { if (body.terminal) pane_for(body.terminal).clear(); }
    else if (type === 'processes') processes.update(body);
    else if (type === 'metrics') on_metrics(body);
  },
});

// Background polls pause while the tab is hidden; they catch up when it shows again.
const visible = (fn) => () => (document.hidden ? undefined : fn());
const refresh_cluster = poll(visible(() => cluster.refresh()), CLUSTER_POLL_MS);
const refreshers = [
  refresh_cluster,
  poll(visible(() => groups.refresh()), GROUPS_POLL_MS),
  poll(visible(() => charts.refresh()), HISTORY_POLL_MS),
  poll(visible(() => dead_letters.refresh()), DEAD_LETTERS_POLL_MS),
  poll(async () => {
    if (!stream_live) processes.update(await request('GET', '/api/processes'));
  }, PROCESS_POLL_MS),
];
// Back online: reconnect now rather than when the backoff says.
window.addEventListener('online', () => {
  if (!stream_live) stream.restart();
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refreshers.forEach((run) => run());
});

$('clear-all').addEventListener('click', clear_all);
stream.start();
