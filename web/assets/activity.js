// SPDX-License-Identifier: MIT
// Audit events as a table: the user's own recent activity
// (GET /v1/me/audit), and the rows the admin audit browser reuses.

import { listAll } from './api.js';
import { el, append, clear, timeCell, isoSeconds } from './dom.js';

/** "name=value, ..." of an event's detail, as plain text. */
export function detailText(detail) {
  if (!detail || typeof detail !== 'object') return '';
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/**
 * A table of audit events. names maps ids (users, tokens) to readable
 * names; selfId is the viewer's own user id ("you").
 */
export function auditTable(events, { names = new Map(), selfId = null, caption = 'Audit events' } = {}) {
  const who = (ev) => {
    const parts = [];
    if (ev.actor_user_id) parts.push(ev.actor_user_id === selfId ? 'you' : (names.get(ev.actor_user_id) || ev.actor_user_id));
    if (ev.actor_token_id) parts.push(`with token ${names.get(ev.actor_token_id) || ev.actor_token_id}`);
    return parts.length ? parts.join(' ') : 'system';
  };
  const target = (ev) => {
    const parts = [];
    if (ev.target_token_id) parts.push(`token ${names.get(ev.target_token_id) || ev.target_token_id}`);
    if (ev.target_user_id && ev.target_user_id !== selfId) parts.push(`user ${names.get(ev.target_user_id) || ev.target_user_id}`);
    if (ev.target_user_id && ev.target_user_id === selfId && !ev.target_token_id) parts.push('you');
    return parts.join(', ') || '—';
  };
  const tbody = el('tbody');
  const table = el('table', { class: 'cards' },
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, ['When', 'Action', 'By', 'Address', 'Target', 'Details']
      .map((h) => el('th', { scope: 'col' }, h)))),
    tbody);
  const add = (list) => {
    const empty = tbody.querySelector('tr.empty');
    if (empty) empty.remove();
    for (const ev of list) {
      tbody.append(el('tr', {},
        el('td', { 'data-label': 'When' }, timeCell(ev.at)),
        el('td', { 'data-label': 'Action' }, el('code', {}, ev.action)),
        el('td', { 'data-label': 'By' }, who(ev), ev.user_agent ? el('span', { class: 'exact', title: ev.user_agent }, ev.user_agent.slice(0, 40)) : null),
        el('td', { 'data-label': 'Address' }, ev.ip || '—'),
        el('td', { 'data-label': 'Target' }, target(ev)),
        el('td', { 'data-label': 'Details', class: 'detail-text' }, detailText(ev.detail))));
    }
    if (!tbody.firstChild) tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 6 }, 'No events.')));
  };
  add(events);
  return { table: el('div', { class: 'table-wrap' }, table), add, reset: () => { clear(tbody); add([]); } };
}

const RECENT = 100;
const WINDOW_DAYS = 30;

/**
 * The user's own activity, newest first. The API lists events oldest
 * first, so the events of the last WINDOW_DAYS days are read to the end
 * (capped) and the last RECENT of them kept.
 */
export async function activityView(root, ctx) {
  const since = isoSeconds(new Date(Date.now() - WINDOW_DAYS * 86400 * 1000));
  const [events, tokens] = await Promise.all([
    listAll('/v1/me/audit', { since }, 25),
    listAll('/v1/me/tokens', { status: 'all' }),
  ]);
  const names = new Map(tokens.items.map((t) => [t.id, `“${t.name}”`]));
  const recent = events.items.slice(-RECENT).reverse();
  const { table } = auditTable(recent, { names, selfId: ctx.user.id, caption: 'Your recent activity' });
  append(root,
    el('h1', {}, 'Your recent activity'),
    el('p', { class: 'muted' },
      `The last ${recent.length} events of the past ${WINDOW_DAYS} days where you, or one of your tokens, `
      + 'acted or were acted upon. Newest first.'),
    events.complete ? null : el('p', { class: 'warning' }, 'There are more events than this page reads; the newest may be missing.'),
    table);
}
