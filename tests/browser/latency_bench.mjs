// Measures (does not assert) how long a line takes from a child printing it to its DOM node in
// the page: a child prints "mark <CLOCK_REALTIME ns>" every 50 ms, and a MutationObserver in the
// page compares that with Date.now() when the line's node is added. Not run by CTest.
//   ORDERSTREAM_BINARY=build/daemon/orderstream node tests/browser/latency_bench.mjs [LINES]

import { launch_browser, open_page } from './support/browser.mjs';
import { start_daemon } from './support/daemon.mjs';

const lines = Number(process.argv[2] || 200);
const toml = `[[processes]]
name = "marks"
command = "/bin/sh"
args = ["-c", "while true; do echo mark $(date +%s%N); sleep 0.05; done"]
`;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const daemon = await start_daemon({ toml });
const browser = await launch_browser();
try {
  const { page } = await open_page(browser, `${daemon.url}/`);
  await page.locator('.terminal[data-terminal="marks"] .lines .line').first().waitFor({ timeout: 15000 });
  const delays = await page.evaluate((wanted) => new Promise((resolve, reject) => {
    const target = document.querySelector('.terminal[data-terminal="marks"] .lines');
    const started = Date.now();
    const delays = [];
    const observer = new MutationObserver((records) => {
      const now = Date.now();
      for (const record of records) {
        for (const node of record.addedNodes) {
          const match = /mark (\d+)/.exec(node.textContent || '');
          if (!match) continue;
          const printed = Number(BigInt(match[1]) / 1000000n);
          if (printed >= started) delays.push(now - printed);  // not lines printed before we looked
        }
      }
      if (delays.length >= wanted) {
        observer.disconnect();
        resolve(delays.slice(0, wanted));
      }
    });
    observer.observe(target, { childList: true });
    setTimeout(() => reject(new Error(`only ${delays.length} lines in 60 s`)), 60000);
  }), lines);
  const sorted = [...delays].sort((a, b) => a - b);
  const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
  console.log(`lines: ${delays.length}  p50: ${percentile(sorted, 50)} ms  p90: ${percentile(sorted, 90)} ms  ` +
              `p99: ${percentile(sorted, 99)} ms  max: ${sorted[sorted.length - 1]} ms  mean: ${mean.toFixed(1)} ms`);
} finally {
  await browser.close();
  await daemon.stop();
}
