// SPDX-License-Identifier: MIT
// Form fields with labels, hints and an error slot each, and the mapping
// of an API error to the field it is about. The API answers
// {"error", "error_description"}; the description names the field
// ("field 'scopes' is required", "invalid entry 'x' in allowed_cidrs",
// "expires_at is in the past"), so the error goes next to that field and
// only errors about no field in particular go to the top of the form.

import { el, uid, dateToIso, isoSeconds } from './dom.js';

/**
 * A labelled control: {label, field, control (an element), hint, optional}.
 * The control gets an id, aria-describedby for the hint and the error,
 * and data-field so that errors can find it. Returns the wrapper.
 */
export function field({ label, field: name, control, hint, optional = false, cls = '' }) {
  const id = control.id || uid(name || 'f');
  control.id = id;
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const described = [hint ? hintId : null, errId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  return el('div', { class: `field ${cls}`.trim(), dataset: { field: name || '' } },
    el('label', { for: id }, label, optional ? el('span', { class: 'optional' }, ' (optional)') : null),
    control,
    hint ? el('p', { class: 'hint', id: hintId }, hint) : null,
    el('p', { class: 'field-error', id: errId, hidden: true }));
}

/** A fieldset with a legend that takes errors like a field. */
export function group({ legend, field: name, hint, children, optional = false }) {
  const errId = uid(`${name}-err`);
  const hintId = hint ? uid(`${name}-hint`) : null;
  return el('fieldset', { dataset: { field: name }, 'aria-describedby': [hintId, errId].filter(Boolean).join(' ') },
    el('legend', {}, legend, optional ? el('span', { class: 'optional' }, ' (optional)') : null),
    hint ? el('p', { class: 'hint muted small', id: hintId }, hint) : null,
    children,
    el('p', { class: 'field-error', id: errId, hidden: true }));
}

/** The alert at the top of a form, for errors about no single field. */
export function formAlert() {
  return el('div', { class: 'alert form-alert', role: 'alert', hidden: true });
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) {
    p.textContent = '';
    p.hidden = true;
  }
  for (const n of form.querySelectorAll('[aria-invalid]')) n.removeAttribute('aria-invalid');
  const alert = form.querySelector('.form-alert');
  if (alert) {
    alert.textContent = '';
    alert.hidden = true;
  }
}

// Words in a description that point at a field, most specific first.
const FIELD_HINTS = [
  ['allowed_cidrs', /allowed_cidrs|cidr|address range/i],
  ['expiry', /expires_at|expires_in_days|expir|lifetime/i],
  ['grace_seconds', /grace/i],
  ['display_name', /display_name|display name/i],
  ['description', /description/i],
  ['username', /username/i],
  ['password', /password/i],
  ['email', /e-?mail/i],
  ['role', /\brole\b/i],
  ['scopes', /scope/i],
  ['audiences', /audience/i],
  ['max_lifetime_days', /max_lifetime_days/i],
  ['default_lifetime_days', /default_lifetime_days/i],
  ['max_tokens_per_user', /max_tokens_per_user/i],
  ['name', /\bname\b|\bnamed\b/i],
];

/** The field (among those the form has) that an API error is about. */
export function errorField(err, fields) {
  const text = err.description || '';
  const quoted = /field '([a-z_]+)'/.exec(text);
  if (quoted) {
    const f = quoted[1] === 'expires_at' || quoted[1] === 'expires_in_days' ? 'expiry' : quoted[1];
    if (fields.includes(f)) return f;
  }
  for (const [f, re] of FIELD_HINTS) {
    if (fields.includes(f) && re.test(text)) return f;
  }
  if (err.code === 'conflict' && fields.includes('name') && /already exists/.test(text)) return 'name';
  return null;
}

/** A sentence for an error, with the wait when rate-limited. */
export function errorText(err) {
  let text = err.description || err.message || 'something went wrong';
  text = text.charAt(0).toUpperCase() + text.slice(1);
  if (err.status === 429 && err.retryAfter) text += ` (wait ${err.retryAfter} s)`;
  return text;
}

/**
 * Shows err next to its field in form, or in the form's alert. Focuses
 * the field, so a keyboard or screen reader user lands on the problem.
 */
