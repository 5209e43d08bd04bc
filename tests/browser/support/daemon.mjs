// Starts the real `orderstream run` for one test: on a free port, with a config of the test's
// own in a temporary folder, and stops it again (SIGTERM, then SIGKILL) whatever happened.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const START_TIMEOUT_MS = 30000;
const STOP_TIMEOUT_MS = 15000;

export function binary_path() {
  const binary = process.env.ORDERSTREAM_BINARY;
  if (!binary) throw new Error('set ORDERSTREAM_BINARY to build/daemon/orderstream (CTest does)');
  return binary;
}

// toml: the config file's text; [producer] delay_seconds = 0.2 and a short stop grace are added
// unless the text sets those tables itself.
export async function start_daemon({ toml = '', env = {} } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'orderstream-browser-'));
  let text = toml;
  if (!/^\[producer\]/m.test(text)) text += '\n[producer]\ndelay_seconds = 0.2\n';
  if (!/^\[supervisor\]/m.test(text)) text += '\n[supervisor]\nstop_grace_seconds = 3.0\n';
  const config = path.join(dir, 'orderstream.toml');
  await writeFile(config, text);

  const child_env = { ...process.env, ...env };
  delete child_env.ORDERSTREAM_TOKEN;  // a token from the developer's shell would change the tests
  delete child_env.ORDERSTREAM_BOOTSTRAP_SERVERS;
  const args = ['run', '--listen', '127.0.0.1:0', '--config', config];
  // While working on the page: serve it from a folder (static/ plus vendor/) instead of the binary.
  if (process.env.ORDERSTREAM_WEB_ROOT) args.push('--web-root', process.env.ORDERSTREAM_WEB_ROOT);
  const child = spawn(binary_path(), args,
                      { cwd: dir, env: child_env, stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  let url = null;
  let bootstrap = null;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  await new Promise((resolve, reject) => {
    // A daemon that does not come up is killed here: nothing else would stop it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rm(dir, { recursive: true, force: true }).catch(() => {});
      reject(new Error(`daemon did not start in ${START_TIMEOUT_MS} ms:\n${log.join('\n')}`));
    }, START_TIMEOUT_MS);
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        log.push(line);
        if (log.length > 2000) log.shift();
        const cluster = line.match(/embedded \d+-broker cluster at (\S+)/);
        if (cluster) bootstrap = cluster[1];
        const listening = line.match(/web monitor listening on (http:\/\/\S+?)\/?$/);
        if (listening && !url) {
          url = listening[1];
          clearTimeout(timer);
          resolve();
        }
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code ?? signal}) before listening:\n${log.join('\n')}`));
    });
  });

  const daemon = {
    url,
    bootstrap,
    log,
    dir,
    // JSON API call from the test itself (not the page); body, when given, goes as JSON.
    async api(method, api_path, { token, body } = {}) {
      const headers = token ? { Authorization: `Bearer ${token}` } : {};
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(url + api_path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                                     signal: AbortSignal.timeout(5000) });
      const answer = await response.json().catch(() => null);
      if (!response.ok) throw new Error(`${method} ${api_path}: HTTP ${response.status} ${JSON.stringify(answer)}`);
      return answer;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timeout = new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout'));
        if (await Promise.race([exited, timeout]) === 'timeout') {
          child.kill('SIGKILL');
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
    tail(n = 40) {
      return log.slice(-n).join('\n');
    },
  };
  return daemon;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls check() until it returns something truthy; fails with what it last saw.
export async function eventually(check, { timeout_ms = 15000, interval_ms = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout_ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(interval_ms);
  }
}

// Waits until no terminal has got a new line for quiet_ms (after stopping the producer).
export async function wait_quiet(daemon, { quiet_ms = 1500, timeout_ms = 20000 } = {}) {
  const deadline = Date.now() + timeout_ms;
  let seq = (await daemon.api('GET', '/api/outputs?since=9007199254740991')).seq;
  let since = Date.now();
  while (Date.now() - since < quiet_ms) {
    if (Date.now() > deadline) throw new Error('the terminals never went quiet');
    await sleep(250);
    const now = (await daemon.api('GET', '/api/outputs?since=9007199254740991')).seq;
    if (now !== seq) {
      seq = now;
      since = Date.now();
    }
  }
  return seq;
}
