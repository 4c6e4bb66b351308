// SPDX-License-Identifier: MIT
// Building the page without HTML strings: every text that comes from the
// API goes in as a text node, so a token named "<img onerror=...>" stays
// a name. Also time formatting, badges, dialogs and the toast.

let nextId = 0;

/** A fresh element id with a prefix, for label/for and aria links. */
export function uid(prefix = 'f') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

const BOOL_PROPS = new Set(['checked', 'disabled', 'hidden', 'selected', 'required', 'readOnly', 'multiple', 'open']);

/**
 * el('button', {class: 'x', onclick: fn}, 'text', child, ...).
 * Strings become text nodes; null, undefined and false are skipped.
 * Attributes are set with setAttribute, never parsed as markup.
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = String(v);
    else if (k === 'value') node.value = String(v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (BOOL_PROPS.has(k)) node[k] = Boolean(v);
    else if (v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, ...children);
  return node;
}

/** Appends children (nodes or strings, nested arrays allowed) as nodes. */
export function append(node, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Removes every child of node. */
export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// ---- time ---------------------------------------------------------------

// [unit, its length, the least distance it is used for]: "in 30 days"
// reads better than "in 4 weeks" for a token's lifetime.
const UNITS = [
  ['year', 365 * 86400, 365 * 86400],
  ['month', 30 * 86400, 60 * 86400],
  ['day', 86400, 86400],
  ['hour', 3600, 3600],
  ['minute', 60, 60],
];
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "in 3 days", "5 minutes ago" for an RFC 3339 time. */
export function relTime(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const diff = (t - now) / 1000;
  for (const [unit, secs, from] of UNITS) {
    if (Math.abs(diff) >= from) return rtf.format(Math.round(diff / secs), unit);
  }
  return diff < 0 ? 'just now' : 'in under a minute';
}

/** "2026-11-27 10:00 UTC": exact and unambiguous. */
export function exactTime(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return String(iso);
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A relative time with the exact one under it; text when iso is null. */
export function timeCell(iso, none = '—') {
  if (!iso) return el('span', { class: 'muted' }, none);
  return [
    el('time', { datetime: iso, title: exactTime(iso) }, relTime(iso)),
    el('span', { class: 'exact' }, exactTime(iso)),
  ];
}

/** RFC 3339 without fractions, as the API writes it. */
export function isoSeconds(date) {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** A "YYYY-MM-DD" from a date input as midnight UTC, or '' when empty. */
export function dateToIso(value) {
  return value ? `${value}T00:00:00Z` : '';
}

// ---- tokens -------------------------------------------------------------

export const SOON_MS = 7 * 86400 * 1000;

/** active | soon | expired | revoked, "soon" meaning within 7 days. */
export function tokenState(t, now = Date.now()) {
  if (t.status === 'active' && t.expires_at && Date.parse(t.expires_at) - now <= SOON_MS) return 'soon';
  return t.status;
}

const STATE_TEXT = {
  active: 'active', soon: 'expires soon', expired: 'expired', revoked: 'revoked',
  pending: 'awaiting approval', exhausted: 'no uses left',
};

export function statusBadge(t) {
  const s = tokenState(t);
  // A denied request is revoked; its owner reads the reason on the badge.
  const denied = t.approval && t.approval.state === 'denied';
  const title = denied && t.approval.reason ? `Denied: ${t.approval.reason}` : null;
  return el('span', { class: `badge ${s}`, title }, denied ? 'denied' : (STATE_TEXT[s] || s));
}

export function scopeChips(scopes) {
  if (!scopes || scopes.length === 0) return el('span', { class: 'muted' }, 'none');
  return el('span', { class: 'chips' }, scopes.map((s) => el('span', { class: 'chip' }, s)));
}

// ---- feedback -----------------------------------------------------------

let toastTimer = null;

/** A short message in the live region at the bottom of the page. */
export function toast(text) {
  const node = document.getElementById('toast');
  node.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.textContent = ''; }, 5000);
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Escape closes).
 * build(dialog, close) returns the content; resolves with what close() got.
 */
export function openDialog(title, build) {
  return new Promise((resolve) => {
    const headingId = uid('dlg');
    const dialog = el('dialog', { 'aria-labelledby': headingId });
    let result;
    const close = (value) => { result = value; dialog.close(); };
    dialog.append(el('h2', { id: headingId }, title));
    append(dialog, build(dialog, close));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Asks a yes/no question; resolves true when confirmed. */
export function confirmDialog({ title, body, confirmLabel, danger = true }) {
  return openDialog(title, (dialog, close) => {
    const yes = el('button', { type: 'button', class: danger ? 'danger' : '', onclick: () => close(true) }, confirmLabel);
    const no = el('button', { type: 'button', class: 'secondary', onclick: () => close(false) }, 'Cancel');
    // Cancel takes the focus first: a stray Enter must not confirm.
    queueMicrotask(() => no.focus());
    return [
      ...(Array.isArray(body) ? body : [body]).map((b) => (typeof b === 'string' ? el('p', {}, b) : b)),
      el('div', { class: 'form-actions' }, yes, no),
    ];
  }).then((v) => v === true);
}
