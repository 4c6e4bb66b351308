// SPDX-License-Identifier: MIT
// The self-service token page as bob: create (two scopes, 30 days), copy
// and use, rename, regenerate with a grace period, revoke, field errors,
// and a token name that is an HTML injection attempt.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, USERS, launch, withPage, signIn, createToken, authStatus, pollUntil,
} from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The table row of the token named name. */
function row(page, name) {
  return page.locator('tbody tr').filter({ has: page.locator('.tname', { hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
}

test('creates a token with two scopes and 30 days, copies it and uses it', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    const shown = await createToken(page, {
      name: 'ci-deploy', description: 'pushes releases', scopes: ['repo:read', 'repo:write'], expiry: '30 days',
    });
    assert.match(shown, /^pat_[0-9A-Za-z]{38}$/);
    await page.getByText('It will not be shown again.').waitFor();
    const example = await page.locator('pre.example').textContent();
    assert.equal(example, `curl -H "Authorization: Bearer ${shown}" ${BASE}/v1/token`);

    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, shown, 'the clipboard holds the token');

    const res = await fetch(`${BASE}/v1/auth`, { headers: { Authorization: `Bearer ${copied}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-pat-username'), 'bob');
    assert.deepEqual(res.headers.get('x-pat-scopes').split(' ').sort(), ['repo:read', 'repo:write']);
    const expires = Date.parse(res.headers.get('x-pat-expires'));
    assert.ok(Math.abs(expires - (Date.now() + 30 * 86400e3)) < 3600e3, 'expires in 30 days');

    // Done: back to the list; the token is gone from the page for good.
    await page.getByRole('button', { name: 'Done' }).click();
    const r = row(page, 'ci-deploy');
    await r.waitFor();
    assert.ok(!(await page.content()).includes(shown), 'the plaintext left the page');
    await r.locator('.badge', { hasText: /^active$/ }).waitFor();
    assert.match(await r.locator('td[data-label="Expires"]').textContent(), /in 30 days/);
    assert.equal(await r.locator('td[data-label="Hint"]').textContent(), `…${shown.slice(-4)}`);
    assert.match(await r.textContent(), /pushes releases/);
    assert.match(await r.textContent(), /repo:read.*repo:write/);
  });
});

test('leaving the page drops a token on display', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    const shown = await createToken(page, { name: 'left-behind', scopes: ['repo:read'] });
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByRole('heading', { name: 'Your recent activity' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'New token' }).waitFor();
    assert.ok(!(await page.content()).includes(shown));
    assert.equal(await page.locator('input[data-secret]').count(), 0);
  });
});

test('renames a token and edits its description inline', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    await createToken(page, { name: 'old-name', scopes: ['repo:read'] });
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Edit old-name' }).click();
    const form = page.getByRole('form', { name: 'Edit old-name' });
    await form.getByLabel('Name', { exact: true }).fill('new-name');
    await form.getByLabel('Description').fill('renamed in the browser');
    await form.getByLabel('Description').press('Enter');
    const r = row(page, 'new-name');
    await r.waitFor();
    assert.match(await r.textContent(), /renamed in the browser/);
    assert.equal(await row(page, 'old-name').count(), 0);
    // Escape cancels an edit.
    await page.getByRole('button', { name: 'Edit new-name' }).click();
    await page.getByRole('form', { name: 'Edit new-name' }).getByLabel('Name', { exact: true }).fill('not-saved');
    await page.keyboard.press('Escape');
    await row(page, 'new-name').waitFor();
    // A name already taken is refused next to the name field.
    await createToken(page, { name: 'taken', scopes: ['repo:read'] });
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Edit new-name' }).click();
    const f2 = page.getByRole('form', { name: 'Edit new-name' });
    await f2.getByLabel('Name', { exact: true }).fill('taken');
    await f2.getByRole('button', { name: 'Save' }).click();
    await f2.locator('[data-field="name"] .field-error', { hasText: 'already exists' }).waitFor();
  });
});

test('regenerates a token; the old one is refused after the grace period', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    const old = await createToken(page, { name: 'rotate-me', scopes: ['repo:read'] });
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await authStatus(old), 200);

    await page.getByRole('button', { name: 'Regenerate rotate-me' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate “rotate-me”' });
    await dialog.getByLabel('Grace period in seconds').fill('2');
    await dialog.getByRole('radio', { name: '30 days' }).check();
    await dialog.getByRole('button', { name: 'Regenerate' }).click();
    await page.getByRole('heading', { name: 'Copy the new secret now' }).waitFor();
    await page.getByText('It will not be shown again.').waitFor();
    const fresh = await page.locator('input[data-secret]').inputValue();
    assert.notEqual(fresh, old);
    assert.equal(await authStatus(fresh), 200, 'the new token works');
    await pollUntil(() => authStatus(old), 401, { what: 'the old token after its 2 s grace' });
    assert.equal(await authStatus(fresh), 200, 'the new token still works');
    await page.getByRole('button', { name: 'Done' }).click();
    await row(page, 'rotate-me').waitFor();
    assert.equal(await row(page, 'rotate-me').locator('td[data-label="Hint"]').textContent(), `…${fresh.slice(-4)}`);
  });
});

test('revokes a token after a confirmation that names it', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    const token = await createToken(page, { name: 'short-lived', scopes: ['repo:write'] });
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await authStatus(token), 200);

    // Cancelling changes nothing.
    await page.getByRole('button', { name: 'Revoke short-lived' }).click();
    let dialog = page.getByRole('dialog', { name: 'Revoke “short-lived”?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await authStatus(token), 200);

    await page.getByRole('button', { name: 'Revoke short-lived' }).click();
    dialog = page.getByRole('dialog', { name: 'Revoke “short-lived”?' });
    assert.match(await dialog.textContent(), /“short-lived”.*stops working/);
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await row(page, 'short-lived').waitFor({ state: 'detached' });
    assert.equal(await authStatus(token), 401);

    // Still listed under "Revoked".
    await page.getByLabel('Show').selectOption('revoked');
    const r = row(page, 'short-lived');
    await r.waitFor();
    await r.locator('.badge', { hasText: 'revoked' }).waitFor();
  });
});

test('shows API field errors next to their fields', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    await page.getByRole('link', { name: 'New token' }).click();
    await page.getByRole('button', { name: 'Create token' }).click();
    const nameErr = page.locator('[data-field="name"] .field-error');
    await nameErr.waitFor();
    assert.match(await nameErr.textContent(), /name/i);
    assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Name', { exact: true }).fill('needs-a-scope');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('[data-field="scopes"] .field-error', { hasText: /scope/ }).waitFor();
    assert.ok(await nameErr.isHidden(), 'the earlier error is cleared');

    await page.getByRole('checkbox', { name: 'repo:read' }).check();
    await page.getByLabel('Allowed address ranges').fill('10.0.0.0/8\nnot-an-address');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('[data-field="allowed_cidrs"] .field-error', { hasText: 'not-an-address' }).waitFor();

    await page.getByLabel('Allowed address ranges').fill('10.0.0.0/8');
    // A custom date: empty is refused next to the expiry; a date is taken
    // as the end of that day, UTC.
    await page.getByRole('radio', { name: 'On a date (UTC)' }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('[data-field="expiry"] .field-error').waitFor();
    const day = new Date(Date.now() + 45 * 86400e3).toISOString().slice(0, 10);
    await page.getByLabel('Custom expiry date (UTC)').fill(day);
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('heading', { name: 'Copy your new token now' }).waitFor();
    await page.locator('dd', { hasText: `${day} 23:59 UTC` }).waitFor();
    await page.locator('dd', { hasText: '10.0.0.0/8' }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('link', { name: 'New token' }).click();

    // "No expiry" is not offered: bob cannot read the policy.
    assert.equal(await page.getByRole('radio', { name: 'No expiry' }).count(), 0);
    // No scope outside bob's allowed ones is offered.
    assert.equal(await page.getByRole('checkbox', { name: 'packages:read' }).count(), 0);
  });
});

test('a token named like HTML stays text: nothing runs, no element appears', async (t) => {
  const evil = '<img src=x onerror=alert(1)>';
  const evilDesc = '<script>alert(2)</script><b>bold</b>';
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    await createToken(page, { name: evil, description: evilDesc, scopes: ['repo:read'] });
    await page.getByRole('heading', { name: `Token “${evil}” created` }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    const r = row(page, evil);
    await r.waitFor();
    assert.equal(await r.locator('.tname').textContent(), evil);
    assert.equal(await r.locator('.tdesc').textContent(), evilDesc);
    // The dialogs that name the token show it as text too.
    await page.getByRole('button', { name: `Revoke ${evil}` }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke “${evil}”?` });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: `Edit ${evil}` }).click();
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByRole('heading', { name: 'Your recent activity' }).waitFor();
    await page.getByText(evil).first().waitFor();

    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no img element from the name');
    assert.equal(await page.locator('main script, main b').count(), 0, 'no element from the description');
    // withPage fails the test if an alert (or any dialog) opened.
  });
});
