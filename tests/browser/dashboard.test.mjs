// The monitor page in a real browser (Debian's Chromium through playwright-core) against the real
// daemon: each test starts its own `orderstream run` on a free port with the embedded cluster.
// Run: ORDERSTREAM_BINARY=build/daemon/orderstream node --test tests/browser/

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { artifacts_dir, launch_browser, open_page, page_lines } from './support/browser.mjs';
import { eventually, sleep, start_daemon, wait_quiet } from './support/daemon.mjs';
import { start_proxy } from './support/tcp_proxy.mjs';

const TERMINALS = ['producer', 'shipping', 'email', 'analytics'];
const DEPARTMENT_LINE = { producer: 'Order #', shipping: '[shipping] order', email: '[email] order', analytics: '[analytics] order' };
const NEWEST = '/api/outputs?since=9007199254740991';
const OK_GREEN = 'rgb(63, 185, 80)';  // style.css --ok
const BAD_RED = 'rgb(248, 81, 73)';  // style.css --bad

async function notice_colour(page) {
  return page.locator('#notice').evaluate((element) => getComputedStyle(element).color);
}

let browser;
before(async () => {
  browser = await launch_browser();
});
after(async () => {
  await browser?.close();
});

// Starts a daemon, opens the page on it, runs body, and always stops both.
async function with_dashboard(options, body) {
  const daemon = await start_daemon(options);
  let context;
  try {
    const opened = await open_page(browser, options.open === false ? null : `${daemon.url}/`, options);
    context = opened.context;
    await body({ daemon, ...opened });
  } catch (err) {
    err.message += `\n--- daemon log (last lines) ---\n${daemon.tail()}`;
    throw err;
  } finally {
    await context?.close();
    await daemon.stop();
  }
}

function pane(page, terminal) {
  return page.locator(`.terminal[data-terminal="${terminal}"]`);
}

async function wait_for_department_lines(page, timeout = 20000) {
  for (const terminal of TERMINALS)
    await pane(page, terminal).locator('.lines .line', { hasText: DEPARTMENT_LINE[terminal] }).first().waitFor({ timeout });
}

test('the page loads with no console error and reads well at 1440×900 and 390×844', async () => {
  await with_dashboard({}, async ({ daemon, page, problems }) => {
    const response = await page.goto(`${daemon.url}/`);
    assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
    await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 10000 });
    await wait_for_department_lines(page);
    await page.locator('#brokers .broker').first().waitFor();
    await page.locator('#groups .group').first().waitFor();
    await page.locator('#chart-orders canvas').waitFor();
    assert.equal(await page.locator('#charts-note').isHidden(), true, 'the chart library loaded');
    // Enough history for the charts to draw lines, and an order traced.
    await eventually(async () => (await daemon.api('GET', '/api/metrics/history')).points.length >= 8, { what: '8 s of history' });
    await page.fill('#trace-input', '1001');
    await page.click('#trace-form button');
    await page.locator('#trace-result .path').waitFor();
    await sleep(2500);  // one more round of every poll

    const dir = await artifacts_dir();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(dir, 'dashboard-1440x900.png'), fullPage: true });
    await page.screenshot({ path: path.join(dir, 'dashboard-1440x900-viewport.png') });

    const narrow = await open_page(browser, `${daemon.url}/`, { viewport: { width: 390, height: 844 } });
    try {
      await narrow.page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 10000 });
      await wait_for_department_lines(narrow.page);
      await narrow.page.locator('#chart-latency canvas').waitFor();
      await narrow.page.locator('#groups .group').first().waitFor();
      await sleep(2500);
      const widths = await narrow.page.evaluate(() => ({ page: document.documentElement.scrollWidth, window: innerWidth }));
      assert.ok(widths.page <= widths.window, `nothing is wider than a 390 px window (page is ${widths.page} px)`);
      await narrow.page.screenshot({ path: path.join(dir, 'dashboard-390x844.png'), fullPage: true });
      await narrow.page.screenshot({ path: path.join(dir, 'dashboard-390x844-viewport.png') });
      assert.deepEqual(narrow.problems, []);
    } finally {
      await narrow.context.close();
    }
    assert.deepEqual(problems, []);
  });
});

test('orders appear in all four panes within a few seconds', async (t) => {
  await with_dashboard({}, async ({ page }) => {
    const started = Date.now();
    await wait_for_department_lines(page, 20000);
    t.diagnostic(`every pane showed its department's line ${Date.now() - started} ms after the page opened`);
    // The panes come in the pipeline's order.
    assert.deepEqual(await page.locator('.terminal').evaluateAll((nodes) => nodes.map((n) => n.dataset.terminal)), TERMINALS);
  });
});

