// SPDX-License-Identifier: MIT
// The only door to the server: JSON over fetch with the session cookie,
// and the X-CSRF-Token header on every state change. The CSRF token lives
// in this module's memory only; after a reload GET /v1/session gives it
// back for a valid cookie. Nothing is ever written to web storage.

let csrf = null;
let sessionEnded = null;

export class ApiError extends Error {
  constructor(status, code, description, retryAfter = null) {
    super(description || code);
    this.status = status;
    this.code = code;
    this.description = description || code;
    this.retryAfter = retryAfter;
  }
}

export function setCsrf(value) {
  csrf = value;
}

/** fn(err) runs when a request is answered 401: the session is gone. */
export function onSessionEnded(fn) {
  sessionEnded = fn;
}

/**
 * method path [body] -> the parsed JSON answer (null for 204).
 * Throws ApiError with the API's error code and description.
 * opts.expect401: a 401 is an answer to show, not an ended session.
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, 'network', 'cannot reach the server');
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(
      res.status,
      (data && data.error) || `http_${res.status}`,
      (data && data.error_description) || res.statusText,
      res.headers.get('Retry-After'),
    );
    if (res.status === 401 && !opts.expect401 && sessionEnded) {
      err.handled = true; // the sign-in form replaces the page
      sessionEnded(err);
    }
    throw err;
  }
  return data;
}

/** path?k=v&... for the values that are set. */
export function withQuery(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** One page of a list: {items, next_cursor}. */
export function listPage(path, params = {}, cursor = null, limit = 50) {
  return api('GET', withQuery(path, { ...params, limit, cursor }));
}

/**
 * Every item of a list, following next_cursor, at most maxPages pages of
 * 200. complete is false when the cap cut it short.
 */
export async function listAll(path, params = {}, maxPages = 25) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < maxPages; i += 1) {
    // eslint-disable-next-line no-await-in-loop
    const page = await listPage(path, params, cursor, 200);
    items.push(...page.items);
    if (!page.next_cursor) return { items, complete: true };
    cursor = page.next_cursor;
  }
  return { items, complete: false };
}
