// A Server-Sent Events client on fetch(), so the stream can carry an Authorization header (which
// EventSource cannot). It parses the event-stream format itself and reconnects after any drop
// with Last-Event-ID set to the last id it saw, which the daemon resumes from exactly.

import { auth_headers, report_unauthorized, token } from './api.js';

const MAX_RETRY_MS = 10000;
const STALL_MS = 40000;  // the daemon sends a ping comment every 15 s; silence this long is a dead link

export class sse_stream {
  // handlers: on_event(type, data_text), on_state(state, detail) with state one of
  // 'connecting', 'live', 'reconnecting', 'unauthorized'; before_reconnect(last_id) may return a
  // different id to resume from (app.js uses it to notice a restarted daemon).
  constructor(path, handlers) {
    this.path_ = path;
    this.handlers_ = handlers;
    this.last_id_ = '';
    this.retry_ms_ = 1000;
    this.failures_ = 0;
    this.controller_ = null;
    this.timer_ = null;
    this.generation_ = 0;
  }

  get last_id() { return this.last_id_; }

  start() {
    this.connect_();
  }

  // Drops the current connection (if any) and connects again at once, e.g. after a new token.
  restart() {
    this.generation_++;
    clearTimeout(this.timer_);
    if (this.controller_) this.controller_.abort();
    this.connect_();
  }

  async connect_() {
    const generation = ++this.generation_;
    const stale = () => generation !== this.generation_;
    this.handlers_.on_state(this.failures_ ? 'reconnecting' : 'connecting');
    if (this.last_id_ && this.handlers_.before_reconnect) {
      try {
        this.last_id_ = await this.handlers_.before_reconnect(this.last_id_);
      } catch {
        // The probe failed; the stream request below will fail too and be retried.
      }
      if (stale()) return;
    }

    const controller = new AbortController();
    this.controller_ = controller;
    let watchdog = null;
    const feed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), STALL_MS);
    };
    let received = false;
    try {
      const headers = auth_headers({ Accept: 'text/event-stream' });
      if (this.last_id_) headers['Last-Event-ID'] = this.last_id_;
      feed();
      const response = await fetch(this.path_, { headers, cache: 'no-store', signal: controller.signal });
      if (response.status === 401) {
        clearTimeout(watchdog);
        report_unauthorized();
        this.handlers_.on_state('unauthorized');
        // Waits for restart() with a token; without one there is nothing to retry with.
        if (!token()) return;
        throw new Error('the access token was refused');
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      this.handlers_.on_state('live');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new event_parser((type, data, id, retry) => {
        if (stale()) return;
        if (retry !== null) this.retry_ms_ = retry;
        if (type !== null) {
          received = true;
          this.failures_ = 0;
          try {
            this.handlers_.on_event(type, data);
          } catch (err) {
            reportError(err);  // a bug in a view: say so, and keep the stream going
          }
        }
        if (id !== null) this.last_id_ = id;  // after the event was handled, so a failure replays it
      });
      for (;;) {
        const { value, done } = await reader.read();
        if (done || stale()) break;
        feed();
        parser.push(value);
      }
    } catch (err) {
      // Aborted, network error or refused: all end in a reconnect below.
    } finally {
      clearTimeout(watchdog);
    }
    if (stale()) return;
    if (!received) this.failures_++;
    const delay = Math.min(this.retry_ms_ * 2 ** Math.max(0, this.failures_ - 1), MAX_RETRY_MS);
    this.handlers_.on_state('reconnecting', delay);
    this.timer_ = setTimeout(() => this.connect_(), delay);
  }
}

// The text/event-stream format (HTML Living Standard, "Server-sent events", 9.2.5-9.2.6):
// lines end in CR, LF or CRLF; a blank line ends an event; ':' starts a comment.
export class event_parser {
  // dispatch(type or null, data, id or null, retry or null)
  constructor(dispatch) {
    this.dispatch_ = dispatch;
    this.buffer_ = '';
    this.type_ = '';
    this.data_ = [];
    this.id_ = null;
    this.after_cr_ = false;
  }

  push(text) {
    if (this.after_cr_ && text.startsWith('\n')) text = text.slice(1);  // the LF of a split CRLF
    this.after_cr_ = text.endsWith('\r');
    this.buffer_ += text;
    const lines = this.buffer_.split(/\r\n|\r|\n/);
    this.buffer_ = lines.pop();
    for (const line of lines) this.line_(line);
  }

  line_(line) {
    if (line === '') return this.end_event_();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type_ = value;
    else if (field === 'data') this.data_.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id_ = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.dispatch_(null, '', null, Number(value));
  }

  end_event_() {
    const id = this.id_;
    this.id_ = null;
    if (this.data_.length === 0) {
      this.type_ = '';
      if (id !== null) this.dispatch_(null, '', id, null);
      return;
    }
    const type = this.type_ || 'message';
    const data = this.data_.join('\n');
    this.type_ = '';
    this.data_ = [];
    this.dispatch_(type, data, id, null);
  }
}
