/* SPDX-License-Identifier: MIT */
/*
 * Every SQL statement of the store, written once in a neutral dialect
 * (driver.h says how it is expanded for each backend), and the expander
 * that migrations.c uses too. Every value is a bound parameter.
 *
 * Lists (scopes, audiences) are stored as sorted, space-separated text;
 * " s " occurs in " a s b " exactly when s is an item of "a s b".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/driver.h"

#define USER_COLS                                                              \
    "seq, id, username, display_name, email, role, scopes, disabled,"          \
    " CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END, created_at,"          \
    " updated_at, deleted_at, kind"
#define TOKEN_COLS                                                             \
    "t.seq, t.id, t.user_id, t.name, t.description, t.scopes, t.audiences,"    \
    " t.allowed_cidrs, t.hint, t.created_at, t.expires_at, t.revoked_at,"      \
    " t.revoked_reason, t.last_used_at, t.last_used_ip, t.recent_ips,"         \
    " t.approval, t.approval_reason, t.decided_by, t.decided_at,"              \
    " t.max_uses, t.uses_left, t.rate_limit, t.rate_window,"                   \
    " t.unused_notice_at"
#define AUDIT_COLS                                                             \
    "seq, at, actor_user_id, actor_token_id, ip, user_agent, action,"          \
    " target_user_id, target_token_id, detail"
#define CHANGE_COLS "seq, at, type, actor, user_id, token_id, evict, data"
#define WEBHOOK_COLS                                                           \
    "seq, id, url, events, description, enabled, created_at, updated_at,"      \
    " feed_cursor, attempt, next_at_ms, failing_since, disabled_reason,"       \
    " lease_node, lease_until_ms"
#define ATTEMPT_COLS                                                           \
    "seq, id, endpoint_id, msg_id, event_seq, type, at_ms, node, result,"      \
    " status, latency_ms, response, error, manual"
#define CHANGE_INTO                                                            \
    "INSERT INTO changes (at, type, actor, user_id, token_id, evict, data) "

/*
 * The one definition of a live token (neither revoked nor expired at
 * `now`), with `now` at the placeholder given.
 */
#define LIVE(t, now)                                                           \
    " " t "revoked_at IS NULL AND (" t "expires_at IS NULL OR " t              \
    "expires_at > " now ")"

#define HAS_ITEM(list, item)                                                   \
    "@instr@(' ' || " list " || ' ', ' ' || " item " || ' ') > 0"

/* An exchanged JWT with its PAT, owner and secret (Q_EXCHANGE_*). */
#define EXCHANGE_JOIN                                                          \
    "exchanges e JOIN tokens t ON t.id = e.token_id"                           \
    " JOIN users u ON u.id = e.user_id"                                        \
    " LEFT JOIN secrets s ON s.hash = e.secret_hash"
#define EXCHANGE_ALIVE(now)                                                    \
    " (" LIVE("t.", now) " AND u.disabled = 0 AND u.deleted_at IS NULL"        \
                         " AND s.hash IS NOT NULL AND s.retire_at IS NULL)"

/* ?2 status mask, ?3 now, ?4 scope, ?5..?7 bounds, ?8 cursor, ?9 limit. */
#define TOKEN_FILTER                                                           \
    " AND (((?2 & 1) <> 0 AND" LIVE(                                           \
        "t.", "?3") ")"                                                        \
                    "   OR ((?2 & 2) <> 0 AND t.revoked_at IS NULL AND "       \
                    "t.expires_at <= ?3)"                                      \
                    "   OR ((?2 & 4) <> 0 AND t.revoked_at IS NOT NULL))"      \
                    " AND (?4 IS NULL OR " HAS_ITEM(                           \
                        "t.scopes",                                            \
                        "?4") ")"                                              \
                              " AND (?5 = 0 OR t.expires_at < ?5)"             \
                              " AND (?6 = 0 OR t.last_used_at IS NULL OR "     \
                              "t.last_used_at < ?6)"                           \
                              " AND (?7 = 0 OR t.created_at < ?7)"             \
                              " AND t.seq > ?8 ORDER BY t.seq LIMIT ?9"
#define TOKEN_FILTER_TYPES "tiitiiiii"

/*
 * ?1 user, ?2 scope, ?3 created before; tokens not yet revoked (expired
 * ones too: a bulk revocation records them as revoked).
 */
#define BULK_FILTER                                                            \
    " WHERE revoked_at IS NULL"                                                \
    " AND (?1 IS NULL OR user_id = ?1)"                                        \
    " AND (?2 IS NULL OR " HAS_ITEM("scopes",                                  \
                                    "?2") ")"                                  \
                                          " AND (?3 = 0 OR created_at < ?3)"

