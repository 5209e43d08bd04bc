// Debian's Chromium driven by playwright-core from web/node_modules (`npm ci --prefix web`):
// no browser download, headless, no network of its own beyond the daemon.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo_root = path.resolve(here, '../../..');
const require = createRequire(path.join(repo_root, 'web', 'package.json'));

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                       '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launch_browser() {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch {
    throw new Error('playwright-core is missing: run `npm ci --prefix web` in the source folder');
  }
  const executable = process.env.ORDERSTREAM_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executable)) throw new Error(`${executable} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: executable, args: CHROMIUM_ARGS });
}

// A page that records console errors and uncaught exceptions, for the test to assert on.
export async function open_page(browser, url, { viewport = { width: 1440, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  if (url) await page.goto(url);
  return { context, page, problems };
}

export async function artifacts_dir() {
  const dir = process.env.ORDERSTREAM_BROWSER_ARTIFACTS || path.join(repo_root, 'build', 'tests', 'browser-artifacts');
  await mkdir(dir, { recursive: true });
  return dir;
}

// Terminal lines as the page shows them: [{seq, text}] per terminal, the timestamp left out.
export async function page_lines(page) {
  return page.evaluate(() => {
    const out = {};
    for (const pane of document.querySelectorAll('.terminal')) {
      out[pane.dataset.terminal] = [...pane.querySelectorAll('.lines .line')].map((line) => ({
        seq: Number(line.dataset.seq),
        text: [...line.childNodes].slice(1).map((n) => n.textContent).join(''),
      }));
    }
    return out;
  });
}
