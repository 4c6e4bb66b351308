// SPDX-License-Identifier: MIT
// The admin console: closed to users, disabling a user (their token
// stops working), creating a user, bulk revocation with a dry run first,
// the policy ("no expiry" appears on the token form only when allowed),
// the scope catalog and the audit log.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  USERS, launch, withPage, signIn, createToken, authStatus, pollUntil, apiSession, assertLabelled,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function openAdmin(page, section) {
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: section }).click();
}

test('a user cannot open the admin pages', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    assert.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0, 'no Admin link');
    for (const section of ['users', 'tokens', 'scopes', 'policy', 'audit']) {
      // eslint-disable-next-line no-await-in-loop
      await page.goto(`/#/admin/${section}`);
      // eslint-disable-next-line no-await-in-loop
      await page.getByRole('heading', { name: 'Administrators only' }).waitFor();
      // eslint-disable-next-line no-await-in-loop
      assert.equal(await page.locator('table').count(), 0, `no table on ${section}`);
    }
    // The API refuses bob whatever the page does.
    const status = await page.evaluate(async () => (await fetch('/v1/users', { credentials: 'same-origin' })).status);
    assert.equal(status, 403);
  });
});

test('an admin disables a user, whose token stops working, and enables them again', async (t) => {
  let token;
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.dave);
    token = await createToken(page, { name: 'dave-ci', scopes: ['repo:read'] });
  });
  assert.equal(await authStatus(token), 200);

  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.admin);
    await openAdmin(page, 'Users');
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByLabel('Search users').fill('dave');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('tbody tr', { has: page.locator('.tname', { hasText: /^dave$/ }) });
    await row.waitFor();
    // The old list may still be on the page for a moment: wait for the new one.
    await pollUntil(() => page.locator('tbody tr').count(), 1, { what: 'the search finds only dave' });

    await row.getByRole('button', { name: 'Disable dave' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable dave?' });
    await dialog.getByRole('button', { name: 'Disable dave' }).click();
    await row.locator('.badge', { hasText: 'disabled' }).waitFor();
    await pollUntil(() => authStatus(token), 401, { what: "a disabled user's token" });

    await row.getByRole('button', { name: 'Enable dave' }).click();
    await row.locator('.badge', { hasText: 'enabled' }).waitFor();
    await pollUntil(() => authStatus(token), 200, { what: "an enabled user's token" });
  });
});

test('an admin creates a user, sets scopes and a password, and bulk-revokes after a dry run', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.admin);
    await openAdmin(page, 'Users');
    await page.getByText('Create a user').click();
    await page.getByLabel('Username').fill('frank');
    await page.getByLabel('Display name').fill('Frank <b>Test</b>');
    await page.getByRole('group', { name: 'Allowed scopes' }).getByRole('checkbox', { name: 'repo:read' }).check();
    await page.getByRole('button', { name: 'Create user' }).click();
    const row = page.locator('tbody tr', { has: page.locator('.tname', { hasText: /^frank$/ }) });
    await row.waitFor();
    assert.equal(await row.locator('.tdesc').textContent(), 'Frank <b>Test</b>');

    // A duplicate username is refused next to the field.
    await page.getByLabel('Username').fill('frank');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('[data-field="username"] .field-error').waitFor();

    // Scopes and password through their dialogs.
    await row.getByRole('button', { name: 'Set the scopes of frank' }).click();
    let dialog = page.getByRole('dialog', { name: 'Scopes of frank' });
    await dialog.getByRole('checkbox', { name: 'repo:write' }).check();
    await dialog.getByRole('button', { name: 'Save scopes' }).click();
    await row.locator('.chip', { hasText: 'repo:write' }).waitFor();
    await row.getByRole('button', { name: 'Reset the password of frank' }).click();
    dialog = page.getByRole('dialog', { name: 'New password for frank' });
    await dialog.getByLabel('New password').fill('short');
    await dialog.getByRole('button', { name: 'Set password' }).click();
    await dialog.locator('[data-field="password"] .field-error').waitFor();
    await dialog.getByLabel('New password').fill('frank-pass-0004');
    await dialog.getByRole('button', { name: 'Set password' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  // frank signs in with the new password and holds two tokens.
  const frank = { username: 'frank', password: 'frank-pass-0004' };
  const api = await apiSession(frank);
  const tokens = [];
  for (const name of ['bulk-1', 'bulk-2']) {
    // eslint-disable-next-line no-await-in-loop
    const r = await api('POST', '/v1/me/tokens', { name, scopes: ['repo:read'], expires_in_days: 7 });
    assert.equal(r.status, 201);
    tokens.push(r.body.token);
  }

  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.admin);
    await openAdmin(page, 'Tokens');
    await page.getByRole('heading', { name: 'Tokens' }).waitFor();
    await page.getByLabel('User', { exact: true }).selectOption({ label: 'frank' });
    await page.getByLabel('Scope', { exact: true }).selectOption('repo:read');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('tbody tr', { hasText: 'bulk-2' }).waitFor();
    // The unfiltered list also holds bulk-2: wait for the filtered one.
    await pollUntil(() => page.locator('tbody tr').count(), 2, { what: "frank's repo:read tokens" });
    // Both expire within 7 days.
    assert.equal(await page.locator('tbody .badge', { hasText: 'expires soon' }).count(), 2);

    await page.getByRole('button', { name: 'Count matching tokens' }).click();
    await page.getByText('2 active tokens would be revoked.').waitFor();
    for (const tok of tokens) assert.equal(await authStatus(tok), 200, 'a dry run changes nothing');
    await page.getByRole('button', { name: 'Revoke 2 tokens' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke these tokens?' });
    await dialog.getByRole('button', { name: 'Revoke 2 tokens' }).click();
    await page.getByText('Revoked 2 tokens.').first().waitFor();
    for (const tok of tokens) assert.equal(await authStatus(tok), 401);
    await page.locator('tbody tr.empty').waitFor();

    // The audit log shows it.
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('token.revoked_bulk');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('tbody tr', { hasText: 'token.revoked_bulk' }).first().waitFor();
  });
});