const struct pat_stmt_def pat__stmts[Q_COUNT] = {
    [Q_SCHEMA_VERSION] = {"SELECT coalesce(max(version), 0)"
                          " FROM schema_migrations",
                          "", true},
    [Q_SCHEMA_RECORD] = {"INSERT INTO schema_migrations VALUES (?1, ?2, ?3)",
                         "iti", false},
    [Q_SETTING_GET] = {"SELECT value FROM settings WHERE key = ?1", "t", true},
    [Q_SETTING_PUT] =
        {"INSERT INTO settings VALUES (?1, ?2)"
         " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
         "tt", false},

    [Q_USER_INSERT] = {"INSERT INTO users (id, username, display_name, email,"
                       " role, scopes, disabled, created_at, updated_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                       "ttttttiii", false},
    [Q_USER_UPDATE] = {"UPDATE users SET display_name = ?2, email = ?3,"
                       " role = ?4, scopes = ?5, disabled = ?6,"
                       " updated_at = ?7, deleted_at = ?8,"
                       " username = CASE WHEN ?8 IS NULL THEN username"
                       " ELSE id END WHERE id = ?1",
                       "tttttiii", false},
    [Q_USER_BY_ID] = {"SELECT " USER_COLS " FROM users WHERE id = ?1", "t",
                      true},
    [Q_USER_BY_NAME] = {"SELECT " USER_COLS " FROM users WHERE username = ?1",
                        "t", true},
    [Q_USER_LIST] = {"SELECT " USER_COLS " FROM users WHERE seq > ?1"
                     " AND deleted_at IS NULL AND (?3 IS NULL"
                     "  OR @instr@(username, lower(?3)) > 0"
                     "  OR @instr@(lower(display_name), lower(?3)) > 0"
                     "  OR @instr@(lower(email), lower(?3)) > 0)"
                     " AND (?4 IS NULL OR kind = ?4)"
                     " ORDER BY seq LIMIT ?2",
                     "iitt", true},
    [Q_USER_PW_GET] = {"SELECT password_hash FROM users WHERE id = ?1"
                       " AND password_hash IS NOT NULL",
                       "t", true},
    [Q_USER_PW_SET] = {"UPDATE users SET password_hash = ?2, updated_at = ?3"
                       " WHERE id = ?1",
                       "tti", false},

    [Q_SCOPE_PUT] = {"INSERT INTO scopes VALUES (?1, ?2, ?3) ON CONFLICT (name)"
                     " DO UPDATE SET description = excluded.description",
                     "tti", false},
    [Q_SCOPE_GET] = {"SELECT name, description, builtin FROM scopes"
                     " WHERE name = ?1",
                     "t", true},
    [Q_SCOPE_LIST] = {"SELECT name, description, builtin FROM scopes"
                      " ORDER BY name LIMIT ?1",
                      "i", true},
    [Q_SCOPE_DELETE] = {"DELETE FROM scopes WHERE name = ?1 AND builtin = 0",
                        "t", false},
    [Q_SCOPE_IN_USE] = {"SELECT count(*) FROM tokens WHERE" LIVE(
                            "", "?2") " AND " HAS_ITEM("scopes", "?1"),
                        "ti", true},
    [Q_SCOPE_STRIP] = {"UPDATE users SET scopes = trim(replace(' ' || scopes"
                       " || ' ', ' ' || ?1 || ' ', ' '))"
                       " WHERE " HAS_ITEM("scopes", "?1"),
                       "t", false},

    [Q_POLICY_GET] = {"SELECT max_lifetime_days, allow_no_expiry,"
                      " default_lifetime_days, max_tokens_per_user,"
                      " revoke_on_reuse, approval_required_scopes,"
                      " pending_max_age_seconds, revoke_unused_after_days,"
                      " service_allow_no_expiry FROM policy WHERE id = 1",
                      "", true},
    [Q_POLICY_PUT] = {"INSERT INTO policy (id, max_lifetime_days,"
                      " allow_no_expiry, default_lifetime_days,"
                      " max_tokens_per_user, revoke_on_reuse,"
                      " approval_required_scopes, pending_max_age_seconds,"
                      " revoke_unused_after_days, service_allow_no_expiry)"
                      " VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                      " ON CONFLICT (id) DO UPDATE SET"
                      " max_lifetime_days = excluded.max_lifetime_days,"
                      " allow_no_expiry = excluded.allow_no_expiry,"
                      " default_lifetime_days = excluded.default_lifetime_days,"
                      " max_tokens_per_user = excluded.max_tokens_per_user,"
                      " revoke_on_reuse = excluded.revoke_on_reuse,"
                      " approval_required_scopes ="
                      " excluded.approval_required_scopes,"
                      " pending_max_age_seconds ="
                      " excluded.pending_max_age_seconds,"
                      " revoke_unused_after_days ="
                      " excluded.revoke_unused_after_days,"
                      " service_allow_no_expiry ="
                      " excluded.service_allow_no_expiry",
                      "iiiiitiii", false},

    [Q_TOKEN_INSERT] = {"INSERT INTO tokens (id, user_id, name, description,"
                        " scopes, audiences, allowed_cidrs, hint, created_at,"
                        " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                        " ?9, ?10)",
                        "ttttttttii", false},
    [Q_TOKEN_UPDATE] = {"UPDATE tokens SET name = ?2, description = ?3,"
                        " hint = ?4, expires_at = ?5, revoked_at = ?6,"
                        " revoked_reason = ?7 WHERE id = ?1",
                        "ttttiit", false},
    [Q_TOKEN_GET] = {"SELECT " TOKEN_COLS " FROM tokens t WHERE t.id = ?1", "t",
                     true},
    [Q_TOKEN_LIST_ALL] = {"SELECT " TOKEN_COLS " FROM tokens t"
                          " WHERE ?1 IS NULL" TOKEN_FILTER,
                          TOKEN_FILTER_TYPES, true},
    [Q_TOKEN_LIST_USER] = {"SELECT " TOKEN_COLS " FROM tokens t"
                           " WHERE t.user_id = ?1" TOKEN_FILTER,
                           TOKEN_FILTER_TYPES, true},
    [Q_TOKEN_COUNT_LIVE] = {"SELECT count(*) FROM tokens WHERE user_id = ?1"
                            " AND" LIVE("", "?2"),
                            "ti", true},
    /*
     * Before a bulk revocation: one feed row for each token it will revoke,
     * in the order the tokens were created.
     */
    [Q_TOKEN_FEED_USER] = {CHANGE_INTO "SELECT ?2, ?3, ?4, user_id, id, ?5, ?6"
                                       " FROM tokens WHERE user_id = ?1"
                                       " AND revoked_at IS NULL ORDER BY seq"
                                       " RETURNING seq, user_id, token_id",
                           "tittit", false},
    [Q_TOKEN_REVOKE_USER] = {"UPDATE tokens SET revoked_at = ?2,"
                             " revoked_reason = ?3"
                             " WHERE user_id = ?1 AND revoked_at IS NULL",
                             "tit", false},
    [Q_TOKEN_FEED_WHERE] = {CHANGE_INTO "SELECT ?4, ?5, ?6, user_id, id, ?7, ?8"
                                        " FROM tokens" BULK_FILTER
                                        " ORDER BY seq"
                                        " RETURNING seq, user_id, token_id",
                            "ttiittit", false},
    [Q_TOKEN_REVOKE_WHERE] = {"UPDATE tokens SET revoked_at = ?4,"
                              " revoked_reason = ?5" BULK_FILTER,
                              "ttiit", false},
    [Q_TOKEN_COUNT_WHERE] = {"SELECT count(*) FROM tokens" BULK_FILTER, "tti",
                             true},
    [Q_TOKEN_USAGE] = {"UPDATE tokens SET last_used_at = ?2,"
                       " last_used_ip = ?3, recent_ips = ?4 WHERE id = ?1",
                       "titt", false},

    [Q_SECRET_INSERT] = {"INSERT INTO secrets VALUES (?1, ?2, ?3, NULL)", "bti",
                         false},
    [Q_SECRET_RETIRE] = {"UPDATE secrets SET retire_at = ?2 WHERE token_id = ?1"
                         " AND (retire_at IS NULL OR retire_at > ?2)",
                         "ti", false},
    /* The cache-miss read: secret, token and owner in one join. */
    [Q_VERIFY] = {"SELECT " TOKEN_COLS ", s.retire_at,"
                  " u.seq, u.id, u.username, u.display_name, u.email, u.role,"
                  " u.scopes, u.disabled,"
                  " CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END,"
                  " u.created_at, u.updated_at, u.deleted_at, u.kind"
                  " FROM secrets s JOIN tokens t ON t.id = s.token_id"
                  " JOIN users u ON u.id = t.user_id WHERE s.hash = ?1",
                  "b", true},

    /* seq: the user's sessions in order of creation. */
    [Q_SESSION_INSERT] = {"INSERT INTO sessions (hash, user_id, csrf,"
                          " created_at, expires_at, id, ip, user_agent, seq)"
                          " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                          " COALESCE(MAX(seq), 0) + 1 FROM sessions"
                          " WHERE user_id = ?2",
                          "bttiittt", false},
    [Q_SESSION_GET] = {"SELECT user_id, csrf, id FROM sessions WHERE hash = ?1"
                       " AND expires_at > ?2",
                       "bi", true},
    [Q_SESSION_PRUNE] = {"DELETE FROM sessions WHERE expires_at <= ?1", "i",
                         false},
    /* Keeps session ?3 and the ?2 newest others of user ?1. */
    [Q_SESSION_TRIM] = {"DELETE FROM sessions WHERE user_id = ?1"
                        " AND hash <> ?3 AND hash NOT IN (SELECT hash FROM"
                        " sessions WHERE user_id = ?1 AND hash <> ?3"
                        " ORDER BY seq DESC LIMIT ?2)",
                        "tib", false},
    [Q_SESSION_LIST] = {"SELECT id, created_at, expires_at, ip, user_agent"
                        " FROM sessions WHERE user_id = ?1 AND expires_at > ?2"
                        " ORDER BY seq DESC LIMIT ?3",
                        "tii", true},
    [Q_SESSION_END] = {"DELETE FROM sessions WHERE id = ?1 AND user_id = ?2",
                       "tt", false},
    [Q_SESSION_DELETE] = {"DELETE FROM sessions WHERE hash = ?1", "b", false},
    [Q_SESSION_DELETE_USER] = {"DELETE FROM sessions WHERE user_id = ?1", "t",
                               false},

    [Q_AUDIT_INSERT] = {"INSERT INTO audit (at, actor_user_id, actor_token_id,"
                        " ip, user_agent, action, target_user_id,"
                        " target_token_id, detail)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        "itttttttt", false},
    [Q_AUDIT_LIST] = {"SELECT " AUDIT_COLS " FROM audit WHERE"
                      " (?1 IS NULL OR actor_user_id = ?1"
                      "  OR target_user_id = ?1)"
                      " AND (?2 IS NULL OR action = ?2)"
                      " AND (?3 IS NULL OR target_token_id = ?3"
                      "  OR target_user_id = ?3)"
                      " AND at >= ?4 AND seq > ?5"
                      " AND (?7 IS NULL OR actor_user_id = ?7)"
                      " ORDER BY seq LIMIT ?6",
                      "tttiiit", true},

    [Q_CHANGE_INSERT] = {CHANGE_INTO "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                                     " RETURNING seq",
                         "ittttit", false},
    [Q_CHANGE_LIST] = {"SELECT " CHANGE_COLS " FROM changes WHERE seq > ?1"
                       " ORDER BY seq LIMIT ?2",
                       "ii", true},
    [Q_CHANGE_PRUNE] = {"DELETE FROM changes WHERE at < ?1", "i", false},
    [Q_CHANGE_LAST] = {"SELECT coalesce(max(seq), 0) FROM changes", "", true},
    [Q_CHANGE_LAST_OF] = {"SELECT at FROM changes WHERE token_id = ?1"
                          " AND type = ?2 ORDER BY seq DESC LIMIT 1",
                          "tt", true},

    [Q_USER_DUMP] = {"SELECT " USER_COLS " FROM users WHERE seq > ?1"
                     " ORDER BY seq LIMIT ?2",
                     "ii", true},
    [Q_USER_RESTORE] =
        {"INSERT INTO users (id, username, display_name, email,"
         " role, scopes, disabled, password_hash, created_at,"
         " updated_at, deleted_at)"
         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
         "ttttttitiii", false},
    [Q_TOKEN_RESTORE] = {"INSERT INTO tokens (id, user_id, name, description,"
                         " scopes, audiences, allowed_cidrs, hint, created_at,"
                         " expires_at, revoked_at, revoked_reason,"
                         " last_used_at, last_used_ip, recent_ips)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                         " ?11, ?12, ?13, ?14, ?15)",
                         "ttttttttiiititt", false},
    [Q_SECRET_DUMP] = {"SELECT hash, token_id, created_at, retire_at"
                       " FROM secrets WHERE ?1 IS NULL OR hash > ?1"
                       " ORDER BY hash LIMIT ?2",
                       "bi", true},
    [Q_SECRET_RESTORE] = {"INSERT INTO secrets VALUES (?1, ?2, ?3, ?4)", "btii",
                          false},

    /* External identities and one-time grants (migration 9, sso.h). */
    [Q_ATTR_PUT] = {"INSERT INTO user_attrs (user_id, name, value)"
                    " VALUES (?1, ?2, ?3) ON CONFLICT (user_id, name)"
                    " DO UPDATE SET value = excluded.value",
                    "ttt", false},
    [Q_ATTR_GET] = {"SELECT value FROM user_attrs WHERE user_id = ?1"
                    " AND name = ?2",
                    "tt", true},
    [Q_ATTR_FIND] = {"SELECT a.user_id FROM user_attrs a"
                     " JOIN users u ON u.id = a.user_id"
                     " WHERE a.name = ?1 AND a.value = ?2"
                     " AND u.deleted_at IS NULL ORDER BY u.seq LIMIT 1",
                     "tt", true},
    [Q_GRANT_PUT] = {"INSERT INTO grants (key, kind, data, expires_at)"
                     " VALUES (?1, ?2, ?3, ?4)",
                     "ttti", false},
    [Q_GRANT_TAKE] = {"DELETE FROM grants WHERE key = ?1 AND kind = ?2"
                      " RETURNING data, expires_at",
                      "tt", false},
    [Q_GRANT_PRUNE] = {"DELETE FROM grants WHERE expires_at < ?1", "i", false},
    [Q_USER_COUNT] = {"SELECT count(*) FROM users WHERE deleted_at IS NULL", "",
                      true},
    [Q_USER_PAGE] = {"SELECT " USER_COLS " FROM users WHERE deleted_at IS NULL"
                     " ORDER BY seq LIMIT ?1 OFFSET ?2",
                     "ii", true},
    [Q_KEY_INSERT] = {"INSERT INTO signing_keys (kid, alg, public_jwk,"
                      " private_sealed, created_at, active_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      "ttttii", false},
    [Q_KEY_LIST] = {"SELECT kid, alg, public_jwk, private_sealed, created_at,"
                    " active_at, retired_at FROM signing_keys"
                    " ORDER BY active_at, created_at, kid",
                    "", true},
    [Q_KEY_RETIRE] = {"UPDATE signing_keys SET retired_at = ?2"
                      " WHERE kid = ?1 AND retired_at IS NULL",
                      "ti", false},
    [Q_EXCHANGE_INSERT] = {"INSERT INTO exchanges (jti, token_id, user_id,"
                           " secret_hash, kid, issued_at, expires_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING idx",
                           "tttbtii", false},
    /*
     * Whether a JWT is alive: its PAT live, the PAT's secret it was
     * exchanged for still the current one (not regenerated since), the
     * owner enabled and not deleted. The status lists say the same.
     */
    [Q_EXCHANGE_STATUS] = {"SELECT e.idx, e.token_id, e.user_id, u.username,"
                           " t.allowed_cidrs, CASE WHEN" EXCHANGE_ALIVE(
                               "?2") " THEN 1 ELSE 0"
                                     " END FROM " EXCHANGE_JOIN
                                     " WHERE e.jti = ?1",
                           "ti", true},
    [Q_EXCHANGE_LIVE_RANGE] = {"SELECT e.idx FROM " EXCHANGE_JOIN
                               " WHERE e.idx >= ?1 AND e.idx < ?2"
                               " AND e.expires_at > ?3 AND" EXCHANGE_ALIVE(
                                   "?3") " ORDER BY e.idx",
                               "iii", true},
    [Q_EXCHANGE_MAX_IDX] = {"SELECT max(idx) FROM exchanges", "", true},
    [Q_EXCHANGE_BY_USER] = {"SELECT e.token_id, t.name, count(*),"
                            " max(e.issued_at) FROM exchanges e"
                            " JOIN tokens t ON t.id = e.token_id"
                            " WHERE e.user_id = ?1 GROUP BY e.token_id, t.name"
                            " ORDER BY max(e.issued_at) DESC LIMIT ?2",
                            "ti", true},
    [Q_EXCHANGE_PRUNE] = {"DELETE FROM exchanges WHERE expires_at < ?1", "i",
                          false},
    /* Governance (DESIGN.md section 13, migration 8; ops_gov.c). */
    [Q_USER_KIND_SET] = {"UPDATE users SET kind = ?2 WHERE id = ?1", "tt",
                         false},
    [Q_TOKEN_GOV_SET] = {"UPDATE tokens SET approval = ?2,"
                         " approval_reason = ?3, decided_by = ?4,"
                         " decided_at = ?5, max_uses = ?6, uses_left = ?7,"
                         " rate_limit = ?8, rate_window = ?9,"
                         " unused_notice_at = ?10 WHERE id = ?1",
                         "ttttiiiiii", false},
    /*
     * One use of a use-limited token: a conditional decrement, atomic on
     * both backends (a row lock on PostgreSQL, the database lock on
     * SQLite), so that two nodes never spend the same use.
     */
    [Q_TOKEN_USE] = {"UPDATE tokens SET uses_left = uses_left - 1"
                     " WHERE id = ?1 AND max_uses > 0 AND uses_left > 0"
                     " AND revoked_at IS NULL RETURNING uses_left",
                     "t", false},
    [Q_TOKEN_PENDING] = {"SELECT " TOKEN_COLS " FROM tokens t"
                         " WHERE t.approval = 'pending'"
                         " AND t.revoked_at IS NULL AND t.seq > ?1"
                         " ORDER BY t.seq LIMIT ?2",
                         "ii", true},
    /* Pending requests created at or before ?1. */
    [Q_TOKEN_PENDING_OLD] = {"SELECT " TOKEN_COLS " FROM tokens t"
                             " WHERE t.approval = 'pending'"
                             " AND t.revoked_at IS NULL"
                             " AND t.created_at <= ?1"
                             " ORDER BY t.seq LIMIT ?2",
                             "ii", true},
    /* Live tokens unused (or never used and created) at or before ?2. */
    [Q_TOKEN_IDLE] = {"SELECT " TOKEN_COLS " FROM tokens t WHERE" LIVE(
                          "t.", "?1") " AND t.approval <> 'pending'"
                                      " AND coalesce(t.last_used_at,"
                                      " t.created_at) <= ?2"
                                      " AND t.seq > ?4"
                                      " ORDER BY t.seq LIMIT ?3",
                      "iiii", true},
    /* Webhooks (docs/webhooks.md); WEBHOOK_COLS never has the secret. */
    [Q_WEBHOOK_INSERT] = {"INSERT INTO webhooks (id, url, events, description,"
                          " secret, enabled, created_at, updated_at,"
                          " feed_cursor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                          " ?8, (SELECT coalesce(max(seq), 0) FROM changes))",
                          "tttttiii", false},
    [Q_WEBHOOK_GET] = {"SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = ?1",
                       "t", true},
    [Q_WEBHOOK_LIST] = {"SELECT " WEBHOOK_COLS " FROM webhooks WHERE seq > ?1"
                        " ORDER BY seq LIMIT ?2",
                        "ii", true},
    [Q_WEBHOOK_UPDATE] = {"UPDATE webhooks SET url = ?2, events = ?3,"
                          " description = ?4, enabled = ?5, updated_at = ?6,"
                          " attempt = ?7, next_at_ms = ?8, failing_since = ?9,"
                          " disabled_reason = ?10 WHERE id = ?1",
                          "ttttiiiiit", false},
    [Q_WEBHOOK_SECRET_SET] = {"UPDATE webhooks SET secret = ?2,"
                              " updated_at = ?3 WHERE id = ?1",
                              "tti", false},
    [Q_WEBHOOK_SECRET_GET] = {"SELECT secret FROM webhooks WHERE id = ?1", "t",
                              true},
    [Q_WEBHOOK_DELETE] = {"DELETE FROM webhooks WHERE id = ?1", "t", false},
    /* ?1 now (ms), ?2 this node, ?3 limit. */
    [Q_WEBHOOK_DUE] = {"SELECT " WEBHOOK_COLS " FROM webhooks WHERE enabled = 1"
                       " AND next_at_ms <= ?1"
                       " AND (lease_until_ms < ?1 OR lease_node = ?2)"
                       " ORDER BY lease_until_ms, seq LIMIT ?3",
                       "iti", true},
    /* Claims ?1 for node ?2 until ?3 if free at ?4 or already its own. */
    [Q_WEBHOOK_LEASE] = {"UPDATE webhooks SET lease_node = ?2,"
                         " lease_until_ms = ?3 WHERE id = ?1 AND enabled = 1"
                         " AND (lease_until_ms < ?4 OR lease_node = ?2)",
                         "ttii", false},
    [Q_WEBHOOK_RELEASE] = {"UPDATE webhooks SET lease_until_ms = 0"
                           " WHERE id = ?1 AND lease_node = ?2",
                           "tt", false},
    /*
     * Only the node that holds the lease moves an endpoint on. It may
     * disable it (?7 = 0) but never enables it: an admin may have
     * disabled it while a delivery was in flight.
     */
    [Q_WEBHOOK_ADVANCE] = {"UPDATE webhooks SET feed_cursor = ?3, attempt = ?4,"
                           " next_at_ms = ?5, failing_since = ?6,"
                           " enabled = CASE WHEN ?7 = 0 THEN 0 ELSE enabled"
                           " END, disabled_reason = CASE WHEN ?7 = 0 THEN ?8"
                           " ELSE disabled_reason END"
                           " WHERE id = ?1 AND lease_node = ?2",
                           "ttiiiiit", false},
    /* The first row in (?1, ?2] of a type in list ?3. */
    [Q_WEBHOOK_NEXT_EVENT] = {"SELECT " CHANGE_COLS " FROM changes"
                              " WHERE seq > ?1 AND seq <= ?2 AND " HAS_ITEM(
                                  "?3", "type") " ORDER BY seq LIMIT 1",
                              "iit", true},
    /* Rows waiting for enabled endpoints, and the age of the oldest. */
    [Q_WEBHOOK_STATS] = {"SELECT count(*), coalesce(min(c.at), 0)"
                         " FROM webhooks w JOIN changes c"
                         " ON c.seq > w.feed_cursor AND " HAS_ITEM(
                             "w.events", "c.type") " WHERE w.enabled = 1",
                         "", true},
    [Q_CHANGE_GET] = {"SELECT " CHANGE_COLS " FROM changes WHERE seq = ?1", "i",
                      true},
    [Q_OUTBOX_INSERT] = {"INSERT INTO webhook_outbox (endpoint_id, msg_id,"
                         " event_seq, type, body, created_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         "ttitti", false},
    [Q_OUTBOX_NEXT] = {"SELECT seq, msg_id, event_seq, type, body"
                       " FROM webhook_outbox WHERE endpoint_id = ?1"
                       " ORDER BY seq LIMIT 1",
                       "t", true},
    [Q_OUTBOX_DELETE] = {"DELETE FROM webhook_outbox WHERE seq = ?1", "i",
                         false},
    [Q_OUTBOX_CLEAR] = {"DELETE FROM webhook_outbox WHERE endpoint_id = ?1",
                        "t", false},
    [Q_ATTEMPT_INSERT] = {"INSERT INTO webhook_attempts (id, endpoint_id,"
                          " msg_id, event_seq, type, at_ms, node, result,"
                          " status, latency_ms, response, error, manual)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                          " ?11, ?12, ?13)",
                          "tttitittiitti", false},
    [Q_ATTEMPT_LIST] = {"SELECT " ATTEMPT_COLS " FROM webhook_attempts"
                        " WHERE endpoint_id = ?1 AND (?2 = 0 OR seq < ?2)"
                        " ORDER BY seq DESC LIMIT ?3",
                        "tii", true},
    [Q_ATTEMPT_GET] = {"SELECT " ATTEMPT_COLS " FROM webhook_attempts"
                       " WHERE endpoint_id = ?1 AND id = ?2",
                       "tt", true},
    [Q_ATTEMPT_PRUNE] = {"DELETE FROM webhook_attempts WHERE at_ms < ?1", "i",
                         false},
    [Q_ATTEMPT_CLEAR] = {"DELETE FROM webhook_attempts WHERE endpoint_id = ?1",
                         "t", false},
    [Q_NOTICE_INSERT] = {"INSERT INTO notices VALUES (?1, ?2, ?3, NULL)"
                         " ON CONFLICT DO NOTHING",
                         "tti", false},
    /*
     * Unrevoked tokens expiring in (?2, ?1] that have not had their last
     * notice, from seq ?3 on, ?4 at most.
     */
    [Q_NOTICE_CANDIDATES] = {"SELECT " TOKEN_COLS " FROM tokens t"
                             " WHERE t.revoked_at IS NULL"
                             " AND t.expires_at IS NOT NULL"
                             " AND t.expires_at <= ?1 AND t.expires_at > ?2"
                             " AND NOT EXISTS (SELECT 1 FROM notices n"
                             " WHERE n.token_id = t.id"
                             " AND n.kind = 'expired')"
                             " AND t.seq > ?3 ORDER BY t.seq LIMIT ?4",
                             "iiii", true},
    /* Owners with an address and notices not yet in a digest. */
    [Q_NOTICE_MAIL_USERS] = {"SELECT DISTINCT t.user_id FROM notices n"
                             " JOIN tokens t ON t.id = n.token_id"
                             " JOIN users u ON u.id = t.user_id"
                             " WHERE n.mailed_at IS NULL AND u.email <> ''"
                             " AND u.deleted_at IS NULL LIMIT ?1",
                             "i", true},
    [Q_NOTICE_MAIL_LIST] = {"SELECT t.name, t.hint, t.expires_at, n.kind"
                            " FROM notices n JOIN tokens t"
                            " ON t.id = n.token_id WHERE t.user_id = ?1"
                            " AND n.mailed_at IS NULL"
                            " ORDER BY t.expires_at, t.seq LIMIT ?2",
                            "ti", true},
    [Q_NOTICE_MAIL_MARK] = {"UPDATE notices SET mailed_at = ?2"
                            " WHERE mailed_at IS NULL AND token_id IN"
                            " (SELECT id FROM tokens WHERE user_id = ?1)",
                            "ti", false},
    [Q_MAIL_LOG_INSERT] = {"INSERT INTO mail_log VALUES (?1, ?2, ?3, ?4)"
                           " ON CONFLICT DO NOTHING",
                           "ttii", false},
    [Q_GRANT_COUNT] = {"SELECT count(*) FROM grants WHERE kind = ?1"
                       " AND expires_at >= ?2",
                       "ti", true},
    [Q_ATTR_LIST] = {"SELECT name, value FROM user_attrs WHERE user_id = ?1"
                     " ORDER BY name",
                     "t", true},
};

