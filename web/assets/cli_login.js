// SPDX-License-Identifier: MIT
// #/cli-login: `patctl login --web` asks the signed-in person to approve
// a new token for patctl (scopes and lifetime as patctl asked). On
// approval the server writes a one-time code (POST /v1/me/cli-grants)
// and the browser goes on to patctl's loopback listener with it; patctl
// exchanges the code for the token, which never appears in a URL.

import { api } from './api.js';
import { el } from './dom.js';
import { formAlert, submitting } from './forms.js';

export async function cliLoginView(view, ctx, route) {
  const p = route.params;
  const port = Number(p.get('port'));
  const scopes = (p.get('scope') || 'patd:self').split(' ').filter(Boolean);
  const days = Number(p.get('days')) || 0;
  const name = p.get('name') || 'patctl';
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !p.get('state') || !p.get('code_challenge')) {
    view.append(el('h1', {}, 'Not a patctl request'),
      el('p', { class: 'alert', role: 'alert' }, 'This link is incomplete. Run patctl login --web again.'));
    return;
  }
  const form = el('form', { class: 'panel', novalidate: true },
    el('h1', {}, 'Approve a token for patctl'),
    formAlert(),
    el('p', {}, `patctl on this computer asks for a new token for ${ctx.user.username}.`),
    el('dl', { class: 'cli-request' },
      el('dt', {}, 'Name'), el('dd', { id: 'cli-name' }, name),
      el('dt', {}, 'Scopes'), el('dd', { id: 'cli-scopes' }, scopes.join(' ')),
      el('dt', {}, 'Expires'), el('dd', { id: 'cli-days' }, days ? `in ${days} days` : 'after the default lifetime'),
      el('dt', {}, 'Sent to'), el('dd', {}, `127.0.0.1:${port} (patctl)`)),
    el('p', {}, 'Approve only if you just ran patctl login --web yourself.'),
    el('div', { class: 'form-actions' },
      el('button', { type: 'submit', id: 'cli-approve' }, 'Approve'),
      el('a', { href: '#/tokens', class: 'button secondary', id: 'cli-cancel' }, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await submitting(form, async () => {
      const body = { port, state: p.get('state'), code_challenge: p.get('code_challenge'), scopes, name };
      if (days) body.expires_in_days = days;
      const r = await api('POST', '/v1/me/cli-grants', body);
      window.location.assign(r.redirect);
    });
  });
  view.append(form);
}
