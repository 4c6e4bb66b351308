// SPDX-License-Identifier: MIT
// `patctl login --web` end to end (issue 14): the real patctl listens on
// loopback and "opens the browser" through $BROWSER (a script that hands
// the URL to this test); Chromium, signed in through the OpenID Provider,
// approves on patd's page and lands on patctl's listener; patctl
// exchanges the one-time code (PKCE) for the token and stores it. Then:
// the token works with the scopes and lifetime asked for, the code is
// spent, a wrong verifier gets nothing, and a token cannot approve.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.PATD_URL;
const PATCTL = process.env.PATCTL;

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
after(async () => { await browser?.close(); });

async function signedInPage(user) {
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto('/');
  await page.locator('#sso-signin').click();
  await page.locator('#login').fill(user);
  await page.locator('#submit').click();
  await page.locator('#whoami').waitFor({ state: 'visible' });
  return { context, page };
}

async function until(fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('patctl login --web: approved in the browser, received on loopback, stored and working', async () => {
  const dir = mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'patctl-'));
  const urlFile = path.join(dir, 'url');
  const browserScript = path.join(dir, 'browser.sh');
  writeFileSync(browserScript, `#!/bin/sh\nprintf '%s' "$1" > '${urlFile}.tmp' && mv '${urlFile}.tmp' '${urlFile}'\n`);
  chmodSync(browserScript, 0o755);
  const env = { ...process.env, XDG_CONFIG_HOME: dir, BROWSER: browserScript };
  delete env.PATCTL_TOKEN;
  delete env.PATCTL_URL;
  const child = spawn(PATCTL, ['login', '--web', '--url', BASE, '--scope', 'patd:self', '--scope', 'repo:read', '--expires-in-days', '3'], { env });
  let out = '';
  let errText = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { errText += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));

  const url = await until(() => existsSync(urlFile) && readFileSync(urlFile, 'utf8'));
  assert.ok(url.startsWith(`${BASE}/#/cli-login?`), url);
  assert.ok(errText.includes(url), 'the URL is printed too');
  const port = Number(new URL(url.replace('/#/', '/')).searchParams.get('port'));

  const { context, page } = await signedInPage('dana');
  await page.goto(url);
  await page.locator('#cli-approve').waitFor();
  assert.equal(await page.locator('#cli-scopes').textContent(), 'patd:self repo:read');
  await page.locator('#cli-approve').click();
  await page.waitForURL((u) => u.toString().startsWith(`http://127.0.0.1:${port}/callback`));
  assert.match(await page.locator('#patctl').textContent(), /patctl has the approval/);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get('token'), null, 'no token in the URL');
  const code = landed.searchParams.get('code');

  assert.equal(await exited, 0, errText);
  assert.match(out, /Logged in to .* as dana/);
  const cfgText = readFileSync(path.join(dir, 'patctl', 'config'), 'utf8');
  const token = cfgText.match(/token\s*=\s*(\S+)/)[1];
  const who = execFileSync(PATCTL, ['whoami', '--json'], { env: { ...env, BROWSER: '' } }).toString();
  assert.equal(JSON.parse(who).username, 'dana');
  const meta = await (await fetch(`${BASE}/v1/token`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.deepEqual(meta.scopes, ['patd:self', 'repo:read']);
  const days = (Date.parse(meta.expires_at) - Date.now()) / 86400000;
  assert.ok(days > 2.9 && days <= 3.01, `expires in ${days} days`);
  assert.equal((await fetch(`${BASE}/v1/auth?scope=repo:read`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);

  // The code was spent by patctl.
  const again = await fetch(`${BASE}/v1/cli/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, code_verifier: 'x'.repeat(64) }),
  });
  assert.equal(again.status, 400);
  await context.close();
});

test('a wrong code_verifier gets no token and spends the code; a token cannot approve', async () => {
  const { context, page } = await signedInPage('dana');
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const r = await page.evaluate(async (challenge) => {
    const s = await (await fetch('/v1/session')).json();
    const res = await fetch('/v1/me/cli-grants', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body: JSON.stringify({ port: 9, state: 'abcdefgh12', code_challenge: challenge, scopes: ['patd:self'], name: 'probe' }),
    });
    return { status: res.status, json: await res.json() };
  }, challenge);
  assert.equal(r.status, 201);
  const code = new URL(r.json.redirect).searchParams.get('code');
  const post = (v) => fetch(`${BASE}/v1/cli/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, code_verifier: v }),
  });
  const wrong = await post(randomBytes(48).toString('base64url'));
  assert.equal(wrong.status, 400);
  assert.equal((await wrong.json()).error, 'invalid_request');
  assert.equal((await post(verifier)).status, 400, 'spent by the wrong try');

  const byToken = await fetch(`${BASE}/v1/me/cli-grants`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${process.env.ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ port: 9, state: 'abcdefgh12', code_challenge: challenge, scopes: ['patd:self'], name: 'probe' }),
  });
  assert.equal(byToken.status, 403);
  await context.close();
});
