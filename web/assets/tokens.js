// SPDX-License-Identifier: MIT
// The self-service token page: the caller's tokens (filter, sort, inline
// rename, regenerate, revoke) and the creation form. A new token's
// plaintext is shown once, in the reveal panel, and nowhere else: it is
// not kept in any variable that outlives the panel, and dropSecrets()
// (on navigation, "Done" and pagehide) empties and removes the panel.

import { api, listAll } from './api.js';
import {
  el, append, clear, uid, timeCell, statusBadge, scopeChips, tokenState, toast,
  confirmDialog, openDialog, exactTime, relTime,
} from './dom.js';
import { field, formAlert, submitting, scopePicker, expiryPicker, splitList } from './forms.js';

let wipeReveal = null;

/** Forgets the token on display, if any. */
export function dropSecrets() {
  const wipe = wipeReveal;
  wipeReveal = null;
  if (wipe) wipe();
}

async function copyText(input) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(input.value);
    return;
  }
  // Plain HTTP on another host: the old way still works on a selection.
  input.select();
  if (!document.execCommand('copy')) throw new Error('copy refused');
}

/**
 * The panel that shows created (a token object with "token") once. The
 * plaintext goes into the input and the example only; created.token is
 * deleted from the object first.
 */
function revealPanel(created, { title, onDone }) {
  const headingId = uid('reveal');
  const input = el('input', {
    type: 'text', readOnly: true, autocomplete: 'off', spellcheck: 'false',
    class: 'mono', 'aria-label': `The new token for ${created.name}`, dataset: { secret: '' },
  });
  input.value = created.token;
  const example = el('code', {});
  example.textContent = `curl -H "Authorization: Bearer ${created.token}" ${window.location.origin}/v1/token`;
  delete created.token;

  const status = el('span', { class: 'copied', role: 'status' });
  const copy = el('button', { type: 'button', class: 'secondary' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await copyText(input);
      status.textContent = 'Copied to the clipboard.';
    } catch {
      input.select();
      status.textContent = 'Copying failed: the token is selected, press Ctrl+C.';
    }
  });
  input.addEventListener('focus', () => input.select());

  const heading = el('h2', { id: headingId, tabindex: '-1' }, title);
  const done = el('button', { type: 'button' }, 'Done');
  const panel = el('section', { class: 'panel reveal', 'aria-labelledby': headingId },
    heading,
    el('p', { class: 'warning', role: 'note' },
      el('strong', {}, 'It will not be shown again. '),
      'patd keeps only a hash of it, so nobody can show it to you later. Leaving this page forgets it; '
      + 'if you lose it, regenerate it.'),
    el('div', { class: 'secret-row' }, input, copy),
    el('p', {}, status),
    el('h3', {}, 'How to use it'),
    el('p', {}, 'Send it in the Authorization header, for example:'),
    el('pre', { class: 'example' }, example),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Name'), el('dd', {}, created.name),
      el('dt', {}, 'Scopes'), el('dd', {}, scopeChips(created.scopes)),
      el('dt', {}, 'Expires'),
      el('dd', {}, created.expires_at ? `${exactTime(created.expires_at)} (${relTime(created.expires_at)})` : 'never'),
      created.allowed_cidrs && created.allowed_cidrs.length
        ? [el('dt', {}, 'Allowed from'), el('dd', {}, created.allowed_cidrs.join(', '))] : null),
    el('div', { class: 'form-actions' }, done));

  wipeReveal = () => {
    input.value = '';
    example.textContent = '';
    panel.remove();
  };
  done.addEventListener('click', () => {
    dropSecrets();
    onDone();
  });
  queueMicrotask(() => heading.focus());
  return panel;
}

// ---- the list -----------------------------------------------------------

// Survives navigation within the page, not a reload.
const view = { filter: 'active', sort: 'created-desc' };

const FILTERS = [
  ['active', 'Active (including expiring soon)'],
  ['soon', 'Expiring within 7 days'],
  ['expired', 'Expired'],
  ['revoked', 'Revoked'],
  ['all', 'All'],
];

const SORTS = [
  ['created-desc', 'Newest first'],
  ['created-asc', 'Oldest first'],
  ['name-asc', 'Name (A to Z)'],
  ['name-desc', 'Name (Z to A)'],
  ['expires-asc', 'Expiring soonest'],
  ['expires-desc', 'Expiring latest'],
  ['used-desc', 'Most recently used'],
  ['used-asc', 'Least recently used'],
];