test('clearing one pane, and all, empties them on the page and in /api/outputs', async () => {
  await with_dashboard({}, async ({ daemon, page }) => {
    await wait_for_department_lines(page);
    // A quiet pipeline, so nothing new arrives between clearing and looking.
    await daemon.api('POST', '/api/processes/producer/stop');
    const seq = await wait_quiet(daemon);
    await eventually(() => page.evaluate((s) => Math.max(0, ...[...document.querySelectorAll('.line')].map((l) => Number(l.dataset.seq))) === s, seq),
                     { what: 'the page to show every line' });

    await pane(page, 'email').locator('button.clear').click();
    await eventually(async () => (await pane(page, 'email').locator('.lines .line').count()) === 0, { what: 'email pane empty' });
    assert.match(await pane(page, 'email').locator('.count').textContent(), /^0 lines/);
    let outputs = await daemon.api('GET', '/api/outputs');
    assert.deepEqual(outputs.email, []);
    assert.ok(outputs.shipping.length > 0, 'the other terminals keep their lines');
    assert.ok(await pane(page, 'shipping').locator('.lines .line').count() > 0);

    // A clear from another client reaches the page through the push stream.
    await daemon.api('POST', '/api/clear/shipping');
    await eventually(async () => (await pane(page, 'shipping').locator('.lines .line').count()) === 0, { what: 'shipping pane empty' });

    await page.click('#clear-all');
    await eventually(async () => (await page.locator('.lines .line').count()) === 0, { what: 'every pane empty' });
    outputs = await daemon.api('GET', '/api/outputs');
    for (const terminal of TERMINALS) assert.deepEqual(outputs[terminal], [], `${terminal} is empty in the API`);
  });
});

test('restarting a consumer from its button shows the state change', async () => {
  await with_dashboard({}, async ({ daemon, page }) => {
    const card = page.locator('#processes .process[data-process="shipping"]');
    await card.locator('.state', { hasText: 'RUNNING' }).waitFor({ timeout: 15000 });
    const pid_before = (await card.locator('[data-fact="pid"] .value').textContent()).trim();
    assert.match(pid_before, /^\d+$/);
    assert.equal(await card.locator('[data-fact="restarts"] .value').textContent(), '0');
    // The producer starts only once the consumers are ready: let this consumer process orders
    // first, or its partitions have no hand to change from.
    await eventually(async () => (await daemon.api('GET', '/api/groups')).find((g) => g.group === 'shipping-group')?.rebalances.length > 0,
                     { timeout_ms: 15000, what: 'the first shipping consumer to process orders' });

    await card.locator('button[data-action="restart"]').click();
    await card.locator('.state', { hasText: /STOPPING|STARTING/ }).waitFor({ timeout: 5000 });
    await pane(page, 'shipping').locator('.status .state', { hasText: /STOPPING|STARTING/ }).waitFor({ timeout: 5000 });
    await card.locator('[data-fact="restarts"] .value', { hasText: '1' }).waitFor({ timeout: 10000 });
    // The new command's pid follows its start by a moment (it runs under the daemon's reaper).
    const pid_after = await eventually(async () => {
      const text = (await card.locator('[data-fact="pid"] .value').textContent()).trim();
      return /^\d+$/.test(text) && text !== pid_before ? text : null;
    }, { timeout_ms: 5000, what: 'the new process\'s pid on its card' });
    const api = (await daemon.api('GET', '/api/processes')).find((p) => p.name === 'shipping');
    assert.equal(String(api.pid), pid_after);
    // The new consumer is a new group member: its partitions change hands on the timeline.
    await eventually(async () => {
      const shipping = (await daemon.api('GET', '/api/groups')).find((g) => g.group === 'shipping-group');
      return shipping && shipping.rebalances.some((r) => r.from !== null);
    }, { timeout_ms: 30000, what: 'a change of hands in shipping-group after the restart' });
    const timeline = page.locator('.group[data-group="shipping-group"] .rebalances');
    await timeline.locator('summary').click();
    await timeline.locator('.timeline li', { hasText: '→' }).first().waitFor({ timeout: 10000 });
    // Stop greys out Stop and offers Start.
    await card.locator('button[data-action="stop"]').click();
    await card.locator('.state', { hasText: 'STOPPED' }).waitFor({ timeout: 10000 });
    assert.equal(await card.locator('button[data-action="start"]').isEnabled(), true);
    assert.equal(await card.locator('button[data-action="stop"]').isDisabled(), true);
  });
});

// The copies of one configured process, as /api/processes lists them (the truth for the copies).
async function api_copies(daemon, process_name) {
  return (await daemon.api('GET', '/api/processes')).filter((p) => p.process === process_name);
}

// The same copies as the page shows them: name, state and partitions from each copy's card.
async function page_copies(page, process_name) {
  return page.locator(`#processes .program[data-program="${process_name}"] .process`).evaluateAll((nodes) => nodes.map((node) => ({
    name: node.dataset.process,
    state: node.querySelector('.state').textContent,
    partitions: node.querySelector('[data-fact="partitions"] .value')?.textContent ?? null,
  })));
}

// What a copy's card should show for it.
function as_shown(copy) {
  return { name: copy.name, state: copy.state, partitions: copy.partitions.join(', ') };
}

// Throws unless `count` copies run, each holding partitions of its own, together all of 0..partitions-1.
function check_split(copies, count, partitions) {
  const summary = JSON.stringify(copies.map((c) => [c.name, c.state, c.instances, c.partitions]));
  if (copies.length !== count) throw new Error(`${copies.length} copies, not ${count}: ${summary}`);
  for (const copy of copies) {
    if (copy.state !== 'RUNNING' || copy.instances !== count || !Array.isArray(copy.partitions) || copy.partitions.length === 0)
      throw new Error(`not every copy RUNNING with partitions of its own: ${summary}`);
  }
  const held = copies.flatMap((c) => c.partitions).sort((a, b) => a - b);
  if (held.join() !== [...Array(partitions).keys()].join()) throw new Error(`partitions not split once each over 0..${partitions - 1}: ${summary}`);
}

