// SPDX-License-Identifier: MIT
// The user's web sessions (GET /v1/me/sessions): where and when each was
// started, the one this page runs in marked, and an "End" button per
// session (DELETE /v1/me/sessions/{id}). Ending the current one signs
// this page out like "Sign out" does.

import { api } from './api.js';
import { el, append, clear, timeCell, toast, confirmDialog } from './dom.js';

export async function sessionsView(root, ctx, { onEndedCurrent }) {
  const r = await api('GET', '/v1/me/sessions');
  const tbody = el('tbody');
  const fill = (items) => {
    clear(tbody);
    for (const s of items) {
      const end = el('button', {
        type: 'button', class: 'secondary danger-text',
        'aria-label': s.current ? 'End this session (sign out)' : `End the session started ${s.created_at}`,
      }, 'End');
      end.addEventListener('click', async () => {
        const ok = await confirmDialog({
          title: 'End this session?',
          body: s.current ? 'This is the session you are using: you will be signed out.'
            : 'Whoever uses it will have to sign in again.',
          confirmLabel: 'End session',
        });
        if (!ok) return;
        await api('DELETE', `/v1/me/sessions/${encodeURIComponent(s.id)}`);
        if (s.current) {
          onEndedCurrent();
          return;
        }
        toast('Session ended.');
        ctx.render();
      });
      tbody.append(el('tr', { dataset: { session: s.id } },
        el('td', { 'data-label': 'Started' }, timeCell(s.created_at), s.current ? el('span', { class: 'badge' }, 'This session') : null),
        el('td', { 'data-label': 'Expires' }, timeCell(s.expires_at)),
        el('td', { 'data-label': 'Address' }, s.ip || '—'),
        el('td', { 'data-label': 'Browser' }, s.user_agent ? el('span', { title: s.user_agent }, s.user_agent.slice(0, 60)) : '—'),
        el('td', { 'data-label': 'Actions' }, end)));
    }
    if (!tbody.firstChild) tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 5 }, 'No sessions.')));
  };
  fill(r.items);
  append(root,
    el('h1', {}, 'Your sessions'),
    el('p', { class: 'muted' },
      'Where you are signed in to this page. End a session you do not recognise; your tokens are not affected.'),
    el('div', { class: 'table-wrap' },
      el('table', { class: 'cards' },
        el('caption', { class: 'visually-hidden' }, 'Your sessions'),
        el('thead', {}, el('tr', {}, ['Started', 'Expires', 'Address', 'Browser', 'Actions']
          .map((h) => el('th', { scope: 'col' }, h)))),
        tbody)));
}
