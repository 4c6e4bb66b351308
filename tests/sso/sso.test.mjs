// SPDX-License-Identifier: MIT
// Single sign-on through a real OpenID Provider (provider.mjs, run.sh),
// driven in Debian's headless Chromium: the sign-in page's button, the
// provider's login form, the callback, the mapped scopes, a token made
// and used; the callback's failure matrix (state, replay, provider
// error, nonce, expired, wrong audience, wrong issuer, bad signature,
// provider down), each with no user created or changed and an audit
// event; a group change that narrows the scopes and an existing token's
// at once; the provider's key rotation; local passwords turned off.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const BASE = process.env.PATD_URL;
const PROVIDER = process.env.PROVIDER_URL;
const ADMIN = process.env.ADMIN_TOKEN;

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
});

async function admin(method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: r.status === 204 ? null : await r.json() };
}

async function providerSet(path, body) {
  const r = await fetch(PROVIDER + path, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(r.status, 204);
}

async function findUser(username) {
  const r = await admin('GET', `/v1/users?q=${encodeURIComponent(username)}&limit=200`);
  return r.json.items.find((u) => u.username === username) || null;
}

async function lastAudit(action) {
  const r = await admin('GET', `/v1/audit?action=${action}&limit=200`);
  return r.json.items.at(-1) || null;
}

/**
 * Signs in as user at the provider from patd's sign-in page, in a fresh
 * browser context. Returns the page, where the browser ended, and the
 * callback URL it went through.
 */
async function signIn(user, { deny = false } = {}) {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  let callback = null;
  let callbackStatus = null;
  page.on('response', (resp) => {
    if (resp.url().startsWith(`${BASE}/v1/sso/callback`)) {
      callback = resp.url();
      callbackStatus = resp.status();
    }
  });
  await page.goto('/');
  await page.locator('#sso-signin').click();
  await page.locator('#login').fill(user);
  await page.locator(deny ? '#deny' : '#submit').click();
  await page.waitForURL((u) => u.toString().startsWith(BASE) && !u.toString().includes('/interaction/'));
  return { page, context, callback: () => callback, callbackStatus: () => callbackStatus };
}

async function expectSignedIn(page, name) {
  await page.locator('#whoami').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#whoami').textContent(), name);
}

async function expectFailurePage(s, status) {
  await s.page.locator('#sso-title').waitFor();
  assert.equal(await s.page.locator('#sso-title').textContent(), 'Sign-in failed');
  assert.equal(s.callbackStatus(), status);
}

/** The page's session: GET /v1/session from inside the page. */
async function inPage(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const s = await (await fetch('/v1/session')).json();
    const r = await fetch(path, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, json: await r.json().catch(() => null) };
  }, { method, path, body });
}

async function authStatus(token, scope) {
  const r = await fetch(`${BASE}/v1/auth?scope=${encodeURIComponent(scope)}`, { headers: { Authorization: `Bearer ${token}` } });
  return r.status;
}