test('scaling shipping to three copies splits its partitions among them, and back to one', async (t) => {
  await with_dashboard({}, async ({ daemon, page, problems }) => {
    const program = page.locator('#processes .program[data-program="shipping"]');
    const count = program.locator('.instances');
    const add = program.getByRole('button', { name: 'add a copy of shipping' });
    const remove = program.getByRole('button', { name: 'remove a copy of shipping' });
    await program.locator('.process[data-process="shipping"] .state', { hasText: 'RUNNING' }).waitFor({ timeout: 20000 });
    assert.equal(await count.textContent(), '1');
    assert.equal(await remove.isDisabled(), true, 'one copy is the least');
    assert.equal(await add.isEnabled(), true);

    const scale_to = async (button, wanted) => {
      await button.click();
      await eventually(async () => (await count.textContent()) === String(wanted), { timeout_ms: 5000, what: `the count to show ${wanted}` });
    };
    // Three copies, three partitions (the embedded cluster's): one each, each on its own card.
    const started = Date.now();
    await scale_to(add, 2);
    await scale_to(add, 3);
    const three = await eventually(async () => {
      const copies = await api_copies(daemon, 'shipping');
      check_split(copies, 3, 3);
      const shown = await page_copies(page, 'shipping');
      assert.deepEqual(shown, copies.map(as_shown), 'the page shows the copies /api/processes lists');
      return copies;
    }, { timeout_ms: 60000, interval_ms: 500, what: 'three shipping copies, each RUNNING with a partition of its own, on the page' });
    t.diagnostic(`3 copies held ${three.map((c) => `${c.name}: ${c.partitions}`).join('; ')} ${Date.now() - started} ms after the first click`);
    assert.deepEqual(three.map((c) => c.name), ['shipping', 'shipping-2', 'shipping-3']);
    assert.equal(new Set(three.map((c) => c.pid)).size, 3, 'each copy is a process of its own');

    // All copies write into the one shipping terminal, each line tagged with its copy.
    await pane(page, 'shipping').locator('.lines .line', { hasText: 'shipping-2 | ' }).first().waitFor({ timeout: 15000 });
    const tagged = (await page_lines(page)).shipping.filter((line) => line.text.startsWith('shipping-2 | '));
    assert.ok(tagged.length > 0, 'a shipping line starts with "shipping-2 | "');
    assert.ok((await daemon.api('GET', '/api/outputs')).shipping.some((entry) => entry.line.startsWith('shipping-2 | ')));
    assert.deepEqual(await page.locator('.terminal').evaluateAll((nodes) => nodes.map((n) => n.dataset.terminal)), TERMINALS,
                     'no pane of its own for a copy');
    // The group card lists the copies as its members.
    await page.locator('.group[data-group="shipping-group"] .assignment li[data-process="shipping-3"]').waitFor({ timeout: 10000 });
    // A copy is no process to scale, and 16 copies are the most.
    await assert.rejects(daemon.api('POST', '/api/processes/shipping-2/scale', { body: { instances: 2 } }), /HTTP 422/);
    await assert.rejects(daemon.api('POST', '/api/processes/shipping/scale', { body: { instances: 17 } }), /HTTP 422/);

    // Back to one copy, which takes every partition again.
    await scale_to(remove, 2);
    await scale_to(remove, 1);
    await eventually(async () => {
      const copies = await api_copies(daemon, 'shipping');
      check_split(copies, 1, 3);
      assert.equal(copies[0].name, 'shipping');
      assert.deepEqual(await page_copies(page, 'shipping'), copies.map(as_shown), 'the page shows the one copy /api/processes lists');
      return true;
    }, { timeout_ms: 60000, interval_ms: 500, what: 'one shipping copy holding 0, 1, 2, on the page' });
    assert.equal(await remove.isDisabled(), true);
    assert.deepEqual(problems, []);
  });
});

// Consumers started as the defaults are, but with nothing restarted when it stalls, orders sent
// fast, and the groups judged over the shortest window.
const STALL_CONFIG = `
[supervisor]
stop_grace_seconds = 3.0
health_window_seconds = 5

[[processes]]
name = "producer"
args = ["produce", "0", "0.05"]
depends_on = ["shipping", "email", "analytics"]

${['shipping', 'email', 'analytics'].map((department) => `[[processes]]
name = "${department}"
args = ["consume", "${department}-group"]
notify_ready = true
restart_when_stalled_seconds = 0
`).join('\n')}`;

