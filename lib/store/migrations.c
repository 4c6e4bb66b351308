/* SPDX-License-Identifier: MIT */
/*
 * The numbered schema migrations and their runner. One list serves every
 * backend: the few words that differ between SQL dialects are written as
 * @placeholders@ and filled in for the backend at hand (pat__sql_expand
 * in stmts.c). Migrations only
 * ever get appended; a shipped one is never edited.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

struct migration {
    int version;
    const char *name;
    const char *sql;
};

static const struct migration migrations[] = {
    {1, "initial schema",
     "CREATE TABLE settings (\n"
     "  key TEXT PRIMARY KEY,\n"
     "  value TEXT NOT NULL);\n"
     "CREATE TABLE users (\n"
     "  seq @seq@,\n"
     "  id TEXT NOT NULL UNIQUE,\n"
     "  username TEXT NOT NULL UNIQUE,\n"
     "  display_name TEXT NOT NULL DEFAULT '',\n"
     "  email TEXT NOT NULL DEFAULT '',\n"
     "  role TEXT NOT NULL CHECK (role IN ('admin', 'user')),\n"
     "  scopes TEXT NOT NULL DEFAULT '',\n"
     "  disabled INTEGER NOT NULL DEFAULT 0,\n"
     "  password_hash TEXT,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL,\n"
     "  deleted_at BIGINT);\n"
     "CREATE TABLE scopes (\n"
     "  name TEXT PRIMARY KEY,\n"
     "  description TEXT NOT NULL DEFAULT '',\n"
     "  builtin INTEGER NOT NULL DEFAULT 0);\n"
     "CREATE TABLE policy (\n"
     "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
     "  max_lifetime_days INTEGER NOT NULL,\n"
     "  allow_no_expiry INTEGER NOT NULL,\n"
     "  default_lifetime_days INTEGER NOT NULL,\n"
     "  max_tokens_per_user INTEGER NOT NULL,\n"
     "  revoke_on_reuse INTEGER NOT NULL);\n"
     "CREATE TABLE tokens (\n"
     "  seq @seq@,\n"
     "  id TEXT NOT NULL UNIQUE,\n"
     "  user_id TEXT NOT NULL REFERENCES users (id),\n"
     "  name TEXT NOT NULL,\n"
     "  description TEXT NOT NULL DEFAULT '',\n"
     "  scopes TEXT NOT NULL,\n"
     "  audiences TEXT NOT NULL DEFAULT '',\n"
     "  allowed_cidrs TEXT NOT NULL DEFAULT '',\n"
     "  hint TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT,\n"
     "  revoked_at BIGINT,\n"
     "  revoked_reason TEXT,\n"
     "  last_used_at BIGINT,\n"
     "  last_used_ip TEXT,\n"
     "  recent_ips TEXT NOT NULL DEFAULT '');\n"
     "CREATE UNIQUE INDEX tokens_live_name ON tokens (user_id, name)\n"
     "  WHERE revoked_at IS NULL;\n"
     "CREATE INDEX tokens_user ON tokens (user_id, seq);\n"
     "CREATE TABLE secrets (\n"
     "  hash @blob@ PRIMARY KEY,\n"
     "  token_id TEXT NOT NULL REFERENCES tokens (id),\n"
     "  created_at BIGINT NOT NULL,\n"
     "  retire_at BIGINT)@without_rowid@;\n"
     "CREATE INDEX secrets_token ON secrets (token_id);\n"
     "CREATE TABLE audit (\n"
     "  seq @seq@,\n"
     "  at BIGINT NOT NULL,\n"
     "  actor_user_id TEXT,\n"
     "  actor_token_id TEXT,\n"
     "  ip TEXT,\n"
     "  user_agent TEXT,\n"
     "  action TEXT NOT NULL,\n"
     "  target_user_id TEXT,\n"
     "  target_token_id TEXT,\n"
     "  detail TEXT NOT NULL DEFAULT '{}');\n"
     "CREATE INDEX audit_target_user ON audit (target_user_id, seq);\n"
     "CREATE INDEX audit_actor_user ON audit (actor_user_id, seq);\n"},
    {2, "web sessions",
     "CREATE TABLE sessions (\n"
     "  hash @blob@ PRIMARY KEY,\n"
     "  user_id TEXT NOT NULL REFERENCES users (id),\n"
     "  csrf TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL)@without_rowid@;\n"
     "CREATE INDEX sessions_user ON sessions (user_id);\n"},
    /*
     * The change feed (DESIGN.md section 12). Its seq never goes back,
     * even when pruning empties the table, so that a reader that tails it
     * by seq misses nothing.
     */
    {3, "change feed",
     "CREATE TABLE changes (\n"
     "  seq @seq_monotonic@,\n"
     "  at BIGINT NOT NULL,\n"
     "  type TEXT NOT NULL,\n"
     "  actor TEXT NOT NULL,\n"
     "  user_id TEXT,\n"
     "  token_id TEXT,\n"
     "  evict INTEGER NOT NULL DEFAULT 0,\n"
     "  data TEXT NOT NULL DEFAULT '{}');\n"
     "CREATE INDEX changes_at ON changes (at);\n"
     "CREATE INDEX changes_token ON changes (token_id, seq);\n"},
    /*
     * A user's sessions are listed and ended by a public id that is not
     * the cookie nor its hash. Sessions from before had none and could
     * not be named: they end here (their users sign in again once).
     * seq orders a user's sessions by creation, also within one second.
     */
    {4, "session ids",
     "DELETE FROM sessions;\n"
     "ALTER TABLE sessions ADD COLUMN id TEXT;\n"
     "ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';\n"
     "ALTER TABLE sessions ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;\n"
     "CREATE UNIQUE INDEX sessions_id ON sessions (id);\n"
     "CREATE INDEX sessions_user_seq ON sessions (user_id, seq);\n"
     "CREATE INDEX sessions_expires ON sessions (expires_at);\n"},
    /*
     * Counting a user's live tokens (the policy's limit, at every
     * creation) went through every token the user ever had: a soak with
     * one busy user slowed creation from 195 to 50 a second in ten
     * minutes. The live ones alone are indexed here.
     */
    {5, "live tokens by user",
     "CREATE INDEX tokens_user_live ON tokens (user_id)"
     " WHERE revoked_at IS NULL;\n"},
    /*
     * Token exchange (DESIGN.md section 10): the JWT signing keys, their
     * private part sealed under the key-encryption key, and one row per
     * issued JWT. A row's idx is its place in the status lists, never
     * used twice; its secret_hash is the PAT secret it was exchanged for,
     * so that regenerating the PAT (which retires that secret) kills it.
     */
    {6, "token exchange",
     "CREATE TABLE signing_keys (\n"
     "  kid TEXT PRIMARY KEY,\n"
     "  alg TEXT NOT NULL,\n"
     "  public_jwk TEXT NOT NULL,\n"
     "  private_sealed TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  active_at BIGINT NOT NULL,\n"
     "  retired_at BIGINT);\n"
     "CREATE TABLE exchanges (\n"
     "  idx @seq_monotonic@,\n"
     "  jti TEXT NOT NULL UNIQUE,\n"
     "  token_id TEXT NOT NULL,\n"
     "  user_id TEXT NOT NULL,\n"
     "  secret_hash @blob@ NOT NULL,\n"
     "  kid TEXT NOT NULL,\n"
     "  issued_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL);\n"
     "CREATE INDEX exchanges_token ON exchanges (token_id, issued_at);\n"
     "CREATE INDEX exchanges_user ON exchanges (user_id, issued_at);\n"
     "CREATE INDEX exchanges_expires ON exchanges (expires_at);\n"},
    /*
     * Webhooks and notices (DESIGN.md section 12, docs/webhooks.md). An
     * endpoint carries its own delivery state: cursor is the feed seq it
     * has been given (or that matched none of its types), attempt and
     * next_at_ms the retries of the row after it, and lease_* the node
     * that delivers to it now (a claim with an expiry, so a killed
     * node's endpoints are taken over). webhook_outbox holds the one-off
     * sends (tests, redeliveries). notices records each expiry notice
     * once per token and kind: its key is what makes it once; mailed_at
     * says it was in its owner's daily digest (mail_log: one a day).
     */
    {7, "webhooks and notices",
     "CREATE TABLE webhooks (\n"
     "  seq @seq@,\n"
     "  id TEXT NOT NULL UNIQUE,\n"
     "  url TEXT NOT NULL,\n"
     "  events TEXT NOT NULL,\n"
     "  description TEXT NOT NULL DEFAULT '',\n"
     "  secret TEXT NOT NULL,\n"
     "  enabled INTEGER NOT NULL DEFAULT 1,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL,\n"
     "  feed_cursor BIGINT NOT NULL DEFAULT 0,\n"
     "  attempt INTEGER NOT NULL DEFAULT 0,\n"
     "  next_at_ms BIGINT NOT NULL DEFAULT 0,\n"
     "  failing_since BIGINT,\n"
     "  disabled_reason TEXT NOT NULL DEFAULT '',\n"
     "  lease_node TEXT NOT NULL DEFAULT '',\n"
     "  lease_until_ms BIGINT NOT NULL DEFAULT 0);\n"
     "CREATE TABLE webhook_outbox (\n"
     "  seq @seq@,\n"
     "  endpoint_id TEXT NOT NULL,\n"
     "  msg_id TEXT NOT NULL,\n"
     "  event_seq BIGINT NOT NULL DEFAULT 0,\n"
     "  type TEXT NOT NULL,\n"
     "  body TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL);\n"
     "CREATE INDEX webhook_outbox_endpoint ON webhook_outbox"
     " (endpoint_id, seq);\n"
     "CREATE TABLE webhook_attempts (\n"
     "  seq @seq@,\n"
     "  id TEXT NOT NULL UNIQUE,\n"
     "  endpoint_id TEXT NOT NULL,\n"
     "  msg_id TEXT NOT NULL,\n"
     "  event_seq BIGINT NOT NULL DEFAULT 0,\n"
     "  type TEXT NOT NULL,\n"
     "  at_ms BIGINT NOT NULL,\n"
     "  node TEXT NOT NULL,\n"
     "  result TEXT NOT NULL,\n"
     "  status INTEGER NOT NULL DEFAULT 0,\n"
     "  latency_ms BIGINT NOT NULL DEFAULT 0,\n"
     "  response TEXT NOT NULL DEFAULT '',\n"
     "  error TEXT NOT NULL DEFAULT '',\n"
     "  manual INTEGER NOT NULL DEFAULT 0);\n"
     "CREATE INDEX webhook_attempts_endpoint ON webhook_attempts"
     " (endpoint_id, seq);\n"
     "CREATE INDEX webhook_attempts_at ON webhook_attempts (at_ms);\n"
     "CREATE TABLE notices (\n"
     "  token_id TEXT NOT NULL,\n"
     "  kind TEXT NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  mailed_at BIGINT,\n"
     "  PRIMARY KEY (token_id, kind));\n"
     "CREATE TABLE mail_log (\n"
     "  user_id TEXT NOT NULL,\n"
     "  kind TEXT NOT NULL,\n"
     "  day BIGINT NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (user_id, kind, day));\n"},
    /*
     * Governance (DESIGN.md section 13): service accounts, approvals of
     * sensitive scopes, per-token use and rate limits, and the notice
     * before an unused token is revoked. Every default keeps what was
     * there before: people, no approval, no limits, hygiene off.
     */
    {8, "governance",
     "ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person'"
     " CHECK (kind IN ('person', 'service'));\n"
     "ALTER TABLE tokens ADD COLUMN approval TEXT NOT NULL DEFAULT ''"
     " CHECK (approval IN ('', 'pending', 'approved', 'denied',"
     " 'expired'));\n"
     "ALTER TABLE tokens ADD COLUMN approval_reason TEXT NOT NULL"
     " DEFAULT '';\n"
     "ALTER TABLE tokens ADD COLUMN decided_by TEXT;\n"
     "ALTER TABLE tokens ADD COLUMN decided_at BIGINT;\n"
     "ALTER TABLE tokens ADD COLUMN max_uses BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE tokens ADD COLUMN uses_left BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE tokens ADD COLUMN rate_limit BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE tokens ADD COLUMN rate_window BIGINT NOT NULL DEFAULT 0;\n"
     "ALTER TABLE tokens ADD COLUMN unused_notice_at BIGINT;\n"
     "CREATE INDEX tokens_pending ON tokens (seq)"
     " WHERE approval = 'pending' AND revoked_at IS NULL;\n"
     "ALTER TABLE policy ADD COLUMN approval_required_scopes TEXT NOT NULL"
     " DEFAULT '';\n"
     "ALTER TABLE policy ADD COLUMN pending_max_age_seconds BIGINT NOT NULL"
     " DEFAULT 604800;\n"
     "ALTER TABLE policy ADD COLUMN revoke_unused_after_days INTEGER NOT NULL"
     " DEFAULT 0;\n"
     "ALTER TABLE policy ADD COLUMN service_allow_no_expiry INTEGER NOT NULL"
     " DEFAULT 0;\n"},
    /*
     * Single sign-on and SCIM (DESIGN.md section 11): the built-in scope
     * patd:scim for stores made before it (init writes it for new ones);
     * attributes that bind a user to an identity provider (the OpenID
     * subject, the SCIM externalId and userName); and one-time grants
     * (a sign-in's state, nonce and PKCE verifier; patctl's approved
     * code), each taken once by the hash of its handle.
     */
    {9, "single sign-on and scim",
     "INSERT INTO scopes (name, description, builtin)\n"
     "  SELECT 'patd:scim', 'Provision users through SCIM 2.0', 1\n"
     "  WHERE EXISTS (SELECT 1 FROM settings WHERE key = 'token_prefix')\n"
     "  ON CONFLICT (name) DO NOTHING;\n"
     "CREATE TABLE user_attrs (\n"
     "  user_id TEXT NOT NULL REFERENCES users (id),\n"
     "  name TEXT NOT NULL,\n"
     "  value TEXT NOT NULL,\n"
     "  PRIMARY KEY (user_id, name));\n"
     "CREATE INDEX user_attrs_value ON user_attrs (name, value);\n"
     "CREATE TABLE grants (\n"
     "  key TEXT PRIMARY KEY,\n"
     "  kind TEXT NOT NULL,\n"
     "  data TEXT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL);\n"
     "CREATE INDEX grants_expires ON grants (expires_at);\n"},
};