function matches(t, filter) {
  const s = tokenState(t);
  if (filter === 'all') return true;
  // Awaiting approval or spent: not revoked nor expired, so listed here.
  if (filter === 'active') return ['active', 'soon', 'pending', 'exhausted'].includes(s);
  return s === filter;
}

function timeKey(iso, missing) {
  return iso ? Date.parse(iso) : missing;
}

function sorter(key) {
  const [what, dir] = key.split('-');
  const sign = dir === 'asc' ? 1 : -1;
  const get = {
    created: (t) => timeKey(t.created_at, 0),
    expires: (t) => timeKey(t.expires_at, Infinity), // never expires: last
    used: (t) => timeKey(t.last_used_at, -Infinity), // never used: least recent
  }[what];
  if (what === 'name') return (a, b) => sign * a.name.localeCompare(b.name);
  return (a, b) => {
    const x = get(a);
    const y = get(b);
    if (x === y) return a.name.localeCompare(b.name);
    return x < y ? -sign : sign;
  };
}

function select(label, options, value, onChange) {
  const s = el('select', {}, options.map(([v, text]) => el('option', { value: v, selected: v === value }, text)));
  s.addEventListener('change', () => onChange(s.value));
  return field({ label, control: s });
}

/** The tokens page: GET /v1/me/tokens?status=all, filtered and sorted here. */
export async function tokensView(root, ctx) {
  const list = await listAll('/v1/me/tokens', { status: 'all' });
  const tokens = list.items;

  const tbody = el('tbody');
  const count = el('p', { class: 'muted small', role: 'status' });
  const table = el('table', { class: 'cards' },
    el('caption', { class: 'visually-hidden' }, 'Your tokens'),
    el('thead', {}, el('tr', {}, ['Name', 'Scopes', 'Status', 'Created', 'Expires', 'Last used', 'Hint', 'Actions']
      .map((h) => el('th', { scope: 'col' }, h)))),
    tbody);

  const refresh = async (focusId, action) => {
    const fresh = await listAll('/v1/me/tokens', { status: 'all' });
    tokens.splice(0, tokens.length, ...fresh.items);
    draw(focusId, action);
  };

  function actionsFor(t, tr) {
    if (t.status === 'revoked') return el('span', { class: 'muted' }, '—');
    const btn = (text, action, label, fn, cls = 'link') => el('button', {
      type: 'button', class: cls, 'aria-label': `${label} ${t.name}`, dataset: { id: t.id, action }, onclick: fn,
    }, text);
    return el('div', { class: 'row-actions' },
      btn('Edit', 'edit', 'Edit', () => editRow(tr, t)),
      btn('Regenerate', 'regenerate', 'Regenerate', () => regenerate(t)),
      btn('Revoke', 'revoke', 'Revoke', () => revoke(t), 'link danger-text'));
  }

  function nameCell(t) {
    return el('td', { class: 'name-cell', 'data-label': 'Name' },
      el('span', { class: 'tname' }, t.name),
      t.description ? el('span', { class: 'tdesc' }, t.description) : null);
  }

  function row(t) {
    const tr = el('tr', { dataset: { id: t.id } });
    tr.append(
      nameCell(t),
      el('td', { 'data-label': 'Scopes' }, scopeChips(t.scopes)),
      el('td', { 'data-label': 'Status' }, statusBadge(t)),
      el('td', { 'data-label': 'Created' }, timeCell(t.created_at)),
      el('td', { 'data-label': 'Expires' }, t.status === 'revoked'
        ? [el('span', {}, 'revoked'), el('span', { class: 'exact' }, exactTime(t.revoked_at))]
        : timeCell(t.expires_at, 'never')),
      el('td', { 'data-label': 'Last used' }, timeCell(t.last_used_at, 'never'),
        t.last_used_ip ? el('span', { class: 'exact' }, `from ${t.last_used_ip}`) : null),
      el('td', { 'data-label': 'Hint', class: 'hint' }, el('code', { title: 'The last 4 characters of the token' }, `…${t.hint}`)),
      el('td', { class: 'actions', 'data-label': 'Actions' }, actionsFor(t, tr)));
    return tr;
  }

  function draw(focusId, action) {
    const shown = tokens.filter((t) => matches(t, view.filter)).sort(sorter(view.sort));
    clear(tbody);
    if (shown.length === 0) {
      tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 8 },
        tokens.length === 0 ? 'You have no tokens yet.' : 'No token matches this filter.')));
    } else {
      shown.forEach((t) => tbody.append(row(t)));
    }
    count.textContent = `${shown.length} of ${tokens.length} token${tokens.length === 1 ? '' : 's'} shown`;
    if (focusId) {
      const b = tbody.querySelector(`button[data-id="${focusId}"][data-action="${action || 'edit'}"]`);
      if (b) b.focus();
    }
  }

  function editRow(tr, t) {
    const cell = tr.querySelector('td.name-cell');
    const nameIn = el('input', { type: 'text', value: t.name, autocomplete: 'off', maxlength: 100 });
    const descIn = el('input', { type: 'text', value: t.description || '', autocomplete: 'off' });
    const cancel = () => draw(t.id, 'edit');
    const form = el('form', { class: 'inline-edit', novalidate: true, 'aria-label': `Edit ${t.name}` },
      formAlert(),
      field({ label: 'Name', field: 'name', control: nameIn }),
      field({ label: 'Description', field: 'description', control: descIn, optional: true }),
      el('div', { class: 'form-actions' },
        el('button', { type: 'submit' }, 'Save'),
        el('button', { type: 'button', class: 'secondary', onclick: cancel }, 'Cancel')));
    form.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        cancel();
      }
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {};
      if (nameIn.value !== t.name) body.name = nameIn.value;
      if (descIn.value !== (t.description || '')) body.description = descIn.value;
      if (Object.keys(body).length === 0) {
        cancel();
        return;
      }
      const updated = await submitting(form, () => api('PATCH', `/v1/me/tokens/${encodeURIComponent(t.id)}`, body));
      if (!updated) return;
      Object.assign(t, updated);
      draw(t.id, 'edit');
      toast(`Saved “${t.name}”.`);
    });
    clear(cell).append(form);
    nameIn.focus();
    nameIn.select();
  }

  async function regenerate(t) {
    const policy = await ctx.readPolicy();
    const created = await openDialog(`Regenerate “${t.name}”`, (dialog, close) => {
      const grace = el('input', { type: 'number', min: 0, max: 604800, step: 1, value: '0', inputmode: 'numeric' });
      const expiry = expiryPicker({ policy, preset: 30, legend: 'New expiry' });
      const form = el('form', { novalidate: true },
        el('p', {}, 'A new secret replaces the current one. The token keeps its name, scopes and history; '
          + 'whatever uses it must be given the new one.'),
        formAlert(),
        field({
          label: 'Grace period in seconds', field: 'grace_seconds', control: grace,
          hint: 'How long the old secret keeps working, so that you can roll it out. 0: it stops at once. At most 7 days (604800).',
        }),
        expiry.node,
        el('div', { class: 'form-actions' },
          el('button', { type: 'submit' }, 'Regenerate'),
          el('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, 'Cancel')));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const r = await submitting(form, () => api('POST', `/v1/me/tokens/${encodeURIComponent(t.id)}/regenerate`,
          { ...expiry.value(), grace_seconds: grace.value === '' ? 0 : Number(grace.value) }));
        if (r) close(r);
      });
      queueMicrotask(() => grace.focus());
      return form;
    });
    if (!created) return;
    const name = created.name;
    clear(root).append(
      el('h1', { tabindex: '-1' }, `Token “${name}” regenerated`),
      revealPanel(created, { title: 'Copy the new secret now', onDone: () => ctx.render() }));
  }

  async function revoke(t) {
    const ok = await confirmDialog({
      title: `Revoke “${t.name}”?`,
      body: [`Anything that uses the token “${t.name}” (…${t.hint}) stops working at once. This cannot be undone.`],
      confirmLabel: 'Revoke token',
    });
    if (!ok) {
      draw(t.id, 'revoke');
      return;
    }
    try {
      await api('DELETE', `/v1/me/tokens/${encodeURIComponent(t.id)}`);
      toast(`Revoked “${t.name}”.`);
      await refresh();
    } catch (err) {
      if (!err.handled) toast(`Could not revoke “${t.name}”: ${err.description}`);
    }
  }

  append(root,
    el('div', { class: 'page-head' },
      el('h1', {}, 'Your tokens'),
      el('a', { class: 'button', href: '#/tokens/new' }, 'New token')),
    el('div', { class: 'filters' },
      select('Show', FILTERS, view.filter, (v) => { view.filter = v; draw(); }),
      select('Sort by', SORTS, view.sort, (v) => { view.sort = v; draw(); })),
    count,
    list.complete ? null : el('p', { class: 'warning' }, `Only the first ${tokens.length} tokens are listed.`),
    el('div', { class: 'table-wrap' }, table));
  draw();
}

