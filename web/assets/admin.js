// SPDX-License-Identifier: MIT
// The admin console: users, the token inventory with bulk revocation,
// the scope catalog, the policy and the audit log. Only administrators
// see it; the API refuses everyone else (403) whatever this page does.

import { api, listAll, listPage } from './api.js';
import {
  el, clear, timeCell, statusBadge, scopeChips, toast, confirmDialog, openDialog, dateToIso,
} from './dom.js';
import { field, formAlert, submitting, scopePicker, showError, clearErrors } from './forms.js';
import { auditTable } from './activity.js';

const SECTIONS = [
  ['users', 'Users'],
  ['tokens', 'Tokens'],
  ['scopes', 'Scopes'],
  ['policy', 'Policy'],
  ['audit', 'Audit log'],
];

// Suggestions only: the field takes any action name.
const ACTIONS = [
  'store.initialised', 'policy.updated', 'scope.replaced', 'scope.updated', 'session.created',
  'token.created', 'token.regenerated', 'token.reuse_detected', 'token.revoked',
  'token.revoked_all', 'token.revoked_bulk', 'token.updated',
  'user.created', 'user.deleted', 'user.disabled', 'user.enabled',
  'user.password_removed', 'user.password_set', 'user.scopes_changed', 'user.updated',
];

const PAGE = 50;

export async function adminView(root, ctx, route) {
  if (!ctx.isAdmin()) {
    root.append(
      el('h1', {}, 'Administrators only'),
      el('p', { class: 'alert', role: 'alert' }, 'Your account cannot open the admin console.'),
      el('p', {}, el('a', { href: '#/tokens' }, 'Back to your tokens')));
    return;
  }
  const section = SECTIONS.some(([k]) => k === route.parts[1]) ? route.parts[1] : 'users';
  root.append(el('nav', { class: 'subnav', 'aria-label': 'Admin' }, SECTIONS.map(([k, text]) => el('a', {
    href: `#/admin/${k}`, 'aria-current': k === section ? 'page' : null,
  }, text))));
  const views = { users: usersView, tokens: inventoryView, scopes: scopesView, policy: policyView, audit: auditView };
  await views[section](root, ctx, route);
}

function selectField(label, name, options, value) {
  const s = el('select', { name }, options.map(([v, text]) => el('option', { value: v, selected: v === value }, text)));
  return { node: field({ label, field: name, control: s }), control: s };
}

function dateField(label, name, value = '') {
  const d = el('input', { type: 'date', name, value });
  return { node: field({ label, field: name, control: d }), control: d };
}

/** "Load more" for a paged list; loader(cursor) -> {items, next_cursor}. */
function pager(loader, addItems) {
  let cursor = null;
  const button = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  const note = el('span', { class: 'muted small', role: 'status' });
  let total = 0;
  const load = async (first) => {
    if (first) {
      cursor = null;
      total = 0;
    }
    const page = await loader(cursor);
    total += page.items.length;
    addItems(page.items, first);
    cursor = page.next_cursor;
    button.hidden = !cursor;
    note.textContent = `${total} shown${cursor ? ', more available' : ''}`;
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await load(false);
    } catch (err) {
      if (!err.handled) toast(err.description);
    } finally {
      button.disabled = false;
    }
  });
  return { node: el('div', { class: 'more' }, button, note), load };
}

// ---- users --------------------------------------------------------------