test('the policy decides whether "no expiry" is offered; the scope catalog is editable', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.admin);
    await page.getByRole('link', { name: 'New token' }).click();
    await page.getByRole('heading', { name: 'New token' }).waitFor();
    assert.equal(await page.getByRole('radio', { name: 'No expiry' }).count(), 0);
    // Scope descriptions come from the catalog.
    await page.getByText('Push to repositories').waitFor();

    await openAdmin(page, 'Policy');
    await page.getByRole('heading', { name: 'Policy' }).waitFor();
    await page.getByLabel('Allow tokens without expiry').check();
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Saved the policy.').waitFor();

    await page.getByRole('link', { name: 'Tokens', exact: true }).first().click();
    await page.getByRole('link', { name: 'New token' }).click();
    await page.getByLabel('Name', { exact: true }).fill('forever');
    await page.getByRole('checkbox', { name: 'repo:read' }).check();
    await page.getByRole('radio', { name: 'No expiry' }).check();
    await page.getByText('A token without expiry works until someone revokes it').waitFor();
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('heading', { name: 'Copy your new token now' }).waitFor();
    await page.locator('dd', { hasText: /^never$/ }).waitFor();

    // Back to the default; an invalid value is refused next to its field.
    await openAdmin(page, 'Policy');
    await page.getByLabel('Allow tokens without expiry').uncheck();
    await page.getByLabel('Longest token lifetime (days)').fill('0');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.locator('[data-field="max_lifetime_days"] .field-error').waitFor();
    await page.getByLabel('Longest token lifetime (days)').fill('366');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Saved the policy.').waitFor();

    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Scopes' }).click();
    await page.getByRole('heading', { name: 'Scopes' }).waitFor();
    await page.getByRole('button', { name: 'Add a scope' }).click();
    await page.getByLabel('Scope name').last().fill('deploy:prod');
    await page.getByLabel('Description of the new scope').fill('Deploy to <production>');
    await page.getByRole('button', { name: 'Save catalog' }).click();
    await page.getByText('Saved the scope catalog.').waitFor();
    // Read back from the server after the save.
    assert.equal(await page.getByLabel('Description of deploy:prod').inputValue(), 'Deploy to <production>');
  });
});

test('every control on every page has a label', async (t) => {
  await withPage(t, browser, async (page) => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to patd' }).waitFor();
    await assertLabelled(page, 'the sign-in page');
    await signIn(page, USERS.admin);
    await assertLabelled(page, 'the token list');
    await page.getByRole('button', { name: 'Regenerate bootstrap' }).click();
    await page.getByRole('dialog').waitFor();
    await assertLabelled(page, 'the regenerate dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Edit bootstrap' }).click();
    await assertLabelled(page, 'the inline editor');
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'New token' }).click();
    await page.getByRole('heading', { name: 'New token' }).waitFor();
    await assertLabelled(page, 'the new-token form');
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByRole('heading', { name: 'Your recent activity' }).waitFor();
    await assertLabelled(page, 'the activity page');
    for (const [section, heading] of [['users', 'Users'], ['tokens', 'Tokens'], ['scopes', 'Scopes'], ['policy', 'Policy'], ['audit', 'Audit log']]) {
      // eslint-disable-next-line no-await-in-loop
      await page.goto(`/#/admin/${section}`);
      // eslint-disable-next-line no-await-in-loop
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      // eslint-disable-next-line no-await-in-loop
      await page.locator('.more, form').first().waitFor();
      // eslint-disable-next-line no-await-in-loop
      await assertLabelled(page, `admin ${section}`);
    }
    await page.goto('/#/admin/users');
    await page.getByText('Create a user').click();
    await assertLabelled(page, 'the user form');
    await page.getByRole('button', { name: 'Set the scopes of bob' }).click();
    await page.getByRole('dialog').waitFor();
    await assertLabelled(page, 'the scopes dialog');
  });
});
