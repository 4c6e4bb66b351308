// SPDX-License-Identifier: MIT
// The approval queue (DESIGN.md section 13): with packages:read needing
// approval, bob's new token shows "awaiting approval" on his page and
// is refused at /v1/auth; an admin approves it on the Approvals page (it
// works at once), denies another with a reason (it stays refused, and
// bob reads the reason); bob cannot open the queue. An admin creates a
// service account on the Users page and finds it with the kind filter;
// it cannot sign in.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  USERS, launch, withPage, signIn, createToken, authStatus, pollUntil, apiSession,
} from './lib.mjs';

let browser;
let admin;
let bobId;
let bobScopes;
let policy;

before(async () => {
  browser = await launch();
  admin = await apiSession(USERS.admin);
  const p = await admin('GET', '/v1/policy');
  policy = p.body;
  const put = await admin('PUT', '/v1/policy', {
    max_lifetime_days: policy.max_lifetime_days,
    allow_no_expiry: policy.allow_no_expiry,
    default_lifetime_days: policy.default_lifetime_days,
    max_tokens_per_user: policy.max_tokens_per_user,
    revoke_on_reuse: policy.revoke_on_reuse,
    approval_required_scopes: ['packages:read'],
  });
  assert.equal(put.status, 200);
  const users = await admin('GET', '/v1/users?q=bob');
  const bob = users.body.items.find((u) => u.username === 'bob');
  bobId = bob.id;
  bobScopes = bob.scopes;
  const patch = await admin('PATCH', `/v1/users/${bobId}`, { scopes: [...bobScopes, 'packages:read'] });
  assert.equal(patch.status, 200);
});

after(async () => {
  await admin?.('PUT', '/v1/policy', {
    max_lifetime_days: policy.max_lifetime_days,
    allow_no_expiry: policy.allow_no_expiry,
    default_lifetime_days: policy.default_lifetime_days,
    max_tokens_per_user: policy.max_tokens_per_user,
    revoke_on_reuse: policy.revoke_on_reuse,
    approval_required_scopes: [],
  });
  if (bobId) await admin('PATCH', `/v1/users/${bobId}`, { scopes: bobScopes });
  await browser?.close();
});

async function bobRequests(t, name) {
  let token;
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    token = await createToken(page, { name, scopes: ['packages:read'] });
    await page.goto('/#/tokens');
    const row = page.locator('tbody tr', { has: page.locator('.tname', { hasText: name }) });
    await row.waitFor();
    assert.equal(await row.locator('.badge').textContent(), 'awaiting approval');
  });
  return token;
}

async function openQueue(page) {
  await signIn(page, USERS.admin);
  await page.getByRole('link', { name: 'Approvals' }).click();
  await page.getByRole('heading', { name: 'Approval requests' }).waitFor();
}

test('a pending token is approved on the Approvals page and works at once', async (t) => {
  const token = await bobRequests(t, 'bob-pkg');
  assert.equal(await authStatus(token), 401, 'pending: refused');
  await withPage(t, browser, async (page) => {
    await openQueue(page);
    const row = page.locator('tbody tr', { has: page.locator('.tname', { hasText: /^bob-pkg$/ }) });
    await row.waitFor();
    assert.match(await row.textContent(), /bob/);
    assert.match(await row.textContent(), /packages:read/);
    await row.getByRole('button', { name: 'Approve bob-pkg' }).click();
    await pollUntil(() => row.count(), 0, { what: 'the request leaves the queue' });
    await page.getByText('No token is waiting for approval.').waitFor();
  });
  assert.equal(await authStatus(token), 200, 'approved: allowed');
});

test('a denied request stays refused and its owner reads the reason', async (t) => {
  const token = await bobRequests(t, 'bob-pkg2');
  await withPage(t, browser, async (page) => {
    await openQueue(page);
    const row = page.locator('tbody tr', { has: page.locator('.tname', { hasText: /^bob-pkg2$/ }) });
    await row.getByRole('button', { name: 'Deny bob-pkg2' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deny bob-pkg2?' });
    await dialog.getByLabel('Reason (shown to the owner)').fill('use the package mirror');
    await dialog.getByRole('button', { name: 'Deny request' }).click();
    await pollUntil(() => row.count(), 0, { what: 'the request leaves the queue' });
  });
  assert.equal(await authStatus(token), 401, 'denied: refused');
  const bob = await apiSession(USERS.bob);
  const list = await bob('GET', '/v1/me/tokens?status=all');
  const mine = list.body.items.find((x) => x.name === 'bob-pkg2');
  assert.equal(mine.approval.state, 'denied');
  assert.equal(mine.approval.reason, 'use the package mirror');
  assert.equal(mine.status, 'revoked');
});

test('a user cannot open the approval queue', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    assert.equal(await page.getByRole('link', { name: 'Approvals' }).isVisible(), false, 'no Approvals link');
    await page.goto('/#/approvals');
    await page.getByRole('heading', { name: 'Administrators only' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/v1/approvals', { credentials: 'same-origin' })).status);
    assert.equal(status, 403);
  });
});

test('an admin creates a service account on the page and filters users by kind', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.admin);
    await page.getByRole('link', { name: 'Admin', exact: true }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByText('Create a user').click();
    await page.getByLabel('Username').fill('deploy-bot');
    await page.getByLabel(/Service account/).check();
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('tbody tr', { has: page.locator('.tname', { hasText: /^deploy-bot$/ }) }).waitFor();
    await page.getByLabel('Kind').selectOption('service');
    await page.getByRole('button', { name: 'Search' }).click();
    await pollUntil(() => page.locator('tbody tr').count(), 1, { what: 'only the service account' });
    const row = page.locator('tbody tr').first();
    assert.match(await row.textContent(), /deploy-bot/);
    assert.match(await row.textContent(), /service account/);
  });
  // It cannot sign in, whatever is typed.
  const res = await fetch(`${process.env.PATD_URL}/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'deploy-bot', password: 'anything at all' }),
  });
  assert.equal(res.status, 401);
});

test('a token with a use limit made on the page stops after its uses', async (t) => {
  let token;
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.dave);
    await page.getByRole('link', { name: 'New token' }).click();
    await page.getByRole('heading', { name: 'New token' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('dave-twice');
    await page.getByRole('checkbox', { name: 'repo:read' }).check();
    await page.getByLabel('Maximum uses').fill('2');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('heading', { name: 'Copy your new token now' }).waitFor();
    token = await page.locator('input[data-secret]').inputValue();
  });
  assert.equal(await authStatus(token), 200);
  assert.equal(await authStatus(token), 200);
  assert.equal(await authStatus(token), 401, 'no uses left');
});
