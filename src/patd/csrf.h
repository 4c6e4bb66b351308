/* SPDX-License-Identifier: MIT */
/*
 * Cross-site request refusal for the web session. The cookie is
 * SameSite=Strict and state changes need X-CSRF-Token, but sign-in sets
 * the cookie before any CSRF token exists (login CSRF), and a browser
 * older than SameSite sends the cookie anyway. So every request that
 * sets or uses the cookie to change state must also come from patd's own
 * origin: Origin, when present, must be that origin, and Sec-Fetch-Site
 * must not say cross-site. Requests without either header (curl,
 * scripts) are not from a browser page and stay allowed.
 */
#ifndef PATD_CSRF_H
#define PATD_CSRF_H

#include <stdbool.h>

#include "request.h"

/*
 * Whether r comes from another site: Sec-Fetch-Site: cross-site, or an
 * Origin that is not patd's own (cfg->public_url's origin, else
 * http:// or https:// plus the Host header; "null" is never own).
 */
bool csrf_cross_site(const struct req *r);

/*
 * Refuses a cross-site r with 403 forbidden; 0 when r may go on, else
 * the status answered.
 */
int csrf_refuse_cross_site(struct req *r);

/*
 * Refuses a body that does not say Content-Type: application/json (with
 * or without parameters) with 400 invalid_request: a form or text/plain
 * body is what a cross-site HTML form can send without a preflight.
 * 0 when r may go on, else the status answered.
 */
int csrf_require_json(struct req *r);

#endif
