// SPDX-License-Identifier: MIT
// Shared by the browser tests: the server run.sh started (PATD_URL), the
// accounts it created, Debian's Chromium driven by playwright-core, and a
// wrapper that saves a screenshot of a failing test under SCREENSHOT_DIR.
// Nothing here downloads a browser: Chromium missing is a failure.

import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const BASE = process.env.PATD_URL;
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.join(tmpdir(), 'patd-browser-screenshots');
export const DOCS_SCREENSHOTS = process.env.DOCS_SCREENSHOTS || '';

export const USERS = {
  admin: { username: 'admin', password: process.env.ADMIN_PASSWORD },
  bob: { username: 'bob', password: process.env.BOB_PASSWORD },
  dave: { username: 'dave', password: process.env.DAVE_PASSWORD },
};

if (!BASE) throw new Error('PATD_URL is not set: run the tests through tests/browser/run.sh');

/**
 * Starts Debian's Chromium headless. Fails (never skips) when it is not
 * installed. Playwright gives every launch a fresh, empty profile in a
 * temporary directory of its own (it refuses a --user-data-dir argument),
 * and run.sh points TMPDIR at its own temporary directory.
 */
export async function launch() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (scripts/deps.sh)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // run.sh with PATD_TLS=1: the one test certificate's key is trusted.
      ...(process.env.PATD_TLS_SPKI
        ? [`--ignore-certificate-errors-spki-list=${process.env.PATD_TLS_SPKI}`] : []),
    ],
  });
}

/**
 * A fresh context and page (its own cookies), watching for what must
 * never happen: dialogs (alert from injected script), uncaught errors,
 * and Content-Security-Policy violations. page.problems lists them.
 */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({
    baseURL: BASE,
    viewport: opts.viewport || { width: 1280, height: 900 },
    deviceScaleFactor: opts.deviceScaleFactor || 1,
    colorScheme: 'light',
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.problems = [];
  page.dialogs = [];
  page.on('dialog', async (d) => {
    page.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) page.problems.push(`console: ${msg.text()}`);
  });
  return page;
}

function safeName(name) {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
}

/**
 * Runs body(page) in a new page; on failure saves
 * SCREENSHOT_DIR/<test name>.png before failing. Also fails when the
 * page raised an error, opened a dialog or broke the CSP.
 */
export async function withPage(t, browser, body, opts) {
  const page = await newPage(browser, opts);
  try {
    await body(page);
    assert.deepEqual(page.dialogs, [], 'no dialog may open');
    assert.deepEqual(page.problems, [], 'no script error or CSP violation');
  } catch (err) {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${safeName(t.name)}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    err.message += `\n(screenshot: ${file})`;
    throw err;
  } finally {
    await page.context().close();
  }
}

/**
 * Fails unless every form control on the page has an accessible name
 * (a label, aria-label or aria-labelledby): no unlabelled control.
 */
export async function assertLabelled(page, where) {
  const bare = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((c) => c.type !== 'hidden')
    .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby'))
    .map((c) => c.outerHTML.slice(0, 120)));
  assert.deepEqual(bare, [], `unlabelled controls on ${where}`);
}

/** Signs in through the form and waits for the token page. */
export async function signIn(page, who) {
  await page.goto('/');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your tokens' }).waitFor();
}

/** The status /v1/auth answers for a token. */
export async function authStatus(token) {
  const res = await fetch(`${BASE}/v1/auth`, { headers: { Authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Polls fn() until it returns want, or fails at the deadline. */
export async function pollUntil(fn, want, { timeoutMs = 15000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    // eslint-disable-next-line no-await-in-loop
    last = await fn();
    if (last === want) return last;
    if (Date.now() > deadline) assert.fail(`${what}: still ${last} after ${timeoutMs} ms (want ${want})`);
    // eslint-disable-next-line no-await-in-loop
    await new Promise((r) => { setTimeout(r, intervalMs); });
  }
}

/**
 * Fills and submits the new-token form. scopes: names to tick; expiry:
 * '7 days' | '30 days' | ... Returns the plaintext read from the page.
 */
export async function createToken(page, { name, description, scopes, expiry = '30 days', cidrs }) {
  await page.getByRole('link', { name: 'New token' }).click();
  await page.getByRole('heading', { name: 'New token' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill(name);
  if (description) await page.getByLabel('Description').fill(description);
  for (const s of scopes) await page.getByRole('checkbox', { name: s }).check();
  await page.getByRole('radio', { name: expiry }).check();
  if (cidrs) await page.getByLabel('Allowed address ranges').fill(cidrs);
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.getByRole('heading', { name: 'Copy your new token now' }).waitFor();
  return page.locator('input[data-secret]').inputValue();
}

/**
 * Signs in over the API (for setting up what a test does not exercise).
 * Returns call(method, path, body) -> {status, body}, with the cookie and
 * the CSRF header.
 */
export async function apiSession(who) {
  const res = await fetch(`${BASE}/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: who.username, password: who.password }),
  });
  assert.equal(res.status, 200, `API sign-in of ${who.username}`);
  const { csrf_token: csrf, user } = await res.json();
  const cookie = res.headers.get('set-cookie').split(';')[0];
  const call = async (method, p, body) => {
    const r = await fetch(`${BASE}${p}`, {
      method,
      headers: {
        Cookie: cookie,
        'X-CSRF-Token': csrf,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  call.user = user;
  return call;
}

/** Presses Tab until pred(active element description) holds (at most max). */
export async function tabTo(page, pred, max = 60) {
  for (let i = 0; i < max; i += 1) {
    // eslint-disable-next-line no-await-in-loop
    await page.keyboard.press('Tab');
    // eslint-disable-next-line no-await-in-loop
    const d = await page.evaluate(() => {
      const a = document.activeElement;
      const label = a.labels && a.labels[0] ? a.labels[0].textContent : '';
      return { tag: a.tagName.toLowerCase(), type: a.type || '', text: (a.textContent || '').trim(), label, aria: a.getAttribute('aria-label') || '' };
    });
    if (pred(d)) return d;
  }
  throw new Error('tabTo: never reached the control');
}