test('a consumer that stops moving turns its group STALL, naming the copy, and OK again once it moves', async (t) => {
  await with_dashboard({ toml: STALL_CONFIG }, async ({ daemon, page, problems }) => {
    const card = page.locator('.group[data-group="shipping-group"]');
    const badge = card.locator('.health');
    const shipping = await eventually(async () => {
      const copy = (await daemon.api('GET', '/api/processes')).find((p) => p.name === 'shipping');
      return copy && copy.state === 'RUNNING' && copy.pid && copy.partitions?.length === 3 ? copy : null;
    }, { timeout_ms: 30000, what: 'shipping RUNNING and holding the three partitions' });
    // Orders flowing and a judged window behind them, so what follows is the pause's doing.
    await eventually(async () => {
      const group = (await daemon.api('GET', '/api/groups')).find((g) => g.group === 'shipping-group');
      return group?.health?.partitions.length === 3 && group.processed >= 100;
    }, { timeout_ms: 30000, what: 'shipping-group judged, with 100 orders processed' });
    await badge.filter({ hasText: 'OK' }).waitFor({ timeout: 15000 });

    process.kill(shipping.pid, 'SIGSTOP');
    const paused_at = Date.now();
    try {
      try {
        await badge.filter({ hasText: 'STALL' }).waitFor({ timeout: 30000 });
      } catch (err) {
        const group = (await daemon.api('GET', '/api/groups')).find((g) => g.group === 'shipping-group');
        err.message += `\n/api/groups said for shipping-group: ${JSON.stringify(group?.health)}`;
        throw err;
      }
      t.diagnostic(`STALL shown ${Date.now() - paused_at} ms after SIGSTOP`);
      // The API, independently: STALL, and the stalled copy is shipping.
      const health = (await daemon.api('GET', '/api/groups')).find((g) => g.group === 'shipping-group').health;
      assert.equal(health.status, 'STALL', JSON.stringify(health));
      assert.deepEqual(health.stalled, ['shipping']);
      assert.deepEqual(await card.locator('.health-reason .stalled-copy').allTextContents(), ['shipping']);
      assert.match(await card.locator('.health-reason').textContent(), /has not moved .* held by shipping/);
      assert.ok(await card.locator('td.partition-status', { hasText: 'STALL' }).count() > 0, 'a partition row says STALL');
      // The copy's card and its pane say so too, and its history has the event.
      const copy = page.locator('.process[data-process="shipping"]');
      await copy.locator('.stalled-badge').waitFor({ state: 'visible', timeout: 5000 });
      assert.match(await copy.locator('.stall-note').textContent(), /stalled:.*held by shipping/);
      await pane(page, 'shipping').locator('.status .stalled-badge').waitFor({ timeout: 5000 });
      await copy.locator('.history summary').click();
      await copy.locator('.history .events li', { hasText: 'stalled' }).first().waitFor({ timeout: 5000 });
    } finally {
      try {
        process.kill(shipping.pid, 'SIGCONT');
      } catch {
        // Gone already: the daemon's stop below has nothing to wake.
      }
    }
    const resumed_at = Date.now();
    await badge.filter({ hasText: 'OK' }).waitFor({ timeout: 45000 });
    await page.locator('.process[data-process="shipping"] .stalled-badge').waitFor({ state: 'hidden', timeout: 10000 });
    t.diagnostic(`OK again ${Date.now() - resumed_at} ms after SIGCONT`);
    const after = (await daemon.api('GET', '/api/processes')).find((p) => p.name === 'shipping');
    assert.equal(after.pid, shipping.pid, 'nothing restarted it (restart_when_stalled_seconds = 0)');
    assert.equal(after.restarts, 0);
    assert.ok(after.history.some((entry) => entry.event === 'stalled'), 'its history has the stall');
    assert.deepEqual(problems, []);
  });
});

test('a process held back by a FATAL dependency says why on its card, and hostile names stay text', async () => {
  const hostile = '<img src=x onerror="window.__xss=1">';
  const toml = `[[processes]]
name = ${JSON.stringify(hostile)}
terminal = "broken"
command = "/bin/false"
max_quick_failures = 1

[[processes]]
name = "waiter"
command = "/bin/sleep"
args = ["600"]
depends_on = [${JSON.stringify(hostile)}]
`;
  await with_dashboard({ toml }, async ({ daemon, page, problems }) => {
    const waiter = page.locator('#processes .process[data-process="waiter"]');
    const held = await eventually(async () => {
      const api = (await daemon.api('GET', '/api/processes')).find((p) => p.name === 'waiter');
      if (!/^not started/.test(api.held ?? '')) return null;
      return (await waiter.locator('.held-reason').textContent()) === api.held ? api.held : null;
    }, { timeout_ms: 15000, what: 'the waiter card to show the reason /api/processes gives' });
    assert.equal(held, `not started: ${hostile} is FATAL`);
    assert.equal(await waiter.locator('.held').isVisible(), true);
    assert.equal(await waiter.locator('.state').textContent(), 'STOPPED');
    const broken = page.locator('#processes .process').filter({ has: page.locator('.name', { hasText: hostile }) });
    await broken.locator('.state', { hasText: 'FATAL' }).waitFor({ timeout: 10000 });
    assert.equal(await broken.locator('.name').textContent(), hostile);
    await pane(page, 'broken').locator('.status .state', { hasText: 'FATAL' }).waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('#processes img, .terminal img').count(), 0);
    assert.deepEqual(problems, []);
  });
});

