// SPDX-License-Identifier: MIT
// Signing in and out, the wrong-password error, and how the pages are
// served: content types, ETags and 304, caching, security headers.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, USERS, launch, withPage, signIn, tabTo, apiSession,
} from './lib.mjs';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
  + "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('signs in, survives a reload, signs out', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    await page.locator('#whoami', { hasText: 'Bob Example' }).waitFor();
    // A reload keeps the session: the page asks GET /v1/session for the
    // user and the CSRF token, which it keeps in memory only.
    await page.reload();
    await page.getByRole('heading', { name: 'Your tokens' }).waitFor();
    const stored = await page.evaluate(() => localStorage.length + sessionStorage.length);
    assert.equal(stored, 0, 'nothing in web storage');
    assert.ok(!/csrf|session|pat_/i.test(page.url()), `nothing secret in the URL: ${page.url()}`);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'patd_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict', 'HttpOnly, SameSite=Strict cookie');
    // Over native TLS (run.sh with PATD_TLS=1) the cookie is Secure.
    assert.equal(session.secure, BASE.startsWith('https:'), 'Secure exactly over HTTPS');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to patd' }).waitFor();
    await page.getByText('You have signed out.').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to patd' }).waitFor();
  });
});

test('a wrong password shows an error and signs nobody in', async (t) => {
  await withPage(t, browser, async (page) => {
    await page.goto('/');
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Wrong username or password' });
    await alert.waitFor();
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password field is emptied');
    assert.equal(await page.getByRole('heading', { name: 'Your tokens' }).count(), 0);
    // And the right password still works afterwards.
    await page.getByLabel('Password').fill(USERS.bob.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your tokens' }).waitFor();
  });
});

test('signs in and creates a token with the keyboard alone', async (t) => {
  await withPage(t, browser, async (page) => {
    await page.goto('/');
    await page.getByLabel('Username').waitFor();
    // The username field has the focus on arrival.
    await page.keyboard.type('bob');
    await page.keyboard.press('Tab');
    await page.keyboard.type(USERS.bob.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your tokens' }).waitFor();
    await tabTo(page, (d) => d.tag === 'a' && d.text === 'New token');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New token' }).waitFor();
    await page.keyboard.type('typed-only'); // the name field has the focus
    await tabTo(page, (d) => d.type === 'checkbox' && d.label.includes('repo:read'));
    await page.keyboard.press('Space');
    await tabTo(page, (d) => d.tag === 'button' && d.text === 'Create token');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Copy your new token now' }).waitFor();
    await tabTo(page, (d) => d.tag === 'button' && d.text === 'Done');
    await page.keyboard.press('Enter');
    await page.getByRole('cell', { name: 'typed-only', exact: true }).waitFor();
  });
});

test('lists the sessions and ends another one, then this one', async (t) => {
  // Another browser, signed in over the API: the session to end.
  const other = await apiSession(USERS.bob);
  assert.equal((await other('GET', '/v1/me')).status, 200);
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    const rows = page.locator('tbody tr[data-session]');
    assert.ok(await rows.count() >= 2, 'both sessions are listed');
    const mine = rows.filter({ hasText: 'This session' });
    assert.equal(await mine.count(), 1, 'exactly one is marked as this session');
    const body = await page.locator('main').textContent();
    const cookies = await page.context().cookies();
    const cookie = cookies.find((c) => c.name === 'patd_session').value;
    assert.ok(!body.includes(cookie), 'the page shows no cookie');

    // End the first session that is not this one.
    const others = rows.filter({ hasNotText: 'This session' });
    const before = await others.count();
    await others.first().getByRole('button', { name: /^End the session/ }).click();
    await page.getByRole('dialog', { name: 'End this session?' })
      .getByRole('button', { name: 'End session' }).click();
    await page.getByText('Session ended.').waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('tbody tr[data-session]').length === n, before);
    // Ending this one signs the page out.
    await mine.getByRole('button', { name: 'End this session (sign out)' }).click();
    await page.getByRole('dialog', { name: 'End this session?' })
      .getByRole('button', { name: 'End session' }).click();
    await page.getByRole('heading', { name: 'Sign in to patd' }).waitFor();
    await page.getByText('You ended this session.').waitFor();
  });
  // The API session was the newest other one, so the first listed: ended.
  assert.equal((await other('GET', '/v1/me')).status, 401, 'the ended session no longer works');
});

test('serves the pages with their types, ETags and security headers', async () => {
  const index = await fetch(`${BASE}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('content-security-policy'), CSP);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const etag = index.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.match(await index.text(), /<script type="module" src="\/assets\/app.js">/);

  const again = await fetch(`${BASE}/`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
  assert.equal(await again.text(), '');
  const weak = await fetch(`${BASE}/`, { headers: { 'If-None-Match': `"nope", W/${etag}` } });
  assert.equal(weak.status, 304);
  const stale = await fetch(`${BASE}/`, { headers: { 'If-None-Match': '"0123"' } });
  assert.equal(stale.status, 200);
  await stale.arrayBuffer();

  for (const [file, type] of [['app.js', 'text/javascript; charset=utf-8'], ['style.css', 'text/css; charset=utf-8'], ['icon.svg', 'image/svg+xml']]) {
    const r = await fetch(`${BASE}/assets/${file}`);
    assert.equal(r.status, 200, file);
    assert.equal(r.headers.get('content-type'), type, file);
    assert.equal(r.headers.get('content-security-policy'), CSP, file);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', file);
    assert.notEqual(r.headers.get('etag'), etag, `${file} has its own ETag`);
    await r.arrayBuffer();
  }
  const missing = await fetch(`${BASE}/assets/nope.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error, 'not_found');
  const nested = await fetch(`${BASE}/assets/a/b.js`);
  assert.equal(nested.status, 404);
  await nested.arrayBuffer();
});
