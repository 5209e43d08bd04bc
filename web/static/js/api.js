// Requests to the daemon's JSON API, with the access token when one was given. A 401 from any
// request tells the page to ask for the token (see app.js); the token lives in sessionStorage
// only, so it is gone when the tab is closed.

const TOKEN_KEY = 'orderstream.token';
const REQUEST_TIMEOUT_MS = 5000;  // a hung request would otherwise stall its poll loop for good

const unauthorized_listeners = [];

export class api_error extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';  // storage disabled: the token cannot be kept, and none was given
  }
}

export function set_token(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing to do: without storage the user is asked again after a reload.
  }
}

export function auth_headers(extra = {}) {
  const headers = { ...extra };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  return headers;
}

export function on_unauthorized(listener) {
  unauthorized_listeners.push(listener);
}

export function report_unauthorized() {
  for (const listener of unauthorized_listeners) listener();
}

// body, when given, goes as JSON.
export async function request(method, path, { timeout_ms = REQUEST_TIMEOUT_MS, body } = {}) {
  let response;
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    response = await fetch(path, {
      method,
      cache: 'no-store',
      headers: auth_headers(headers),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout_ms),
    });
  } catch (err) {
    throw new api_error(err.name === 'TimeoutError' ? `${path}: no answer in ${timeout_ms / 1000} s`
                                                   : `${path}: daemon unreachable`, 0);
  }
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) report_unauthorized();
  if (!response.ok) {
    const message = (answer && typeof answer.error === 'string') ? answer.error : `${method} ${path}: HTTP ${response.status}`;
    throw new api_error(message, response.status);
  }
  return answer;
}

// Runs fn every interval_ms, each run starting after the previous one ended, so a slow daemon
// never gets a pile of overlapping requests. Returns a function that runs it at once.
export function poll(fn, interval_ms) {
  let timer = null;
  let running = false;
  const run = async () => {
    if (running) return;
    clearTimeout(timer);
    running = true;
    try {
      await fn();
    } catch (err) {
      // Each view shows its own failure; a poll loop must never stop.
    } finally {
      running = false;
      timer = setTimeout(run, interval_ms);
    }
  };
  run();
  return run;
}