async function usersView(root, ctx) {
  await ctx.scopeCatalog();
  const catalog = ctx.catalog;
  const allScopes = (ctx.catalogItems || []).map((s) => s.name);
  let query = '';

  const tbody = el('tbody');
  const table = el('table', { class: 'cards' },
    el('caption', { class: 'visually-hidden' }, 'Users'),
    el('thead', {}, el('tr', {}, ['User', 'Email', 'Role', 'Scopes', 'State', 'Created', 'Actions']
      .map((h) => el('th', { scope: 'col' }, h)))),
    tbody);

  const act = (text, label, fn, cls = 'link') => el('button', { type: 'button', class: cls, 'aria-label': label, onclick: fn }, text);

  function row(u) {
    const tr = el('tr', { dataset: { id: u.id } });
    const fill = () => {
      clear(tr).append(
        el('td', { 'data-label': 'User' }, el('span', { class: 'tname' }, u.username),
          u.display_name ? el('span', { class: 'tdesc' }, u.display_name) : null,
          el('span', { class: 'exact mono' }, u.id)),
        el('td', { 'data-label': 'Email' }, u.email || '—'),
        el('td', { 'data-label': 'Role' }, el('span', { class: 'badge admin' }, u.role),
          u.kind === 'service' ? el('span', { class: 'badge admin' }, 'service account') : null),
        el('td', { 'data-label': 'Scopes' }, scopeChips(u.scopes)),
        el('td', { 'data-label': 'State' }, u.disabled ? el('span', { class: 'badge disabled' }, 'disabled') : el('span', { class: 'badge active' }, 'enabled')),
        el('td', { 'data-label': 'Created' }, timeCell(u.created_at)),
        el('td', { class: 'actions', 'data-label': 'Actions' }, el('div', { class: 'row-actions' },
          u.disabled
            ? act('Enable', `Enable ${u.username}`, () => setDisabled(u, false))
            : act('Disable', `Disable ${u.username}`, () => setDisabled(u, true), 'link danger-text'),
          act('Scopes', `Set the scopes of ${u.username}`, () => editScopes(u)),
          act('Reset password', `Reset the password of ${u.username}`, () => resetPassword(u)),
          el('a', { href: `#/admin/tokens?user_id=${encodeURIComponent(u.id)}`, class: 'button link', 'aria-label': `Tokens of ${u.username}` }, 'Tokens'),
          act('Revoke tokens', `Revoke all tokens of ${u.username}`, () => revokeAll(u), 'link danger-text'))));
    };
    const update = (fresh) => {
      Object.assign(u, fresh);
      fill();
    };
    tr.update = update;
    fill();
    return tr;
  }

  async function patch(u, body) {
    return api('PATCH', `/v1/users/${encodeURIComponent(u.id)}`, body);
  }

  async function setDisabled(u, disabled) {
    if (disabled) {
      const ok = await confirmDialog({
        title: `Disable ${u.username}?`,
        body: [`${u.username} can no longer sign in, and every token of ${u.username} stops working until the account is enabled again.`],
        confirmLabel: `Disable ${u.username}`,
      });
      if (!ok) return;
    }
    try {
      const fresh = await patch(u, { disabled });
      tbody.querySelector(`tr[data-id="${u.id}"]`).update(fresh);
      toast(`${u.username} is ${disabled ? 'disabled' : 'enabled'}.`);
    } catch (err) {
      if (!err.handled) toast(`Could not change ${u.username}: ${err.description}`);
    }
  }

  async function editScopes(u) {
    const fresh = await openDialog(`Scopes of ${u.username}`, (dialog, close) => {
      const picker = scopePicker({
        names: allScopes, catalog, checked: u.scopes, legend: 'Allowed scopes',
        hint: 'What this user may grant to their tokens. Tokens that hold a scope taken away lose it at once.',
      });
      const form = el('form', { novalidate: true }, formAlert(), picker.node,
        el('div', { class: 'form-actions' },
          el('button', { type: 'submit' }, 'Save scopes'),
          el('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, 'Cancel')));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const r = await submitting(form, () => patch(u, { scopes: picker.value() }));
        if (r) close(r);
      });
      return form;
    });
    if (fresh) {
      tbody.querySelector(`tr[data-id="${u.id}"]`).update(fresh);
      toast(`Saved the scopes of ${u.username}.`);
    }
  }

  async function resetPassword(u) {
    const done = await openDialog(`New password for ${u.username}`, (dialog, close) => {
      const pw = el('input', { type: 'password', autocomplete: 'new-password' });
      const form = el('form', { novalidate: true }, formAlert(),
        field({ label: 'New password', field: 'password', control: pw, hint: '8 to 256 bytes. Tell it to the user over a safe channel.' }),
        el('div', { class: 'form-actions' },
          el('button', { type: 'submit' }, 'Set password'),
          el('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, 'Cancel')));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const r = await submitting(form, () => patch(u, { password: pw.value }));
        pw.value = '';
        if (r) close(r);
      });
      queueMicrotask(() => pw.focus());
      return form;
    });
    if (done) toast(`Set a new password for ${u.username}.`);
  }

  async function revokeAll(u) {
    const ok = await confirmDialog({
      title: `Revoke every token of ${u.username}?`,
      body: [`Every active token of ${u.username} stops working at once. This cannot be undone.`],
      confirmLabel: 'Revoke all tokens',
    });
    if (!ok) return;
    try {
      const r = await api('DELETE', `/v1/users/${encodeURIComponent(u.id)}/tokens`);
      toast(`Revoked ${r.revoked} token${r.revoked === 1 ? '' : 's'} of ${u.username}.`);
    } catch (err) {
      if (!err.handled) toast(`Could not revoke: ${err.description}`);
    }
  }

  const pages = pager((cursor) => listPage('/v1/users', { q: query, kind: kind.control.value }, cursor, PAGE), (items, first) => {
    if (first) clear(tbody);
    items.forEach((u) => tbody.append(row(u)));
    if (!tbody.firstChild) tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 7 }, 'No user matches.')));
  });

  // Search.
  const q = el('input', { type: 'search', autocomplete: 'off' });
  const kind = selectField('Kind', 'kind', [['', 'Everyone'], ['person', 'People'], ['service', 'Service accounts']], '');
  const search = el('form', { class: 'filters', role: 'search', novalidate: true },
    field({ label: 'Search users', field: 'q', control: q, hint: 'Part of a username, display name or email.', cls: 'grow' }),
    kind.node,
    el('button', { type: 'submit' }, 'Search'));
  search.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    query = q.value.trim();
    await submitting(search, () => pages.load(true));
  });

  // Creation.
  const username = el('input', { type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const display = el('input', { type: 'text', autocomplete: 'off' });
  const email = el('input', { type: 'email', autocomplete: 'off' });
  const role = selectField('Role', 'role', [['user', 'user'], ['admin', 'admin']], 'user');
  const scopes = scopePicker({ names: allScopes, catalog, checked: ['patd:self'], legend: 'Allowed scopes' });
  const password = el('input', { type: 'password', autocomplete: 'new-password' });
  const service = el('input', { type: 'checkbox', name: 'service' });
  const createForm = el('form', { novalidate: true },
    formAlert(),
    field({ label: 'Username', field: 'username', control: username }),
    field({ label: 'Display name', field: 'display_name', control: display, optional: true }),
    field({ label: 'Email', field: 'email', control: email, optional: true }),
    role.node,
    scopes.node,
    field({ label: 'Password', field: 'password', control: password, optional: true, hint: 'Without one the user cannot sign in to this page (tokens still work).' }),
    el('div', { class: 'field' }, el('label', { class: 'choice' }, service,
      ' Service account (never signs in; its tokens are issued by administrators)')),
    el('div', { class: 'form-actions' }, el('button', { type: 'submit' }, 'Create user')));
  createForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { username: username.value.trim(), role: role.control.value, scopes: scopes.value() };
    if (display.value.trim()) body.display_name = display.value.trim();
    if (email.value.trim()) body.email = email.value.trim();
    if (password.value) body.password = password.value;
    if (service.checked) body.kind = 'service';
    const u = await submitting(createForm, () => api('POST', '/v1/users', body));
    if (!u) return;
    password.value = '';
    createForm.reset();
    toast(`Created ${u.username}.`);
    await pages.load(true);
  });

  root.append(
    el('h1', {}, 'Users'),
    search,
    el('details', { class: 'panel' }, el('summary', {}, 'Create a user'), createForm),
    el('div', { class: 'table-wrap' }, table),
    pages.node);
  await pages.load(true);
}

