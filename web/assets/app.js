// SPDX-License-Identifier: MIT
// The entry point: restores the session (GET /v1/session), shows the
// sign-in form when there is none, and routes between the views on the
// URL fragment (#/tokens, #/admin/users, ...). The fragment never holds
// anything secret: at most a user id as a filter.

import { api, setCsrf, onSessionEnded, ApiError } from './api.js';
import { el, clear } from './dom.js';
import { field, formAlert, submitting } from './forms.js';
import { tokensView, newTokenView, dropSecrets } from './tokens.js';
import { activityView } from './activity.js';
import { sessionsView } from './sessions.js';
import { exchangesView } from './exchanges.js';
import { adminView } from './admin.js';
import { addSsoButton } from './sso.js';
import { cliLoginView } from './cli_login.js';
import { approvalsView } from './approvals.js';
import { webhooksView } from './webhooks.js';

const main = document.getElementById('main');

/** What every view may use: the user, the API, optional extras. */
const ctx = {
  user: null,
  catalog: undefined, // Map name -> description; null when not readable
  policy: undefined, // the policy; null when not readable
  async scopeCatalog() {
    if (this.catalog === undefined) {
      try {
        const r = await api('GET', '/v1/scopes');
        this.catalog = new Map(r.items.map((s) => [s.name, s.description]));
        this.catalogItems = r.items;
      } catch (err) {
        if (err.status === 401) throw err;
        this.catalog = null; // not an administrator: names only
      }
    }
    return this.catalog;
  },
  async readPolicy() {
    if (this.policy === undefined) {
      try {
        this.policy = await api('GET', '/v1/policy');
      } catch (err) {
        if (err.status === 401) throw err;
        this.policy = null; // unknown: "no expiry" is not offered
      }
    }
    return this.policy;
  },
  forget() {
    this.catalog = undefined;
    this.catalogItems = undefined;
    this.policy = undefined;
  },
  isAdmin() {
    return this.user && this.user.role === 'admin';
  },
  render: () => render(),
};

function parseRoute() {
  const hash = window.location.hash.replace(/^#/, '') || '/tokens';
  const [path, query = ''] = hash.split('?');
  return { path, parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

function markNav(parts) {
  const key = parts[0] === 'admin' ? 'admin' : parts[0];
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.nav === key) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

let rendering = 0;

async function render() {
  dropSecrets();
  if (!ctx.user) return;
  const route = parseRoute();
  const mine = ++rendering;
  markNav(route.parts);
  const view = el('div');
  try {
    if (route.parts[0] === 'tokens' && route.parts[1] === 'new') await newTokenView(view, ctx);
    else if (route.parts[0] === 'tokens') await tokensView(view, ctx);
    else if (route.parts[0] === 'activity') await activityView(view, ctx);
    else if (route.parts[0] === 'sessions') {
      await sessionsView(view, ctx, { onEndedCurrent: () => signedOut('You ended this session.') });
    }
    else if (route.parts[0] === 'exchanges') await exchangesView(view);
    else if (route.parts[0] === 'admin') await adminView(view, ctx, route);
    else if (route.parts[0] === 'cli-login') await cliLoginView(view, ctx, route);
    else if (route.parts[0] === 'approvals') await approvalsView(view, ctx);
    else if (route.parts[0] === 'webhooks') await webhooksView(view, ctx);
    else view.append(el('h1', { tabindex: '-1' }, 'Not found'), el('p', {}, el('a', { href: '#/tokens' }, 'Back to your tokens')));
  } catch (err) {
    if (err instanceof ApiError && err.handled) return; // signed out
    clear(view).append(el('h1', { tabindex: '-1' }, 'Something went wrong'),
      el('p', { class: 'alert', role: 'alert' }, err.description || String(err)));
  }
  if (mine !== rendering) return; // a later navigation won
  clear(main).append(view);
  // The first field of a form page, else the heading, takes the focus,
  // so that keyboard and screen reader users start at the new content.
  const h1 = main.querySelector('h1');
  const first = main.querySelector('[data-autofocus]');
  if (first) first.focus();
  else if (h1) {
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
  document.title = `${h1 ? h1.textContent : 'patd'} — patd`;
}

function showSignedIn() {
  document.getElementById('nav').hidden = false;
  document.getElementById('session').hidden = false;
  document.getElementById('nav-admin').hidden = !ctx.isAdmin();
  document.getElementById('nav-approvals').hidden = !ctx.isAdmin();
  document.getElementById('nav-webhooks').hidden = !ctx.isAdmin();
  const who = document.getElementById('whoami');
  who.textContent = ctx.user.display_name || ctx.user.username;
  who.title = `${ctx.user.username} (${ctx.user.role})`;
}

function signInView(message) {
  dropSecrets();
  ctx.user = null;
  ctx.forget();
  setCsrf(null);
  document.getElementById('nav').hidden = true;
  document.getElementById('session').hidden = true;
  const username = el('input', { type: 'text', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  const password = el('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
  const form = el('form', { class: 'panel signin', novalidate: true },
    el('h1', {}, 'Sign in to patd'),
    message ? el('p', { class: 'notice' }, message) : null,
    formAlert(),
    field({ label: 'Username', field: 'username', control: username }),
    field({ label: 'Password', field: 'password', control: password }),
    el('div', { class: 'form-actions' }, el('button', { type: 'submit' }, 'Sign in')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await submitting(form, async () => {
      let r;
      try {
        r = await api('POST', '/v1/session', { username: username.value, password: password.value }, { expect401: true });
      } catch (err) {
        // Whatever the API said, the password field is emptied.
        password.value = '';
        // About the pair, not one field: shown above the form.
        const shown = err.status === 401 ? new ApiError(401, err.code, 'Wrong username or password.') : err;
        shown.field = null;
        shown.retryAfter = err.retryAfter;
        throw shown;
      }
      password.value = '';
      startSession(r);
    });
  });
  clear(main).append(form);
  document.title = 'Sign in — patd';
  username.focus();
  addSsoButton(form);
}

function startSession(s) {
  ctx.user = s.user;
  setCsrf(s.csrf_token);
  showSignedIn();
  render();
}

async function signOut() {
  try {
    await api('DELETE', '/v1/session');
  } catch {
    // Signed out on this side whatever the server says.
  }
  signedOut('You have signed out.');
}

/** Shows the sign-in form after the session ended here. */
function signedOut(message) {
  if (window.location.hash !== '#/tokens') window.history.replaceState(null, '', '#/tokens');
  signInView(message);
}

async function boot() {
  onSessionEnded(() => signInView('Your session has ended. Please sign in again.'));
  document.getElementById('signout').addEventListener('click', signOut);
  window.addEventListener('hashchange', render);
  // A link to the page already shown does not change the fragment, yet
  // should still leave whatever is on screen (a token being shown, say).
  document.getElementById('topbar').addEventListener('click', (ev) => {
    const a = ev.target.closest('a[href^="#"]');
    if (a && a.getAttribute('href') === window.location.hash) render();
  });
  // Leaving the page (or putting it in the back/forward cache) drops a
  // token that is still on display.
  window.addEventListener('pagehide', dropSecrets);
  try {
    const s = await api('GET', '/v1/session', undefined, { expect401: true });
    startSession(s);
  } catch (err) {
    if (err.status === 401 || err.status === 404) signInView();
    else {
      clear(main).append(el('h1', {}, 'patd is not reachable'), el('p', { class: 'alert', role: 'alert' }, err.description));
    }
  }
}

boot();