test('local passwords are off: the page offers only the provider, POST /v1/session is 403', async () => {
  const r = await fetch(`${BASE}/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: process.env.ADMIN_PASSWORD }),
  });
  assert.equal(r.status, 403);
  assert.equal((await r.json()).error, 'forbidden');
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  await page.goto('/');
  await page.locator('#sso-signin').waitFor();
  assert.equal(await page.locator('input[name="password"]').isVisible(), false);
  await context.close();
});

test('alice signs in through the provider, lands signed in with mapped scopes, creates a token and uses it', async () => {
  assert.equal(await findUser('alice'), null);
  const s = await signIn('alice');
  await expectSignedIn(s.page, 'Alice Example');
  const me = await inPage(s.page, 'GET', '/v1/me');
  assert.equal(me.status, 200);
  assert.equal(me.json.role, 'admin'); // patd-admins
  assert.equal(me.json.email, 'alice@example.com');
  for (const sc of ['patd:self', 'repo:read', 'repo:write', 'patd:admin']) assert.ok(me.json.scopes.includes(sc), sc);
  assert.ok(!me.json.scopes.includes('deploy'));
  const t = await inPage(s.page, 'POST', '/v1/me/tokens', { name: 'ci', scopes: ['repo:read'], expires_in_days: 7 });
  assert.equal(t.status, 201);
  assert.equal(await authStatus(t.json.token, 'repo:read'), 200);
  assert.equal(await authStatus(t.json.token, 'deploy'), 403);
  const ev = await lastAudit('session.created');
  assert.equal(ev.target_user_id, me.json.id);
  await s.context.close();
});

test('a state that is not the browser\'s, and a replayed callback, change nothing', async () => {
  const before = await lastAudit('sso.failed');
  const r = await fetch(`${BASE}/v1/sso/callback?state=abc&code=def`);
  assert.equal(r.status, 400);
  assert.match(await r.text(), /not started in this browser/);
  const ev = await lastAudit('sso.failed');
  assert.notEqual(ev?.id, before?.id);
  assert.equal(ev.detail.reason, 'state_mismatch');

  const s = await signIn('alice');
  await expectSignedIn(s.page, 'Alice Example');
  const url = new URL(s.callback());
  const alice = await findUser('alice');
  // Replay in a browser that holds the state cookie: the grant is gone.
  const ctx2 = await browser.newContext({ baseURL: BASE });
  await ctx2.addCookies([{ name: 'patd_sso', value: url.searchParams.get('state'), url: `${BASE}/v1/sso` }]);
  const p2 = await ctx2.newPage();
  const resp = await p2.goto(url.toString());
  assert.equal(resp.status(), 400);
  assert.match(await p2.locator('#sso-message').textContent(), /expired or was already used/);
  assert.equal((await lastAudit('sso.failed')).detail.reason, 'unknown_state');
  assert.deepEqual(await findUser('alice'), alice);
  await ctx2.close();
  await s.context.close();
});

test('the provider refusing (access_denied) ends on the error page; nobody is created', async () => {
  const s = await signIn('carol', { deny: true });
  await expectFailurePage(s, 400);
  assert.equal((await lastAudit('sso.failed')).detail.reason, 'provider_error');
  assert.equal(await findUser('carol'), null);
  await s.context.close();
});

const matrix = [
  ['nonce', 400, 'nonce_mismatch'],
  ['expired', 400, 'expired'],
  ['aud', 400, 'wrong_audience'],
  ['iss', 400, 'wrong_issuer'],
  ['sig', 400, 'bad_signature'],
  ['down', 502, 'provider_unreachable'],
];

test('bob signs in once (developers, deployers)', async () => {
  const s = await signIn('bob');
  await expectSignedIn(s.page, 'Bob Example');
  const me = await inPage(s.page, 'GET', '/v1/me');
  assert.equal(me.json.role, 'user');
  assert.deepEqual(me.json.scopes, ['deploy', 'patd:self', 'repo:read', 'repo:write']);
  await s.context.close();
});

for (const [mode, status, reason] of matrix) {
  test(`callback failure "${mode}": error page ${status}, audit ${reason}, no user created or changed`, async () => {
    const bob = await findUser('bob');
    // A change at the provider that a successful sign-in would bring in.
    await providerSet('/test/groups', { user: 'bob', groups: ['developers'] });
    for (const user of ['bob', 'carol']) {
      await providerSet('/test/mode', { mode });
      const s = await signIn(user);
      await expectFailurePage(s, status);
      const ev = await lastAudit('sso.failed');
      assert.equal(ev.detail.reason, reason);
      await s.context.close();
    }
    await providerSet('/test/mode', { mode: '' });
    await providerSet('/test/groups', { user: 'bob', groups: ['developers', 'deployers'] });
    assert.equal(await findUser('carol'), null);
    assert.deepEqual(await findUser('bob'), bob);
    assert.equal((await fetch(`${BASE}/healthz`)).status, 200);
  });
}

test('a group removed at the provider: the next sign-in narrows the scopes and an existing token loses the scope at once', async () => {
  let s = await signIn('bob');
  await expectSignedIn(s.page, 'Bob Example');
  const t = await inPage(s.page, 'POST', '/v1/me/tokens', { name: 'deployer', scopes: ['deploy', 'repo:read'], expires_in_days: 7 });
  assert.equal(t.status, 201);
  assert.equal(await authStatus(t.json.token, 'deploy'), 200);
  await s.context.close();

  await providerSet('/test/groups', { user: 'bob', groups: ['developers'] });
  s = await signIn('bob');
  await expectSignedIn(s.page, 'Bob Example');
  const me = await inPage(s.page, 'GET', '/v1/me');
  assert.deepEqual(me.json.scopes, ['patd:self', 'repo:read', 'repo:write']);
  assert.equal(await authStatus(t.json.token, 'deploy'), 403);
  assert.equal(await authStatus(t.json.token, 'repo:read'), 200);
  await s.context.close();
});

test('the provider rotates its signing key: patd fetches the new JWKS and signs the user in', async () => {
  // SSO_JWKS_MIN_REFRESH (2 s) since the last fetch has passed by now.
  await new Promise((r) => setTimeout(r, 2100));
  await providerSet('/test/mode', { mode: 'rotate' });
  const s = await signIn('alice');
  await expectSignedIn(s.page, 'Alice Example');
  await s.context.close();
});
