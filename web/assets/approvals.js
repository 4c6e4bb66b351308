// SPDX-License-Identifier: MIT
// The approval queue (DESIGN.md section 13): tokens that asked for a
// scope of the policy's approval_required_scopes wait here until an
// administrator approves them, or denies them with a reason their owner
// reads. A pending token verifies as inactive everywhere. Only
// administrators see the page; the API refuses everyone else.

import { api, listAll } from './api.js';
import { el, clear, timeCell, scopeChips, toast, openDialog } from './dom.js';
import { field, formAlert, submitting } from './forms.js';

/** Asks for the reason of a denial; resolves with it ('' allowed) or null. */
function denyDialog(t) {
  return openDialog(`Deny ${t.name}?`, (dialog, close) => {
    const reason = el('textarea', { name: 'reason', rows: 3, maxlength: 500 });
    const form = el('form', { novalidate: true },
      formAlert(),
      field({ label: 'Reason (shown to the owner)', field: 'reason', control: reason, optional: true }),
      el('div', { class: 'form-actions' },
        el('button', { type: 'submit', class: 'danger' }, 'Deny request'),
        el('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, 'Cancel')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      close(reason.value.trim());
    });
    queueMicrotask(() => reason.focus());
    return [form];
  });
}

export async function approvalsView(root, ctx) {
  if (!ctx.isAdmin()) {
    root.append(
      el('h1', {}, 'Administrators only'),
      el('p', { class: 'alert', role: 'alert' }, 'Your account cannot open the approval queue.'),
      el('p', {}, el('a', { href: '#/tokens' }, 'Back to your tokens')));
    return;
  }
  const users = new Map();
  const owner = async (id) => {
    if (!users.has(id)) {
      try {
        users.set(id, (await api('GET', `/v1/users/${encodeURIComponent(id)}`)).username);
      } catch {
        users.set(id, id);
      }
    }
    return users.get(id);
  };
  const body = el('tbody');
  const empty = el('p', { class: 'muted' }, 'No token is waiting for approval.');
  const table = el('table', { class: 'cards' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'Token'), el('th', { scope: 'col' }, 'Owner'),
      el('th', { scope: 'col' }, 'Scopes'), el('th', { scope: 'col' }, 'Requested'),
      el('th', { scope: 'col' }, 'Decision'))),
    body);

  async function decide(t, approve) {
    let payload = { action: 'approve' };
    if (!approve) {
      const reason = await denyDialog(t);
      if (reason === null) return;
      payload = reason ? { action: 'deny', reason } : { action: 'deny' };
    }
    try {
      await api('POST', `/v1/approvals/${encodeURIComponent(t.id)}`, payload);
      toast(`${approve ? 'Approved' : 'Denied'} ${t.name}.`);
    } catch (err) {
      toast(err.description || String(err));
    }
    await load();
  }

  async function load() {
    const { items } = await listAll('/v1/approvals');
    const rows = [];
    for (const t of items) {
      // eslint-disable-next-line no-await-in-loop
      const who = await owner(t.user_id);
      rows.push(el('tr', { 'data-id': t.id },
        el('td', { 'data-label': 'Token' }, el('span', { class: 'tname' }, t.name)),
        el('td', { 'data-label': 'Owner' }, who),
        el('td', { 'data-label': 'Scopes' }, scopeChips(t.scopes)),
        el('td', { 'data-label': 'Requested' }, timeCell(t.created_at)),
        el('td', { 'data-label': 'Decision', class: 'actions' },
          el('button', { type: 'button', 'aria-label': `Approve ${t.name}`, onclick: () => decide(t, true) }, 'Approve'),
          el('button', {
            type: 'button', class: 'secondary', 'aria-label': `Deny ${t.name}`, onclick: () => decide(t, false),
          }, 'Deny'))));
    }
    clear(body).append(...rows);
    table.hidden = rows.length === 0;
    empty.hidden = rows.length !== 0;
  }

  root.append(el('h1', {}, 'Approval requests'),
    el('p', { class: 'muted' }, 'Tokens that ask for a scope needing approval stay inactive until approved here.'),
    empty, table);
  await load();
}