// ---- token inventory ----------------------------------------------------

async function inventoryView(root, ctx, route) {
  const [users] = await Promise.all([listAll('/v1/users', {}, 10), ctx.scopeCatalog()]);
  const names = new Map(users.items.map((u) => [u.id, u.username]));
  const userOpts = [['', 'Any user'], ...users.items.map((u) => [u.id, u.username])];
  const scopeOpts = [['', 'Any scope'], ...(ctx.catalogItems || []).map((s) => [s.name, s.name])];

  const fUser = selectField('User', 'user_id', userOpts, route.params.get('user_id') || '');
  const fStatus = selectField('Status', 'status', [['active', 'Active'], ['expired', 'Expired'], ['revoked', 'Revoked'], ['all', 'All']], 'active');
  const fScope = selectField('Scope', 'scope', scopeOpts, '');
  const fExp = dateField('Expires before (UTC)', 'expires_before');
  const fUsed = dateField('Last used before (UTC)', 'last_used_before');
  const fCreated = dateField('Created before (UTC)', 'created_before');
  const filterForm = el('form', { novalidate: true, 'aria-label': 'Token filters' },
    formAlert(),
    el('div', { class: 'filters' }, fUser.node, fStatus.node, fScope.node, fExp.node, fUsed.node, fCreated.node),
    el('div', { class: 'form-actions' },
      el('button', { type: 'submit' }, 'Apply filters'),
      el('button', { type: 'reset', class: 'secondary' }, 'Clear')));

  const filters = () => ({
    user_id: fUser.control.value,
    status: fStatus.control.value,
    scope: fScope.control.value,
    expires_before: dateToIso(fExp.control.value),
    last_used_before: dateToIso(fUsed.control.value),
    created_before: dateToIso(fCreated.control.value),
  });
  let applied = filters();

  const tbody = el('tbody');
  const table = el('table', { class: 'cards' },
    el('caption', { class: 'visually-hidden' }, 'Tokens'),
    el('thead', {}, el('tr', {}, ['Name', 'Owner', 'Scopes', 'Status', 'Created', 'Expires', 'Last used', 'Hint', 'Actions']
      .map((h) => el('th', { scope: 'col' }, h)))),
    tbody);

  const row = (t) => el('tr', { dataset: { id: t.id } },
    el('td', { 'data-label': 'Name' }, el('span', { class: 'tname' }, t.name), t.description ? el('span', { class: 'tdesc' }, t.description) : null),
    el('td', { 'data-label': 'Owner' }, names.get(t.user_id) || t.user_id),
    el('td', { 'data-label': 'Scopes' }, scopeChips(t.scopes)),
    el('td', { 'data-label': 'Status' }, statusBadge(t)),
    el('td', { 'data-label': 'Created' }, timeCell(t.created_at)),
    el('td', { 'data-label': 'Expires' }, timeCell(t.expires_at, 'never')),
    el('td', { 'data-label': 'Last used' }, timeCell(t.last_used_at, 'never'), t.last_used_ip ? el('span', { class: 'exact' }, `from ${t.last_used_ip}`) : null),
    el('td', { 'data-label': 'Hint', class: 'hint' }, el('code', {}, `…${t.hint}`)),
    el('td', { class: 'actions', 'data-label': 'Actions' }, t.status === 'revoked' ? el('span', { class: 'muted' }, '—')
      : el('button', {
        type: 'button', class: 'link danger-text', 'aria-label': `Revoke ${t.name} of ${names.get(t.user_id) || t.user_id}`, onclick: () => revokeOne(t),
      }, 'Revoke')));

  const pages = pager((cursor) => listPage('/v1/tokens', applied, cursor, PAGE), (items, first) => {
    if (first) clear(tbody);
    items.forEach((t) => tbody.append(row(t)));
    if (!tbody.firstChild) tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 9 }, 'No token matches.')));
  });

  async function revokeOne(t) {
    const owner = names.get(t.user_id) || t.user_id;
    const ok = await confirmDialog({
      title: `Revoke “${t.name}” of ${owner}?`,
      body: [`Anything that uses the token “${t.name}” (…${t.hint}) of ${owner} stops working at once. This cannot be undone.`],
      confirmLabel: 'Revoke token',
    });
    if (!ok) return;
    try {
      await api('DELETE', `/v1/tokens/${encodeURIComponent(t.id)}`);
      toast(`Revoked “${t.name}” of ${owner}.`);
      await pages.load(true);
    } catch (err) {
      if (!err.handled) toast(`Could not revoke: ${err.description}`);
    }
  }

  filterForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    applied = filters();
    await submitting(filterForm, () => pages.load(true));
    resetBulk();
  });
  filterForm.addEventListener('reset', () => {
    setTimeout(() => filterForm.requestSubmit(), 0);
  });

  // Bulk revocation: a dry run counts, then the same filter revokes.
  const bulkResult = el('p', { role: 'status' });
  const bulkGo = el('button', { type: 'button', class: 'danger', hidden: true });
  const bulkCount = el('button', { type: 'button', class: 'secondary' }, 'Count matching tokens');
  const bulkForm = el('div', {}, formAlert());
  let counted = null;
  const bulkFilter = () => {
    const f = filters();
    const body = {};
    if (f.user_id) body.user_id = f.user_id;
    if (f.scope) body.scope = f.scope;
    if (f.created_before) body.created_before = f.created_before;
    return body;
  };
  function resetBulk() {
    counted = null;
    bulkGo.hidden = true;
    bulkResult.textContent = '';
  }
  filterForm.addEventListener('change', resetBulk);
  bulkCount.addEventListener('click', async () => {
    resetBulk();
    const body = bulkFilter();
    if (Object.keys(body).length === 0) {
      clearErrors(bulkForm);
      showError(bulkForm, { description: 'Choose a user, a scope or a created-before date above first.' });
      return;
    }
    const r = await submitting(bulkForm, () => api('POST', '/v1/tokens/revoke', { ...body, dry_run: true }));
    if (!r) return;
    counted = body;
    bulkResult.textContent = `${r.revoked} active token${r.revoked === 1 ? '' : 's'} would be revoked.`;
    bulkGo.textContent = `Revoke ${r.revoked} token${r.revoked === 1 ? '' : 's'}`;
    bulkGo.hidden = r.revoked === 0;
  });
  bulkGo.addEventListener('click', async () => {
    if (!counted) return;
    const body = counted;
    const ok = await confirmDialog({
      title: 'Revoke these tokens?',
      body: [bulkResult.textContent, 'They stop working at once. This cannot be undone.'],
      confirmLabel: bulkGo.textContent,
    });
    if (!ok) return;
    const r = await submitting(bulkForm, () => api('POST', '/v1/tokens/revoke', body));
    resetBulk();
    if (!r) return;
    toast(`Revoked ${r.revoked} token${r.revoked === 1 ? '' : 's'}.`);
    bulkResult.textContent = `Revoked ${r.revoked} token${r.revoked === 1 ? '' : 's'}.`;
    await pages.load(true);
  });
  bulkForm.append(
    el('p', { class: 'muted' }, 'Revokes every active token that matches the user, scope and created-before filters above '
      + '(the other filters do not apply). Count them first; the count is what gets revoked.'),
    el('div', { class: 'form-actions' }, bulkCount, bulkGo),
    bulkResult);

  root.append(
    el('h1', {}, 'Tokens'),
    el('section', { class: 'panel' }, filterForm),
    el('div', { class: 'table-wrap' }, table),
    pages.node,
    el('section', { class: 'panel', 'aria-labelledby': 'bulk-h' }, el('h2', { id: 'bulk-h' }, 'Revoke in bulk'), bulkForm));
  await pages.load(true);
}