#define N_MIGRATIONS (int)(sizeof(migrations) / sizeof(migrations[0]))

int
pat_store_schema_latest(void)
{
    return migrations[N_MIGRATIONS - 1].version;
}

int
pat_store_schema_count(void)
{
    return N_MIGRATIONS;
}

int
pat__migrate(struct pat_store *st)
{
    int version = 0, i, rc;
    char *sql = NULL;

    st->migrations_applied = 0;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        return rc;
    rc = pat__db_schema_version(st, &version);
    if (rc != PAT_OK)
        goto out;
    if (version > pat_store_schema_latest()) {
        rc = pat__fail(st, PAT_ESCHEMA,
                       "store schema version %d is newer than this "
                       "program's %d",
                       version, pat_store_schema_latest());
        goto out;
    }
    for (i = 0; i < N_MIGRATIONS; i++) {
        const struct migration *m = &migrations[i];

        if (m->version <= version)
            continue;
        sql = pat__sql_expand(st->drv->dialect, m->sql, NULL);
        if (sql == NULL) {
            rc = PAT_ENOMEM;
            goto out;
        }
        rc = st->drv->exec(st, sql);
        free(sql);
        sql = NULL;
        if (rc == PAT_OK)
            rc = pat__db_schema_record(st, m->version, m->name,
                                       pat_store_now(st));
        if (rc != PAT_OK)
            goto out;
        version = m->version;
        st->migrations_applied++;
    }
    rc = pat__tx_commit(st);
    if (rc == PAT_OK)
        st->schema_version = version;
    return rc;
out:
    pat__tx_rollback(st);
    st->migrations_applied = 0;
    return rc;
}
