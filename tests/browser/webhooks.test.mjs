// SPDX-License-Identifier: MIT
// Webhooks page (docs/webhooks.md): an admin adds an endpoint that points
// at a receiver started here (node:http on loopback), sees the secret
// once, sends a test event, sees the delivery recorded and redelivers it;
// the receiver gets the same webhook-id twice, signed with that secret
// (checked here with node:crypto, Standard Webhooks). bob sees no page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { USERS, launch, withPage, signIn, pollUntil, assertLabelled } from './lib.mjs';

let browser;
let server;
const got = [];
before(async () => {
  browser = await launch();
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('thanks');
    });
  });
  await new Promise((r) => { server.listen(0, '127.0.0.1', r); });
});
after(async () => {
  await browser?.close();
  await new Promise((r) => { server.close(r); });
});

function verify(secret, { headers, body }) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = crypto.createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`).update(body).digest('base64');
  return headers['webhook-signature'].split(' ').includes(`v1,${mac}`);
}

test('bob has no Webhooks link', async (t) => {
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.bob);
    assert.equal(await page.getByRole('link', { name: 'Webhooks' }).count(), 0);
    await page.goto('/#/webhooks');
    await page.getByRole('heading', { name: 'Administrators only' }).waitFor();
  });
});

test('an admin adds an endpoint, sends a test event, sees it delivered and redelivers it', async (t) => {
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  await withPage(t, browser, async (page) => {
    await signIn(page, USERS.admin);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await assertLabelled(page, 'form');

    // A bad URL is refused, and nothing is added.
    await page.getByLabel('Endpoint URL').fill('http://user:pw@example.com/');
    await page.getByLabel('token.created').check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('must not hold a user name or password').waitFor();
    assert.equal(await page.getByText('No endpoints yet.').count(), 1);

    await page.getByLabel('Endpoint URL').fill(url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = (await page.getByLabel('Signing secret').textContent()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.getByRole('cell', { name: url, exact: true }).waitFor();

    await page.getByRole('button', { name: `Send a test event to ${url}` }).click();
    await pollUntil(() => got.length, 1, { what: 'the receiver got the test event' });
    const first = got[0];
    assert.equal(JSON.parse(first.body).type, 'webhook.test');
    assert.ok(verify(secret, first), 'signed with the secret shown once');

    // The attempt is listed (the page refreshes on demand).
    await pollUntil(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return page.locator('td.result', { hasText: 'ok' }).count();
    }, 1, { what: 'the delivery is listed as ok' });
    const msgId = first.headers['webhook-id'];
    await page.getByRole('cell', { name: msgId, exact: true }).first().waitFor();
    await page.getByText('thanks').waitFor();

    await page.getByRole('button', { name: `Redeliver ${msgId}` }).click();
    await pollUntil(() => got.length, 2, { what: 'the receiver got the redelivery' });
    assert.equal(got[1].headers['webhook-id'], msgId, 'same webhook-id');
    assert.ok(verify(secret, got[1]));
    await pollUntil(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return page.locator('td.result', { hasText: 'ok' }).count();
    }, 2, { what: 'both attempts listed' });

    // Reloaded, the page no longer shows the secret.
    await page.reload();
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    assert.equal(await page.getByText(secret).count(), 0, 'secret shown once');
  });
});