// ---- scope catalog ------------------------------------------------------

async function scopesView(root, ctx) {
  const { items } = await api('GET', '/v1/scopes');
  const tbody = el('tbody');
  const rows = [];

  const operatorRow = (s, focus = false) => {
    const name = el('input', { type: 'text', value: s.name, autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Scope name' });
    const desc = el('input', { type: 'text', value: s.description || '', autocomplete: 'off', 'aria-label': `Description of ${s.name || 'the new scope'}` });
    const tr = el('tr');
    const entry = { name, desc, tr };
    const remove = el('button', {
      type: 'button', class: 'link danger-text', 'aria-label': `Remove ${s.name || 'the new scope'}`,
      onclick: () => {
        rows.splice(rows.indexOf(entry), 1);
        tr.remove();
      },
    }, 'Remove');
    tr.append(el('td', { 'data-label': 'Name' }, name), el('td', { 'data-label': 'Description' }, desc),
      el('td', { 'data-label': 'Kind' }, 'operator'), el('td', { class: 'actions', 'data-label': 'Actions' }, remove));
    rows.push(entry);
    tbody.append(tr);
    if (focus) name.focus();
  };

  for (const s of items) {
    if (s.builtin) {
      tbody.append(el('tr', {},
        el('td', { 'data-label': 'Name' }, el('code', {}, s.name)),
        el('td', { 'data-label': 'Description' }, s.description),
        el('td', { 'data-label': 'Kind' }, el('span', { class: 'badge admin' }, 'built-in')),
        el('td', { 'data-label': 'Actions' }, el('span', { class: 'muted' }, '—'))));
    }
  }
  items.filter((s) => !s.builtin).forEach((s) => operatorRow(s));

  const form = el('form', { novalidate: true },
    formAlert(),
    el('div', { class: 'table-wrap' }, el('table', { class: 'cards' },
      el('caption', { class: 'visually-hidden' }, 'Scope catalog'),
      el('thead', {}, el('tr', {}, ['Name', 'Description', 'Kind', 'Actions'].map((h) => el('th', { scope: 'col' }, h)))),
      tbody)),
    el('div', { class: 'form-actions' },
      el('button', { type: 'button', class: 'secondary', onclick: () => operatorRow({ name: '', description: '' }, true) }, 'Add a scope'),
      el('button', { type: 'submit' }, 'Save catalog')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { items: rows.map((r) => ({ name: r.name.value.trim(), description: r.desc.value.trim() })) };
    const r = await submitting(form, () => api('PUT', '/v1/scopes', body));
    if (!r) return;
    ctx.forget();
    toast('Saved the scope catalog.');
    ctx.render();
  });
  root.append(
    el('h1', {}, 'Scopes'),
    el('p', { class: 'muted' }, 'The scopes tokens may carry. Built-in scopes cannot be changed; a scope that active tokens hold cannot be removed.'),
    form);
}

// ---- policy -------------------------------------------------------------

async function policyView(root, ctx) {
  const p = await api('GET', '/v1/policy');
  const num = (value, min, max) => el('input', { type: 'number', min, max, step: 1, value: String(value), inputmode: 'numeric' });
  const maxLife = num(p.max_lifetime_days, 1, 36500);
  const defLife = num(p.default_lifetime_days, 1, 36500);
  const maxTokens = num(p.max_tokens_per_user, 1, 1000000);
  const check = (name, label, checked, hint) => {
    const box = el('input', { type: 'checkbox', id: `pol-${name}`, checked });
    return {
      box,
      node: el('div', { class: 'field', dataset: { field: name } },
        el('div', { class: 'choice' }, box, el('label', { for: box.id }, label)),
        hint,
        el('p', { class: 'field-error', hidden: true })),
    };
  };
  const noExpiryWarn = el('p', { class: 'warning' }, 'Tokens without expiry work until someone revokes them; a leaked one stays useful for ever.');
  const noExpiry = check('allow_no_expiry', 'Allow tokens without expiry', p.allow_no_expiry, noExpiryWarn);
  const reuse = check('revoke_on_reuse', 'Revoke a token when a retired secret of it is presented', p.revoke_on_reuse,
    el('p', { class: 'hint muted small' }, 'After a regeneration and its grace period, the old secret is refused; with this on, presenting it also revokes the whole token.'));
  const sync = () => { noExpiryWarn.hidden = !noExpiry.box.checked; };
  noExpiry.box.addEventListener('change', sync);
  sync();

  const form = el('form', { class: 'panel narrow', novalidate: true },
    formAlert(),
    field({ label: 'Longest token lifetime (days)', field: 'max_lifetime_days', control: maxLife }),
    field({ label: 'Default lifetime (days)', field: 'default_lifetime_days', control: defLife, hint: 'When a request names no expiry.' }),
    field({ label: 'Most active tokens per user', field: 'max_tokens_per_user', control: maxTokens }),
    noExpiry.node,
    reuse.node,
    el('div', { class: 'form-actions' }, el('button', { type: 'submit' }, 'Save policy')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      max_lifetime_days: Number(maxLife.value),
      allow_no_expiry: noExpiry.box.checked,
      default_lifetime_days: Number(defLife.value),
      max_tokens_per_user: Number(maxTokens.value),
      revoke_on_reuse: reuse.box.checked,
    };
    const r = await submitting(form, () => api('PUT', '/v1/policy', body));
    if (!r) return;
    ctx.policy = r;
    toast('Saved the policy.');
  });
  root.append(el('h1', {}, 'Policy'), form);
}

// ---- audit log ----------------------------------------------------------

async function auditView(root) {
  const users = await listAll('/v1/users', {}, 10);
  const names = new Map(users.items.map((u) => [u.id, u.username]));
  const weekAgo = new Date(Date.now() - 7 * 86400 * 1000).toISOString().slice(0, 10);
  const fSince = dateField('Since (UTC)', 'since', weekAgo);
  const fActor = selectField('Actor', 'actor', [['', 'Anyone'], ...users.items.map((u) => [u.id, u.username])], '');
  const actionList = el('datalist', { id: 'audit-actions' }, ACTIONS.map((a) => el('option', { value: a })));
  const action = el('input', { type: 'text', list: 'audit-actions', autocomplete: 'off', spellcheck: 'false', placeholder: 'token.revoked' });
  const target = el('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'tok_… or usr_…' });
  const form = el('form', { class: 'panel', novalidate: true, 'aria-label': 'Audit filters' },
    formAlert(),
    el('div', { class: 'filters' }, fSince.node, fActor.node,
      field({ label: 'Action', field: 'action', control: action, optional: true }), actionList,
      field({ label: 'Target id', field: 'target', control: target, optional: true })),
    el('div', { class: 'form-actions' }, el('button', { type: 'submit' }, 'Apply filters')));
  const filters = () => ({
    since: dateToIso(fSince.control.value),
    actor: fActor.control.value,
    action: action.value.trim(),
    target: target.value.trim(),
  });
  let applied = filters();
  const audit = auditTable([], { names, caption: 'Audit log' });
  const pages = pager((cursor) => listPage('/v1/audit', applied, cursor, PAGE), (items, first) => {
    if (first) audit.reset();
    audit.add(items);
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    applied = filters();
    await submitting(form, () => pages.load(true));
  });
  root.append(el('h1', {}, 'Audit log'), form, el('p', { class: 'muted small' }, 'Oldest first.'), audit.table, pages.node);
  await pages.load(true);
}