test('the order trace of a produced order shows all three groups', async () => {
  await with_dashboard({}, async ({ daemon, page }) => {
    const trace = await eventually(async () => {
      const order = await daemon.api('GET', '/api/orders/1001');
      return Object.keys(order.processed || {}).length === 3 ? order : null;
    }, { timeout_ms: 30000, what: 'order 1001 processed by all three groups' });
    await page.fill('#trace-input', '1001');
    await page.click('#trace-form button');
    const result = page.locator('#trace-result');
    await result.locator('.step.produced').waitFor();
    assert.match(await result.locator('.step.produced').textContent(), new RegExp(`partition ${trace.produced.partition} · offset ${trace.produced.offset}`));
    for (const group of ['shipping-group', 'email-group', 'analytics-group']) {
      const step = result.locator(`.group-step[data-group="${group}"]`);
      assert.match(await step.textContent(), /latency \d+ ms/);
      assert.match(await step.locator('.state').textContent(), /done|duplicate/);
    }
    // The group cards name the member that holds each partition.
    const shipping = page.locator('.group[data-group="shipping-group"]');
    await shipping.locator('.assignment .member').first().waitFor({ timeout: 10000 });
    assert.match(await shipping.locator('.assignment').textContent(), /partitions \d/);
    // Each figure says what it means, and a member names the process it is.
    assert.match(await shipping.locator('[data-stat="lost"] .why').textContent(), /committed past without a processing record/);
    assert.match(await shipping.locator('.assignment').textContent(), /process shipping/);
    // The processes panel shows what each consumer holds in Kafka.
    const shipping_process = page.locator('.process[data-process="shipping"]');
    await shipping_process.locator('[data-fact="partitions"]').waitFor({ timeout: 10000 });
    assert.match(await shipping_process.locator('[data-fact="group"]').textContent(), /shipping-group/);
    // Members are known from the consumers' own word before their first record; the timeline
    // comes from the records, with the next poll.
    await shipping.locator('.rebalances summary', { hasText: /Rebalances \([1-9]/ }).waitFor({ timeout: 10000 });
    // Unknown orders say so.
    await page.fill('#trace-input', '99999999');
    await page.click('#trace-form button');
    await result.locator('p', { hasText: 'has not been seen' }).waitFor();
  });
});

const DEPARTMENTS = ['shipping', 'email', 'analytics'];
// The three consumers, with extra arguments (e.g. a size limit).
function consumers_toml(extra = '') {
  return DEPARTMENTS.map((department) => `[[processes]]
name = "${department}"
args = ["consume", "${department}-group"${extra}]
`).join('\n');
}

async function group_of(daemon, name) {
  return (await daemon.api('GET', '/api/groups')).find((group) => group.group === name);
}

test('resetting a group from its card asks first, says how many orders replay, and replays them', async () => {
  const orders = 60;
  const toml = `[[processes]]\nname = "producer"\nautorestart = false\nargs = ["produce", "${orders}", "0.02"]\n` +
               consumers_toml();
  await with_dashboard({ toml }, async ({ daemon, page, problems }) => {
    await eventually(async () => {
      for (const department of DEPARTMENTS) {
        const group = await group_of(daemon, `${department}-group`);
        if (!group || group.processed !== orders || group.lag !== 0) return false;
      }
      return true;
    }, { timeout_ms: 60000, what: `${orders} orders processed by every group` });
    const card = page.locator('.group[data-group="analytics-group"]');
    const dialog = page.locator('#confirm-dialog');
    const open_reset = () => card.getByRole('button', { name: 'reset the offsets of analytics-group' }).click();

    // Cancel: nothing happens.
    const pid = (await daemon.api('GET', '/api/processes')).find((p) => p.name === 'analytics').pid;
    await open_reset();
    await dialog.locator('.plan', { hasText: `${orders} orders will be processed again` }).waitFor({ timeout: 15000 });
    assert.match(await dialog.textContent(), /analytics will be stopped, then started again/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await dialog.isVisible(), false);
    assert.equal((await daemon.api('GET', '/api/processes')).find((p) => p.name === 'analytics').pid, pid);
    assert.equal((await daemon.api('GET', '/api/audit')).entries.filter((e) => e.action === 'group.reset').length, 0);

    // Confirmed: analytics processes every order again, counted as replayed.
    await open_reset();
    const confirm = dialog.getByRole('button', { name: 'Reset offsets' });
    await dialog.locator('.plan', { hasText: `${orders} orders will be processed again` }).waitFor({ timeout: 15000 });
    assert.equal(await confirm.isEnabled(), true);
    await confirm.click();
    await page.locator('#notice', { hasText: `analytics-group reset to earliest: ${orders} orders to process again` })
      .waitFor({ timeout: 30000 });
    assert.equal(await notice_colour(page), OK_GREEN, 'a reset that is done is told in green, not as an error');
    await card.locator('[data-stat="replayed"] dd', { hasText: String(orders) }).first().waitFor({ timeout: 30000 });
    await card.locator('[data-stat="processed"] dd', { hasText: String(2 * orders) }).first().waitFor({ timeout: 30000 });
    const analytics = await group_of(daemon, 'analytics-group');
    assert.equal(analytics.duplicates, 0);
    assert.equal(analytics.lost, 0);
    for (const other of ['shipping-group', 'email-group']) {
      const group = await group_of(daemon, other);
      assert.equal(group.processed, orders, `${other} is untouched`);
      assert.equal(group.replayed, 0);
    }
    const audit = (await daemon.api('GET', '/api/audit')).entries.filter((e) => e.action === 'group.reset');
    assert.equal(audit.length, 1);
    assert.equal(audit[0].outcome, 'ok');
    assert.deepEqual(problems, []);
  });
});

test('redriving dead letters from the panel asks first, then every group processes the order; the search finds it', async () => {
  await with_dashboard({ toml: consumers_toml(', "--max-order-bytes", "300"') }, async ({ daemon, page, problems }) => {
    assert.ok(daemon.bootstrap, 'the daemon logged its embedded cluster address');
    const items = Array(12).fill('Wireless Mouse');
    const big = JSON.stringify({ order_id: 9101, user: 'alice_smith', timestamp: '2026-11-28T00:00:00.000Z', items,
                                 total: 359.88, status: 'pending' });
    await eventually(async () => (await daemon.api('GET', '/api/processes')).every((p) => p.state === 'RUNNING' && p.partitions?.length),
                     { timeout_ms: 30000, what: 'the consumers running with their partitions' });
    const kcat = spawnSync('kcat', ['-P', '-b', daemon.bootstrap, '-t', 'orders', '-k', '9101'],
                           { input: `${big}\n`, encoding: 'utf8', timeout: 20000 });
    assert.equal(kcat.status, 0, `kcat failed: ${kcat.stderr}`);
    const rows = page.locator('#dlq-table tbody tr', { hasText: 'too_large' });
    await eventually(async () => (await rows.count()) === 3, { timeout_ms: 30000, what: 'three too_large dead letters on the page' });

    // The limit goes: the consumers restart without it.
    const before = (await daemon.api('GET', '/api/processes')).map((p) => p.pid);
    await writeFile(path.join(daemon.dir, 'orderstream.toml'), `${consumers_toml()}\n[supervisor]\nstop_grace_seconds = 3.0\n`);
    await daemon.api('POST', '/api/reload');
    await eventually(async () => (await daemon.api('GET', '/api/processes'))
      .every((p) => !before.includes(p.pid) && p.state === 'RUNNING' && p.partitions?.length),
                     { timeout_ms: 30000, what: 'the consumers restarted without the limit' });

    await page.locator('#dlq-counts').getByRole('button', { name: 'redrive all dead letters with reason too_large' }).click();
    const dialog = page.locator('#confirm-dialog');
    assert.match(await dialog.locator('.plan').textContent(), /3 dead letters \(1 original record\) will be produced again/);
    await dialog.getByRole('button', { name: 'Redrive' }).click();
    await page.locator('#notice', { hasText: 'Redrive: 3 redriven, 0 failed, 0 skipped' }).waitFor({ timeout: 30000 });
    assert.equal(await notice_colour(page), OK_GREEN, 'a redrive that is done is told in green, not as an error');
    await eventually(async () => (await page.locator('#dlq-table tbody tr .redriven').count()) === 3,
                     { timeout_ms: 15000, what: 'each of the three rows marked redriven' });
    const order = await eventually(async () => {
      const trace = await daemon.api('GET', '/api/orders/9101');
      return Object.keys(trace.processed).length === 3 ? trace : null;
    }, { timeout_ms: 30000, what: 'order 9101 processed by every group' });
    assert.deepEqual(order.dead_lettered_by, []);
    for (const department of DEPARTMENTS)
      await pane(page, department).locator('.lines .line', { hasText: 'order 9101' }).first().waitFor({ timeout: 10000 });

    // The search finds it by user and item; picking it traces it.
    await page.fill('#search-form input[name="user"]', 'alice_smith');
    await page.fill('#search-form input[name="item"]', 'mouse');
    await page.click('#search-form button');
    const found = page.locator('#search-results li[data-order="9101"] button');
    await found.waitFor({ timeout: 10000 });
    assert.match(await found.textContent(), /alice_smith · \$359\.88/);
    await found.click();
    for (const group of ['shipping-group', 'email-group', 'analytics-group'])
      await page.locator(`#trace-result .group-step[data-group="${group}"] .state`, { hasText: 'done' }).waitFor({ timeout: 10000 });
    assert.deepEqual(problems, []);
  });
});

test('a hostile user name and a hostile dead letter are shown as text and run nothing', async () => {
  await with_dashboard({}, async ({ daemon, page }) => {
    assert.ok(daemon.bootstrap, 'the daemon logged its embedded cluster address');
    await wait_for_department_lines(page);
    const user = '<img src=x onerror="window.__xss=1">';
    const order = JSON.stringify({ order_id: 990001, user, timestamp: '2026-11-24T18:12:49.123Z', items: ['Webcam HD'], total: 12.5, status: 'pending' });
    const letter = '<script>window.__xss=2</script><img src=y onerror="window.__xss=3">';
    const kcat = spawnSync('kcat', ['-P', '-b', daemon.bootstrap, '-t', 'orders', '-k', '990001'],
                           { input: `${order}\n${letter}\n`, encoding: 'utf8', timeout: 20000 });
    assert.equal(kcat.status, 0, `kcat failed: ${kcat.stderr}`);

    const line = pane(page, 'shipping').locator('.lines .line', { hasText: 'order 990001' });
    await line.first().waitFor({ timeout: 20000 });
    assert.ok((await line.first().textContent()).includes(user), 'the user name is shown literally');
    const row = page.locator('#dlq-table tbody tr', { hasText: '<script>window.__xss=2</script>' });
    await row.first().waitFor({ timeout: 20000 });

    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('.lines img, #dlq-panel img, #dlq-panel script').count(), 0);
  });
});

