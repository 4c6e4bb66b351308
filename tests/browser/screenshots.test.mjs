// SPDX-License-Identifier: MIT
// The README's screenshots (the token list, and a new token shown once),
// and the page at phone width: nothing wider than the screen. Written to
// DOCS_SCREENSHOTS when set (e.g. docs/screenshots), else under
// SCREENSHOT_DIR/readme, so that a test run never changes the sources.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  USERS, SCREENSHOT_DIR, DOCS_SCREENSHOTS, launch, withPage, signIn, createToken, apiSession,
} from './lib.mjs';

const OUT = DOCS_SCREENSHOTS || path.join(SCREENSHOT_DIR, 'readme');
const carol = { username: 'carol', password: 'carol-pass-0005' };

let browser;
before(async () => {
  browser = await launch();
  mkdirSync(OUT, { recursive: true });
  // A user with a few tokens in different states to look at.
  const admin = await apiSession(USERS.admin);
  const u = await admin('POST', '/v1/users', {
    username: carol.username, display_name: 'Carol Jones', password: carol.password,
    scopes: ['patd:self', 'repo:read', 'repo:write', 'packages:read'],
  });
  assert.equal(u.status, 201);
  const api = await apiSession(carol);
  const make = async (body) => {
    const r = await api('POST', '/v1/me/tokens', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  await make({ name: 'laptop backup', description: 'restic to the NAS', scopes: ['repo:read'], expires_in_days: 90 });
  await make({ name: 'release pipeline', description: 'tags and uploads releases', scopes: ['repo:read', 'repo:write'], expires_in_days: 5 });
  await make({ name: 'package mirror', scopes: ['packages:read'], expires_in_days: 60, allowed_cidrs: ['192.0.2.0/24'] });
  const old = await make({ name: 'old CI runner', scopes: ['repo:write'], expires_in_days: 30 });
  assert.equal((await api('DELETE', `/v1/me/tokens/${old.id}`)).status, 204);
});
after(async () => { await browser?.close(); });

test('README screenshots: the token list and a new token shown once', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, carol);
    await page.getByLabel('Show').selectOption('all');
    await page.locator('tbody tr', { hasText: 'old CI runner' }).waitFor();
    await page.screenshot({ path: path.join(OUT, 'tokens.png') });
    await createToken(page, {
      name: 'deploy bot', description: 'pushes to production', scopes: ['repo:read', 'repo:write'], expiry: '30 days',
    });
    await page.screenshot({ path: path.join(OUT, 'new-token.png') });
  }, { viewport: { width: 1200, height: 720 } });
});

test('the token page fits a phone-width screen', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, carol);
    await page.locator('tbody tr', { hasText: 'laptop backup' }).waitFor();
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(fits, 'no horizontal scrolling at 390 px');
    // Each row is a card that still names its fields.
    const label = await page.locator('tbody tr').first().locator('td[data-label="Expires"]')
      .evaluate((td) => getComputedStyle(td, '::before').content);
    assert.equal(label, '"Expires"');
    await page.screenshot({ path: path.join(OUT, 'phone.png'), fullPage: true });
    await page.getByRole('link', { name: 'New token' }).click();
    await page.getByRole('heading', { name: 'New token' }).waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the form fits too');
  }, { viewport: { width: 390, height: 844 } });
});
