// The page's Server-Sent Events parser (web/static/js/sse_stream.js) on its own, in node: the
// stream arrives in arbitrary pieces, so every split of a recorded stream must give the same events.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { event_parser } from '../../web/static/js/sse_stream.js';

function parse(chunks) {
  const events = [];
  const parser = new event_parser((type, data, id, retry) => events.push({ type, data, id, retry }));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

const STREAM = 'retry: 1000\n\nevent: processes\ndata: [{"name":"producer"}]\n\n: ping\n\n' +
               'id: 57\nevent: lines\ndata: {"seq":57}\n\nevent: clear\r\ndata: {"terminal":"email"}\r\n\r\n' +
               'data: first\ndata: second\n\nid: 58\n\n';
const EXPECTED = [
  { type: null, data: '', id: null, retry: 1000 },
  { type: 'processes', data: '[{"name":"producer"}]', id: null, retry: null },
  { type: 'lines', data: '{"seq":57}', id: '57', retry: null },
  { type: 'clear', data: '{"terminal":"email"}', id: null, retry: null },
  { type: 'message', data: 'first\nsecond', id: null, retry: null },
  { type: null, data: '', id: '58', retry: null },
];

test('a stream in one piece gives its events in order', () => {
  assert.deepEqual(parse([STREAM]), EXPECTED);
});

test('every split into two pieces gives the same events, CRLF split included', () => {
  for (let i = 1; i < STREAM.length; i++) assert.deepEqual(parse([STREAM.slice(0, i), STREAM.slice(i)]), EXPECTED, `split at ${i}`);
});

test('one character at a time gives the same events', () => {
  assert.deepEqual(parse([...STREAM]), EXPECTED);
});

test('an event is only dispatched once its blank line arrived', () => {
  assert.deepEqual(parse(['id: 9\nevent: lines\ndata: {}\n']), []);
});
