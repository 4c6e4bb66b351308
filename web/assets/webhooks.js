// SPDX-License-Identifier: MIT
// Webhooks (admins): adding an endpoint (its signing secret is shown
// once), the list of endpoints, a test event, and each endpoint's
// delivery attempts with redelivery. Everything goes through
// /v1/webhooks (docs/webhooks.md); the API refuses non-admins whatever
// this page does.

import { api } from './api.js';
import { el, clear, timeCell, toast } from './dom.js';
import { field, formAlert, submitting } from './forms.js';

const TYPES = [
  'token.created', 'token.renamed', 'token.regenerated', 'token.revoked',
  'token.expiring', 'token.expired', 'token.leaked', 'token.reuse_detected',
  'token.approved', 'token.denied', 'user.created', 'user.updated',
  'user.disabled', 'user.deleted', 'scopes.changed', 'policy.changed',
  'webhook.disabled',
];

export async function webhooksView(root, ctx) {
  if (!ctx.isAdmin()) {
    root.append(el('h1', {}, 'Administrators only'),
      el('p', { class: 'alert', role: 'alert' }, 'Your account cannot manage webhooks.'));
    return;
  }
  const list = el('div');
  const detail = el('section', { 'aria-label': 'Deliveries' });
  root.append(el('h1', {}, 'Webhooks'),
    el('p', { class: 'muted' }, 'Endpoints receive the change feed, signed per Standard Webhooks.'),
    addForm(() => refresh()), el('h2', {}, 'Endpoints'), list, detail);

  async function refresh() {
    const page = await api('GET', '/v1/webhooks?limit=200');
    clear(list);
    if (!page.items.length) {
      list.append(el('p', { class: 'muted' }, 'No endpoints yet.'));
      return;
    }
    list.append(el('table', {},
      el('thead', {}, el('tr', {}, ['URL', 'Events', 'State', ''].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, page.items.map((w) => el('tr', {},
        el('td', { class: 'tname' }, w.url),
        el('td', {}, w.events.join(', ')),
        el('td', {}, w.enabled ? (w.failing_since ? 'failing' : 'enabled') : `disabled ${w.disabled_reason}`),
        el('td', {},
          el('button', {
            type: 'button', class: 'secondary', 'aria-label': `Send a test event to ${w.url}`,
            onclick: async () => {
              await api('POST', `/v1/webhooks/${w.id}/test`);
              toast('Test event queued');
              await showDeliveries(w);
            },
          }, 'Send test'),
          ' ',
          el('button', {
            type: 'button', class: 'secondary', 'aria-label': `Deliveries of ${w.url}`,
            onclick: () => showDeliveries(w),
          }, 'Deliveries')))))));
  }

  async function showDeliveries(w) {
    const page = await api('GET', `/v1/webhooks/${w.id}/deliveries?limit=50`);
    clear(detail).append(el('h2', {}, `Deliveries of ${w.url}`),
      el('button', { type: 'button', class: 'secondary', onclick: () => showDeliveries(w) }, 'Refresh'));
    if (!page.items.length) {
      detail.append(el('p', { class: 'muted', role: 'status' }, 'No attempts yet.'));
      return;
    }
    detail.append(el('table', {},
      el('thead', {}, el('tr', {}, ['When', 'Type', 'Result', 'Status', 'Message', 'Response', '']
        .map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, page.items.map((a) => el('tr', { dataset: { delivery: a.id } },
        el('td', {}, timeCell(a.at)),
        el('td', {}, a.type),
        el('td', { class: 'result' }, a.result),
        el('td', {}, a.status === null ? '—' : String(a.status)),
        el('td', { class: 'mono' }, a.msg_id),
        el('td', { class: 'mono small' }, a.response || a.error),
        el('td', {}, el('button', {
          type: 'button', class: 'secondary', 'aria-label': `Redeliver ${a.msg_id}`,
          onclick: async () => {
            await api('POST', `/v1/webhooks/${w.id}/deliveries/${a.id}/redeliver`);
            toast('Redelivery queued');
            await showDeliveries(w);
          },
        }, 'Redeliver')))))));
  }

  await refresh();
}

function addForm(onAdded) {
  const url = el('input', { type: 'url', name: 'url', required: true, maxlength: 2048, 'data-autofocus': true });
  const desc = el('input', { type: 'text', name: 'description', maxlength: 1024 });
  const boxes = TYPES.map((t) => el('input', { type: 'checkbox', name: 'events', value: t }));
  const secretBox = el('div', { role: 'status' });
  const form = el('form', { 'aria-label': 'Add a webhook endpoint' },
    formAlert(),
    field({ label: 'Endpoint URL', field: 'url', control: url, hint: 'http:// or https://, without credentials' }),
    el('fieldset', { dataset: { field: 'events' } }, el('legend', {}, 'Events'),
      TYPES.map((t, i) => el('label', { class: 'check' }, boxes[i], ` ${t}`))),
    field({ label: 'Description', field: 'description', control: desc, optional: true }),
    el('button', { type: 'submit' }, 'Add endpoint'),
    secretBox);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await submitting(form, async () => {
      const body = { url: url.value, events: boxes.filter((b) => b.checked).map((b) => b.value) };
      if (desc.value) body.description = desc.value;
      const w = await api('POST', '/v1/webhooks', body);
      clear(secretBox).append(
        el('p', {}, 'Signing secret, shown this once: keep it to verify signatures.'),
        el('code', { class: 'secret', 'aria-label': 'Signing secret' }, w.secret));
      form.reset();
      await onAdded();
    });
  });
  return form;
}