static const char *
word(enum pat_dialect d, const char *key, size_t len)
{
    static const struct {
        const char *key;
        const char *sqlite;
        const char *postgres;
    } words[] = {
        {"seq", "INTEGER PRIMARY KEY",
         "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
        /* A seq that is never used twice, even after deletes. */
        {"seq_monotonic", "INTEGER PRIMARY KEY AUTOINCREMENT",
         "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"},
        {"blob", "BLOB", "BYTEA"},
        {"without_rowid", " WITHOUT ROWID", ""},
        /* instr(haystack, needle): the position of needle, 0 if none. */
        {"instr", "instr", "strpos"},
    };
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i].key) == len && memcmp(words[i].key, key, len) == 0)
            return d == PAT_DIALECT_SQLITE ? words[i].sqlite
                                           : words[i].postgres;
    }
    return NULL;
}

static const char *
type_name(char t)
{
    switch (t) {
    case 't':
        return "text";
    case 'i':
        return "bigint";
    case 'b':
        return "bytea";
    default:
        return NULL;
    }
}

/* Appends n bytes of s to out[cap] at *w; false when it does not fit. */
static bool
put(char *out, size_t cap, size_t *w, const char *s, size_t n)
{
    if (*w + n >= cap)
        return false;
    memcpy(out + *w, s, n);
    *w += n;
    return true;
}

