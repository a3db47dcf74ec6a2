// lib.mjs - what the browser tests share: the system's Chromium through
// playwright-core (never a downloaded browser), a throw-away profile, and the
// same tiny check framework as tests/lib/harness.py: "ok"/"FAIL" lines and a
// last line "N passed, N failed"; exit status 1 if anything failed.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.FCDASH_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let passed = 0;
let failed = 0;

export function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail !== '' ? ': ' + detail : ''}`);
  }
  return Boolean(ok);
}

// Run a group of checks; a throw (a time-out waiting for the page) fails the
// group with the error and the script goes on.
export async function group(name, fn) {
  try {
    return await fn();
  } catch (e) {
    check(name, false, String(e && e.stack || e).split('\n').slice(0, 6).join(' | '));
    return undefined;
  }
}

// A browser with a fresh profile; returns {page, close}.
export async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fcdash-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1100, height: 800 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(15000);
  // What went wrong on the page, for the checks and their details.
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    // The favicon is not served (Dash's contract: any status is harmless).
    if (r.status() >= 400 && !r.url().includes('_favicon.ico')) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => problems.push(`failed ${r.url()}: ${r.failure()?.errorText}`));
  return {
    page,
    problems,
    async close() {
      await ctx.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Resolves with the next _dash-update-component answer for `output`, or
// with null after `timeout` ms (never rejects, so an unawaited one cannot
// crash the script).
export function nextUpdate(page, output, timeout = 15000) {
  return page.waitForResponse(async (r) => {
    if (!r.url().endsWith('_dash-update-component') || r.request().method() !== 'POST') return false;
    try {
      return JSON.parse(r.request().postData() || '{}').output === output;
    } catch {
      return false;
    }
  }, { timeout }).catch(() => null);
}

// Choose `value` in the dcc.Dropdown with id `id` as a user does: open it
// (a click), click the option.
export async function pick(page, id, value) {
  const sel = `#${id}`;
  if ((await page.getAttribute(sel, 'aria-expanded')) !== 'true') await page.click(sel);
  const option = page.locator('.dash-dropdown-option', { hasText: new RegExp(`^\\s*${value}\\s*$`) });
  await option.first().waitFor({ state: 'visible' });
  await option.first().click();
  // A new choice closes the list; clicking the current one leaves it open.
  await page.waitForTimeout(100);
  if ((await page.getAttribute(sel, 'aria-expanded')) === 'true') await page.keyboard.press('Escape');
}

export async function textOf(page, sel) {
  return (await page.locator(sel).innerText()).trim();
}

// Wait until the text of `sel` is `want`; returns the last text seen.
export async function waitText(page, sel, want, timeout = 10000) {
  try {
    await page.waitForFunction(([s, w]) => {
      const e = document.querySelector(s);
      return e && e.innerText.trim() === w;
    }, [sel, want], { timeout });
  } catch {
    // fall through: the caller's check shows what was there
  }
  return page.locator(sel).count().then((n) => (n ? textOf(page, sel) : '(no element)'));
}

export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}