// ---- creating -----------------------------------------------------------

/** The creation form, then the new token, once. */
export async function newTokenView(root, ctx) {
  const [me, catalog, policy] = await Promise.all([api('GET', '/v1/me'), ctx.scopeCatalog(), ctx.readPolicy()]);
  ctx.user = me;

  const name = el('input', { type: 'text', autocomplete: 'off', maxlength: 100, 'data-autofocus': true });
  const description = el('textarea', { rows: 2 });
  const scopes = scopePicker({
    names: me.scopes,
    catalog,
    hint: 'Give the token only what it needs. These are the scopes you may grant.',
  });
  const expiry = expiryPicker({ policy, preset: policy && policy.default_lifetime_days && [7, 30, 60, 90].includes(policy.default_lifetime_days) ? policy.default_lifetime_days : 30 });
  const cidrs = el('textarea', { rows: 2, spellcheck: 'false', placeholder: '203.0.113.0/24\n2001:db8::/32' });
  // Governance limits (docs/governance.md); empty: none.
  const maxUses = el('input', { type: 'number', min: 1, step: 1, inputmode: 'numeric' });
  const rateLimit = el('input', { type: 'number', min: 1, step: 1, inputmode: 'numeric' });
  const rateWindow = el('input', { type: 'number', min: 1, max: 86400, step: 1, inputmode: 'numeric', value: 60 });
  const form = el('form', { class: 'panel narrow', novalidate: true },
    formAlert(),
    field({ label: 'Name', field: 'name', control: name, hint: 'What uses it, e.g. “CI deploy” or “laptop backup”. Unique among your tokens.' }),
    field({ label: 'Description', field: 'description', control: description, optional: true }),
    scopes.node,
    expiry.node,
    field({
      label: 'Allowed address ranges', field: 'allowed_cidrs', control: cidrs, optional: true,
      hint: 'One CIDR range a line. The token works only from these addresses; leave empty for any address.',
    }),
    field({
      label: 'Maximum uses', field: 'max_uses', control: maxUses, optional: true,
      hint: 'The token stops after this many successful verifications; leave empty for no limit.',
    }),
    field({
      label: 'Rate limit (requests per window)', field: 'rate_limit', control: rateLimit, optional: true,
      hint: 'Over it, gateways get 429 until the window ends; leave empty for none.',
    }),
    field({ label: 'Rate window (seconds)', field: 'rate_window', control: rateWindow, optional: true }),
    el('div', { class: 'form-actions' },
      el('button', { type: 'submit' }, 'Create token'),
      el('a', { class: 'button secondary', href: '#/tokens' }, 'Cancel')));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.value.trim(), scopes: scopes.value(), ...expiry.value() };
    if (description.value.trim()) body.description = description.value.trim();
    const ranges = splitList(cidrs.value);
    if (ranges.length) body.allowed_cidrs = ranges;
    // Numbers as typed: the API refuses what is out of range, by field.
    if (maxUses.value.trim()) body.max_uses = Number(maxUses.value);
    if (rateLimit.value.trim()) {
      body.rate_limit = { limit: Number(rateLimit.value), window_seconds: Number(rateWindow.value) };
    }
    const created = await submitting(form, () => api('POST', '/v1/me/tokens', body));
    if (!created) return;
    const tokenName = created.name;
    clear(root).append(
      el('h1', { tabindex: '-1' }, `Token “${tokenName}” created`),
      revealPanel(created, { title: 'Copy your new token now', onDone: () => { window.location.hash = '#/tokens'; } }));
  });

  root.append(el('h1', {}, 'New token'), form);
}