export function showError(form, err) {
  const fields = [...form.querySelectorAll('[data-field]')].map((n) => n.dataset.field).filter(Boolean);
  // err.field set (even to null) overrides the guess from the text.
  const name = err.field !== undefined ? err.field : errorField(err, fields);
  const text = errorText(err);
  const wrap = name ? form.querySelector(`[data-field="${name}"]`) : null;
  if (wrap) {
    const slot = wrap.querySelector(':scope > .field-error');
    slot.textContent = text;
    slot.hidden = false;
    const control = wrap.matches('fieldset') ? wrap : wrap.querySelector('input, select, textarea');
    control.setAttribute('aria-invalid', 'true');
    const focusable = wrap.matches('fieldset') ? wrap.querySelector('input, select, textarea') : control;
    if (focusable) focusable.focus();
    return;
  }
  const alert = form.querySelector('.form-alert');
  if (alert) {
    alert.textContent = text;
    alert.hidden = false;
    alert.scrollIntoView({ block: 'nearest' });
  }
}

/**
 * Runs fn while the form's submit buttons are disabled; an ApiError it
 * throws is shown in the form. Returns fn's result, or undefined.
 */
export async function submitting(form, fn) {
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((b) => { b.disabled = true; });
  clearErrors(form);
  try {
    return await fn();
  } catch (err) {
    if (err && !err.handled) showError(form, err);
    return undefined;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---- choosing scopes ----------------------------------------------------

/**
 * Checkboxes for names (what the user may grant), with descriptions from
 * the catalog when we could read it. value() is the checked names.
 */
export function scopePicker({ names, catalog, checked = [], legend = 'Scopes', hint }) {
  const boxes = names.map((name) => {
    const id = uid('scope');
    const desc = catalog ? catalog.get(name) : null;
    const descId = desc ? `${id}-d` : null;
    const box = el('input', { type: 'checkbox', id, value: name, checked: checked.includes(name), 'aria-describedby': descId });
    return {
      box,
      row: el('div', { class: 'choice' }, box,
        el('label', { for: id }, el('code', {}, name), desc ? el('span', { class: 'desc', id: descId }, desc) : null)),
    };
  });
  const node = group({
    legend,
    field: 'scopes',
    hint,
    children: boxes.length
      ? el('div', { class: 'choices' }, boxes.map((b) => b.row))
      : el('p', { class: 'muted' }, 'No scopes are available.'),
  });
  return { node, value: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value) };
}

// ---- choosing an expiry -------------------------------------------------

/**
 * Expiry presets (7/30/60/90 days), a custom date, and "no expiry" only
 * when the policy is known to allow it. value() is the request fields:
 * {expires_in_days}, {expires_at: time}, or {expires_at: null}.
 */
export function expiryPicker({ policy, preset = 30, legend = 'Expiry' }) {
  const name = uid('expiry');
  const radios = [];
  const radio = (value, label, extra) => {
    const id = uid('exp');
    const r = el('input', { type: 'radio', name, id, value, checked: String(value) === String(preset) });
    radios.push(r);
    return el('div', { class: 'choice' }, r, el('label', { for: id }, label), extra);
  };
  const maxDays = policy ? policy.max_lifetime_days : null;
  const today = new Date();
  const min = new Date(today.getTime() + 86400 * 1000).toISOString().slice(0, 10);
  const max = maxDays ? new Date(today.getTime() + maxDays * 86400 * 1000).toISOString().slice(0, 10) : null;
  const date = el('input', { type: 'date', min, max, 'aria-label': 'Custom expiry date (UTC)', disabled: true, class: 'custom-date' });
  const warn = el('p', { class: 'warning', hidden: true },
    'A token without expiry works until someone revokes it. Prefer a date, and regenerate when it comes.');
  const presets = [7, 30, 60, 90].filter((d) => !maxDays || d <= maxDays);
  const rows = [
    el('div', { class: 'inline-choices' }, presets.map((d) => radio(d, `${d} days`))),
    radio('custom', 'On a date (UTC)'),
    date,
    policy && policy.allow_no_expiry ? radio('never', 'No expiry') : null,
    warn,
  ];
  const node = group({
    legend,
    field: 'expiry',
    hint: maxDays ? `The policy allows at most ${maxDays} days.` : null,
    children: rows,
  });
  const sync = () => {
    const v = radios.find((r) => r.checked)?.value;
    date.disabled = v !== 'custom';
    warn.hidden = v !== 'never';
    if (v === 'custom' && !date.value) date.focus();
  };
  node.addEventListener('change', sync);
  return {
    node,
    value() {
      const v = radios.find((r) => r.checked)?.value;
      if (v === 'never') return { expires_at: null };
      if (v === 'custom') {
        // The end of the chosen day, UTC; empty lets the API say why.
        return { expires_at: date.value ? isoSeconds(new Date(`${date.value}T23:59:59Z`)) : '' };
      }
      return { expires_in_days: Number(v) };
    },
  };
}

/** Lines or commas of a textarea as a list, blanks dropped. */
export function splitList(text) {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

export { dateToIso };
