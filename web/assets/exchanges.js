// SPDX-License-Identifier: MIT
// Which of the user's tokens were exchanged for short-lived JWTs (GET
// /v1/me/exchanges): how often and when last. The JWTs themselves are
// never shown or kept; revoking a token here or on the Tokens page
// kills every JWT derived from it.

import { api } from './api.js';
import { el, append, timeCell } from './dom.js';

export async function exchangesView(root) {
  const r = await api('GET', '/v1/me/exchanges');
  const tbody = el('tbody');
  for (const x of r.items) {
    tbody.append(el('tr', { dataset: { token: x.token_id } },
      el('td', { 'data-label': 'Token' }, x.token_name),
      el('td', { 'data-label': 'Exchanges' }, String(x.exchanges)),
      el('td', { 'data-label': 'Last exchanged' }, timeCell(x.last_exchanged_at))));
  }
  if (!tbody.firstChild) {
    tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 3 }, 'None of your tokens was exchanged.')));
  }
  append(root,
    el('h1', {}, 'Exchanged tokens'),
    el('p', { class: 'muted' },
      'Tokens that were traded for short-lived JWTs (POST /oauth2/token). Revoking or regenerating a token ends every JWT made from it.'),
    el('div', { class: 'table-wrap' },
      el('table', { class: 'cards' },
        el('caption', { class: 'visually-hidden' }, 'Exchanged tokens'),
        el('thead', {}, el('tr', {}, ['Token', 'Exchanges', 'Last exchanged']
          .map((h) => el('th', { scope: 'col' }, h)))),
        tbody)));
}
