// SPDX-License-Identifier: MIT
// The Exchanged page: a token traded for a JWT (POST /oauth2/token) is
// listed with how often and when, and never the JWT itself.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, USERS, launch, withPage, signIn, apiSession } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function exchange(pat) {
  const res = await fetch(`${BASE}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: pat,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    }),
  });
  assert.equal(res.status, 200, 'exchange');
  return (await res.json()).access_token;
}

test('lists the exchanged tokens, not the JWTs', async (t) => {
  const call = await apiSession(USERS.dave);
  const made = await call('POST', '/v1/me/tokens', { name: 'ci-exchange', scopes: ['repo:read'] });
  assert.equal(made.status, 201);
  const jwt1 = await exchange(made.body.token);
  await exchange(made.body.token);
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.dave);
    await page.getByRole('link', { name: 'Exchanged' }).click();
    await page.getByRole('heading', { name: 'Exchanged tokens' }).waitFor();
    const row = page.locator(`tr[data-token="${made.body.id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /ci-exchange\s+2/);
    const html = await page.content();
    assert.ok(!html.includes(jwt1.split('.')[2]), 'the JWT is not on the page');
    assert.ok(!html.includes(made.body.token), 'the PAT is not on the page');
  });
});