test('ANSI colour codes become coloured spans, and any terminal gets a pane', async () => {
  const script = "printf '\\033[31mred\\033[0m plain \\033[1;92mbold green\\033[0m \\033[34mblue\\033[39m back\\n'; exec sleep 600";
  const toml = `[[processes]]\nname = "colours"\ncommand = "/bin/sh"\nargs = ["-c", ${JSON.stringify(script)}]\n`;
  await with_dashboard({ toml }, async ({ page, problems }) => {
    const line = pane(page, 'colours').locator('.lines .line', { hasText: 'bold green' });
    await line.waitFor({ timeout: 15000 });
    assert.equal(await line.locator('.ansi-31').textContent(), 'red');
    assert.equal(await line.locator('.ansi-92.ansi-bold').textContent(), 'bold green');
    assert.equal(await line.locator('.ansi-34').textContent(), 'blue');
    const text = await line.textContent();
    assert.ok(text.endsWith('red plain bold green blue back'), `no escape codes left in "${text}"`);
    assert.ok(!text.includes('\x1b'));
    // The filter hides what does not match, case-insensitively.
    await pane(page, 'colours').locator('.filter').fill('BOLD');
    assert.equal(await line.isVisible(), true);
    await pane(page, 'colours').locator('.filter').fill('no such text');
    assert.equal(await line.isVisible(), false);
    assert.match(await pane(page, 'colours').locator('.count').textContent(), /0 shown/);
    assert.deepEqual(problems, []);
  });
});