/* The ?N at *p (p[0] == '?') for PostgreSQL, advancing *p past it. */
static bool
placeholder(const char **p, const char *types, char *out, size_t cap, size_t *w)
{
    const char *q = *p + 1;
    char buf[32];
    const char *tn;
    size_t n = 0;
    int len;

    while (*q >= '0' && *q <= '9' && n < 4)
        n = n * 10 + (size_t)(*q++ - '0');
    if (n == 0 || types == NULL || n > strlen(types))
        return false;
    tn = type_name(types[n - 1]);
    if (tn == NULL)
        return false;
    len = snprintf(buf, sizeof(buf), "$%zu::%s", n, tn);
    if (len < 0 || !put(out, cap, w, buf, (size_t)len))
        return false;
    *p = q;
    return true;
}

char *
pat__sql_expand(enum pat_dialect d, const char *sql, const char *types)
{
    /* "?1" grows to "$1::bigint": at most 5 times, as does every word. */
    size_t cap = strlen(sql) * 6 + 64, w = 0;
    char *out = malloc(cap);
    const char *p = sql;

    if (out == NULL)
        return NULL;
    while (*p != '\0') {
        const char *close, *rep;

        if (*p == '?' && d == PAT_DIALECT_POSTGRES) {
            if (!placeholder(&p, types, out, cap, &w))
                goto fail;
            continue;
        }
        if (*p != '@' || (close = strchr(p + 1, '@')) == NULL) {
            if (!put(out, cap, &w, p++, 1))
                goto fail;
            continue;
        }
        rep = word(d, p + 1, (size_t)(close - p - 1));
        if (rep == NULL || !put(out, cap, &w, rep, strlen(rep)))
            goto fail;
        p = close + 1;
    }
    out[w] = '\0';
    return out;
fail:
    free(out);
    return NULL;
}
