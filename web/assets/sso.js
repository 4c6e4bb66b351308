// SPDX-License-Identifier: MIT
// Single sign-on on the sign-in form: when the server has an OpenID
// Provider configured (GET /v1/sso), a button that starts the sign-in
// there and comes back to the page as it was (its fragment); when
// [sso] local_passwords is false, the password fields go away.

import { api } from './api.js';
import { el } from './dom.js';

/** Adds the provider's button to form (the sign-in form), if any. */
export async function addSsoButton(form) {
  let cfg;
  try {
    cfg = await api('GET', '/v1/sso', undefined, { expect401: true });
  } catch {
    return; // no single sign-on: the form stays as it is
  }
  if (!cfg.enabled) return;
  const back = `/${window.location.hash || ''}`;
  const button = el('a', {
    class: 'button sso',
    id: 'sso-signin',
    href: `${cfg.start}?return=${encodeURIComponent(back)}`,
  }, 'Sign in with single sign-on');
  const heading = form.querySelector('h1');
  heading.after(el('p', { class: 'form-actions' }, button));
  if (!cfg.local_passwords) {
    for (const n of form.querySelectorAll('.field, .form-actions button[type="submit"]')) n.hidden = true;
    const rest = form.querySelector('.form-actions:last-child');
    if (rest) rest.hidden = true;
  }
}