test('after the stream drops, the page resumes with no gap and no duplicate line', async (t) => {
  const proxy = await start_proxy();
  try {
    const toml = `[http]\nallowed_hosts = ["127.0.0.1:${proxy.port}"]\n[capture]\nring_lines = 20000\n`;
    await with_dashboard({ toml, open: false }, async ({ daemon, page }) => {
      proxy.target_port = Number(new URL(daemon.url).port);
      const stream_requests = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/api/stream') stream_requests.push(request.headers()['last-event-id'] ?? null);
      });
      await page.goto(`http://127.0.0.1:${proxy.port}/`);
      await wait_for_department_lines(page);
      await page.locator('#connection', { hasText: 'live' }).waitFor();

      // Twice: cut every connection while orders keep flowing, then let the page back in.
      for (let round = 0; round < 2; round++) {
        const seq_before = (await daemon.api('GET', NEWEST)).seq;
        proxy.cut();
        await page.locator('#connection', { hasText: 'reconnecting' }).waitFor({ timeout: 5000 });
        await eventually(async () => (await daemon.api('GET', NEWEST)).seq > seq_before + 20, { what: 'lines while cut off' });
        proxy.restore();
        await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 15000 });
      }
      const resumed = stream_requests.slice(1);
      assert.ok(resumed.length >= 2, `the page reconnected (stream requests: ${JSON.stringify(stream_requests)})`);
      for (const id of resumed) assert.match(id ?? '', /^[1-9]\d*$/, 'each reconnect resumes with Last-Event-ID');

      await daemon.api('POST', '/api/processes/producer/stop');
      const seq = await wait_quiet(daemon);
      await eventually(() => page.evaluate((s) => Math.max(0, ...[...document.querySelectorAll('.line')].map((l) => Number(l.dataset.seq))) === s, seq),
                       { what: 'the page to catch up' });
      const shown = await page_lines(page);
      const api = await daemon.api('GET', '/api/outputs?since=0');
      for (const terminal of TERMINALS) {
        const expected = api.terminals[terminal].map((entry) => ({ seq: entry.seq, text: entry.line }));
        assert.equal(api.dropped[terminal], 0, 'the ring kept every line, so the comparison is complete');
        assert.equal(new Set(shown[terminal].map((l) => l.seq)).size, shown[terminal].length, `${terminal}: no duplicate`);
        assert.deepEqual(shown[terminal], expected, `${terminal}: the page shows exactly the daemon's lines`);
      }
      assert.equal(await page.locator('.gap').count(), 0, 'no line was reported missing');
      t.diagnostic(`compared ${Object.values(shown).reduce((n, l) => n + l.length, 0)} lines after ${resumed.length} reconnects`);
    });
  } finally {
    await proxy.close();
  }
});

test('when the daemon behind the page restarts, the panes start over with the new run', async () => {
  const proxy = await start_proxy();
  try {
    const toml = `[http]\nallowed_hosts = ["127.0.0.1:${proxy.port}"]\n[capture]\nring_lines = 20000\n`;
    await with_dashboard({ toml, open: false }, async ({ daemon: first, page }) => {
      proxy.target_port = Number(new URL(first.url).port);
      await page.goto(`http://127.0.0.1:${proxy.port}/`);
      await wait_for_department_lines(page);
      const seen = (await first.api('GET', NEWEST)).seq;
      proxy.cut();
      await page.locator('#connection', { hasText: 'reconnecting' }).waitFor({ timeout: 5000 });
      await first.stop();

      // The new run numbers its lines from 1 again; let it pass the seq the page had, so a page
      // that resumed by number alone would skip the new run's first lines and keep the old ones.
      const second = await start_daemon({ toml });
      try {
        await eventually(async () => (await second.api('GET', NEWEST)).seq > seen + 20, { what: 'the new run to pass the old seq' });
        await second.api('POST', '/api/processes/producer/stop');
        proxy.target_port = Number(new URL(second.url).port);
        proxy.restore();
        const seq = await wait_quiet(second);
        await eventually(() => page.evaluate((s) => Math.max(0, ...[...document.querySelectorAll('.line')].map((l) => Number(l.dataset.seq))) === s, seq),
                         { what: 'the page to catch up with the new run' });
        const shown = await page_lines(page);
        const api = await second.api('GET', '/api/outputs?since=0');
        for (const terminal of TERMINALS) {
          const expected = api.terminals[terminal].map((entry) => ({ seq: entry.seq, text: entry.line }));
          assert.deepEqual(shown[terminal], expected, `${terminal}: the page shows exactly the new run's lines`);
        }
      } finally {
        await second.stop();
      }
    });
  } finally {
    await proxy.close();
  }
});

test('lines lost to the page while it was cut off are marked in their pane', async () => {
  const proxy = await start_proxy();
  try {
    const toml = `[http]\nallowed_hosts = ["127.0.0.1:${proxy.port}"]\n[capture]\nring_lines = 30\n`;
    await with_dashboard({ toml, open: false }, async ({ daemon, page }) => {
      proxy.target_port = Number(new URL(daemon.url).port);
      await page.goto(`http://127.0.0.1:${proxy.port}/`);
      await wait_for_department_lines(page);
      const producer = pane(page, 'producer');
      // (The consumers may already show a gap: their first burst can outrun a 30-line ring.)
      assert.equal(await producer.locator('.gap').count(), 0, 'the producer, steady, had no gap before the cut');
      proxy.cut();
      await page.locator('#connection', { hasText: 'reconnecting' }).waitFor({ timeout: 5000 });
      const seen = Number(await producer.locator('.lines .line').last().getAttribute('data-seq'));
      // More than a ring's worth of producer lines while the page cannot read.
      await eventually(async () => {
        const outputs = await daemon.api('GET', `/api/outputs?since=${seen}`);
        return outputs.missed.includes('producer');
      }, { what: 'the producer ring to roll past what the page had' });
      proxy.restore();
      await producer.locator('.missed').waitFor({ state: 'visible', timeout: 15000 });
      assert.match(await producer.locator('.missed').textContent(), /lost/);
      assert.equal(await producer.locator('.lines .gap').count(), 1);
      // The marker sits where the lines are missing: after the last line the page had.
      assert.equal(Number(await producer.locator('.lines .line:has(+ .gap)').getAttribute('data-seq')), seen);
    });
  } finally {
    await proxy.close();
  }
});

test('a 401 asks for the access token, which then goes with every request and the stream', async () => {
  const token = 'browser-test-token-7f3a';
  await with_dashboard({ toml: `[http]\ntoken = "${token}"\n` }, async ({ daemon, page }) => {
    await page.locator('#token-form').waitFor({ state: 'visible', timeout: 10000 });
    await page.locator('#connection', { hasText: 'token needed' }).waitFor();
    assert.equal(await page.locator('.lines .line').count(), 0);
    await page.locator('#notice', { hasText: 'This daemon needs an access token.' }).waitFor();
    assert.equal(await notice_colour(page), BAD_RED, 'what stops the page is told in red');

    const sent = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/')) sent.push(request.headers().authorization ?? null);
    });
    await page.fill('#token-input', token);
    await page.click('#token-form button[type="submit"]');
    await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 10000 });
    await wait_for_department_lines(page);
    assert.equal(await page.locator('#token-form').isHidden(), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('orderstream.token')), token);
    assert.ok(sent.length > 0);
    assert.deepEqual([...new Set(sent)], [`Bearer ${token}`], 'every API request after the form carried the token');

    // A reload keeps the token for the tab.
    await page.reload();
    await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: 10000 });
    assert.equal(await page.locator('#token-form').isHidden(), true);
    await daemon.api('GET', '/api/processes', { token });
  });
});

test('a broker taken down from the cluster panel shows as down, and comes back', async () => {
  await with_dashboard({}, async ({ daemon, page }) => {
    const broker = page.locator('#brokers .broker[data-broker="2"]');
    await broker.locator('button', { hasText: 'Take down' }).click({ timeout: 15000 });
    await eventually(async () => (await daemon.api('GET', '/api/cluster')).brokers.find((b) => b.id === 2)?.up === false,
                     { timeout_ms: 10000, what: 'broker 2 down in /api/cluster' });
    await broker.locator('.state', { hasText: 'down' }).waitFor({ timeout: 5000 });
    await broker.locator('button', { hasText: 'Bring up' }).click();
    await broker.locator('.state', { hasText: 'up' }).waitFor({ timeout: 10000 });
  });
});
