/* SPDX-License-Identifier: MIT */
/*
 * Export and import of a whole store (include/pat/transfer.h), to move
 * from SQLite to PostgreSQL with nothing lost. One JSON object a line,
 * each with a "kind":
 *
 *   header   {"kind":"patd-export","format":1,"schema_version":N,...}
 *   setting  the token prefix
 *   policy   the one policy row
 *   scope    each catalog entry, built-in ones included
 *   user     every user, deleted ones too, with its argon2id string and
 *            "attrs": what binds it to an identity provider (user_attrs:
 *            OpenID subject, SCIM userName, externalId, name parts), an
 *            object of name to value; a line without it has none
 *   token    every token, with revocation and usage
 *   secret   every secret: its token, SHA-256 in hex, creation, retirement
 *   audit    every event, its detail kept as the JSON text it was
 *   end      the counts of the lines above, so that a cut file is refused
 *
 * Times are Unix seconds (null: none), so that nothing is rounded. Lines
 * come in this order, which is also the order rows must be written in
 * (tokens name users, secrets name tokens).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "internal.h"
#include "store/store_int.h"
#include "pat/transfer.h"

#define FORMAT 1
#define PAGE   64

/* The order of the kinds in a file. */
enum rank {
    R_HEADER,
    R_SETTING,
    R_POLICY,
    R_SCOPE,
    R_USER,
    R_TOKEN,
    R_SECRET,
    R_AUDIT,
    R_END,
    R_NONE
};

static const char *const kinds[] = {"patd-export", "setting", "policy",
                                    "scope",       "user",    "token",
                                    "secret",      "audit",   "end"};

/* The export's sink and what went through it. */
struct out {
    pat_export_cb cb;
    void *arg;
    struct pat_transfer_counts n;
};

/* A time as JSON: 0 ("none") is null. */
static json_t *
jtime(int64_t t)
{
    return t == 0 ? json_null() : json_integer((json_int_t)t);
}

/* Optional text: "" is null. */
static json_t *
jopt(const char *s)
{
    return s == NULL || s[0] == '\0' ? json_null() : json_string(s);
}

/*
 * The governance members (DESIGN.md section 13, migration 8) of a token
 * line: an object, absent from exports made before them.
 */
static json_t *
token_governance(const struct pat_token *t)
{
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:I, s:I, s:i, s:i, s:o}", "approval",
        pat__approval_name(t->approval), "approval_reason", t->approval_reason,
        "decided_by", jopt(t->decided_by), "decided_at", jtime(t->decided_at),
        "max_uses", (json_int_t)t->max_uses, "uses_left",
        (json_int_t)t->uses_left, "rate_limit", t->rate_limit, "rate_window",
        t->rate_window, "unused_notice_at", jtime(t->unused_notice_at));
}

/* Writes o (consumed) as one line. */
static int
emit(struct out *o, json_t *v)
{
    char *line;
    int rc;

    if (v == NULL)
        return PAT_ENOMEM;
    line = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (line == NULL)
        return PAT_ENOMEM;
    rc = o->cb(o->arg, line, strlen(line));
    free(line);
    return rc;
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
export_head(struct pat_store *st, struct out *o)
{
    struct pat_policy pol;
    char at[PAT_TIME_LEN + 1] = "";
    int rc;

    pat_time_format(pat_store_now(st), at, sizeof(at));
    rc = emit(o, json_pack("{s:s, s:i, s:i, s:s, s:s}", "kind", kinds[R_HEADER],
                           "format", FORMAT, "schema_version",
                           pat_store_schema_version(st), "backend",
                           st->drv->name, "exported_at", at));
    if (rc == PAT_OK)
        rc = emit(o, json_pack("{s:s, s:s, s:s}", "kind", kinds[R_SETTING],
                               "key", "token_prefix", "value", st->prefix));
    if (rc == PAT_OK)
        rc = pat__db_policy_get(st, &pol);
    if (rc != PAT_OK)
        return rc;
    return emit(
        o, json_pack(
               "{s:s, s:i, s:b, s:i, s:i, s:b, s:{s:s, s:I, s:i, s:b}}", "kind",
               kinds[R_POLICY], "max_lifetime_days", pol.max_lifetime_days,
               "allow_no_expiry", pol.allow_no_expiry, "default_lifetime_days",
               pol.default_lifetime_days, "max_tokens_per_user",
               pol.max_tokens_per_user, "revoke_on_reuse", pol.revoke_on_reuse,
               "governance", "approval_required_scopes",
               pol.approval_required_scopes, "pending_max_age_seconds",
               (json_int_t)pol.pending_max_age_seconds,
               "revoke_unused_after_days", pol.revoke_unused_after_days,
               "service_allow_no_expiry", pol.service_allow_no_expiry));
}

/* The catalog holds at most 200 operator scopes and the built-in ones. */
static int
export_scopes(struct pat_store *st, struct out *o)
{
    struct pat_scope *sc = calloc(512, sizeof(*sc));
    size_t n = 0, i;
    int rc = sc ? pat__db_scope_list(st, sc, 512, &n) : PAT_ENOMEM;

    for (i = 0; rc == PAT_OK && i < n; i++) {
        rc = emit(o, json_pack("{s:s, s:s, s:s, s:b}", "kind", kinds[R_SCOPE],
                               "name", sc[i].name, "description",
                               sc[i].description, "builtin", sc[i].builtin));
        o->n.scopes++;
    }
    free(sc);
    return rc;
}

/* Adds one attribute to the object arg. */
static int
attr_add(void *arg, const char *name, const char *value)
{
    return json_object_set_new(arg, name, json_string(value)) == 0 ? PAT_OK
                                                                   : PAT_ENOMEM;
}

static int
export_user(struct pat_store *st, struct out *o, const struct pat_user *u)
{
    char pw[512] = "";
    json_t *v, *attrs = json_object();
    int rc = attrs ? PAT_OK : PAT_ENOMEM;

    if (rc == PAT_OK)
        rc = pat__db_attr_list(st, u->id, attr_add, attrs);
    if (rc == PAT_OK && u->has_password)
        rc = pat__db_user_password_get(st, u->id, pw, sizeof(pw));
    if (rc != PAT_OK) {
        json_decref(attrs);
        return rc;
    }
    v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:o, "
                  "s:o, s:o}",
                  "kind", kinds[R_USER], "id", u->id, "username", u->username,
                  "display_name", u->display_name, "email", u->email, "role",
                  u->role == PAT_ROLE_ADMIN ? "admin" : "user", "scopes",
                  u->scopes, "disabled", u->disabled, "created_at",
                  (json_int_t)u->created_at, "updated_at",
                  (json_int_t)u->updated_at, "deleted_at", jtime(u->deleted_at),
                  "password_hash", jopt(pw), "attrs", attrs);
    OPENSSL_cleanse(pw, sizeof(pw));
    if (v != NULL && u->kind == PAT_KIND_SERVICE)
        json_object_set_new(v, "user_kind", json_string("service"));
    o->n.users++;
    return emit(o, v);
}

static int
export_users(struct pat_store *st, struct out *o)
{
    struct pat_user *u = calloc(PAGE, sizeof(*u));
    int64_t after = 0;
    size_t n = PAGE, i;
    int rc = u ? PAT_OK : PAT_ENOMEM;

    while (rc == PAT_OK && n == PAGE) {
        rc = pat__db_user_dump(st, after, u, PAGE, &n);
        for (i = 0; rc == PAT_OK && i < n; i++) {
            rc = export_user(st, o, &u[i]);
            after = u[i].seq;
        }
    }
    free(u);
    return rc;
}

static int
export_token(struct out *o, const struct pat_token *t)
{
    json_t *v;

    o->n.tokens++;
    v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, "
                  "s:o, s:o, s:o, s:o, s:s}",
                  "kind", kinds[R_TOKEN], "id", t->id, "user_id", t->user_id,
                  "name", t->name, "description", t->description, "scopes",
                  t->scopes, "audiences", t->audiences, "allowed_cidrs",
                  t->allowed_cidrs, "hint", t->hint, "created_at",
                  (json_int_t)t->created_at, "expires_at", jtime(t->expires_at),
                  "revoked_at", jtime(t->revoked_at), "revoked_reason",
                  jopt(t->revoked_reason), "last_used_at",
                  jtime(t->last_used_at), "last_used_ip", jopt(t->last_used_ip),
                  "recent_ips", t->recent_ips);
    if (v != NULL)
        json_object_set_new(v, "governance", token_governance(t));
    return emit(o, v);
}

static int
export_tokens(struct pat_store *st, struct out *o)
{
    struct pat_token *t = calloc(PAGE, sizeof(*t));
    struct pat_token_filter f;
    size_t n = PAGE, i;
    int rc = t ? PAT_OK : PAT_ENOMEM;

    memset(&f, 0, sizeof(f));
    f.status = PAT_STATUS_ALL;
    while (rc == PAT_OK && n == PAGE) {
        rc = pat__db_token_list(st, &f, pat_store_now(st), t, PAGE, &n);
        for (i = 0; rc == PAT_OK && i < n; i++) {
            rc = export_token(o, &t[i]);
            f.after = t[i].seq;
        }
    }
    free(t);
    return rc;
}

static int
export_secrets(struct pat_store *st, struct out *o)
{
    struct pat_secret *s = calloc(PAGE * 16, sizeof(*s));
    uint8_t after[PAT_HASH_LEN];
    char h[2 * PAT_HASH_LEN + 1];
    size_t n = PAGE * 16, i;
    bool first = true;
    int rc = s ? PAT_OK : PAT_ENOMEM;

    while (rc == PAT_OK && n == PAGE * 16) {
        rc = pat__db_secret_dump(st, first ? NULL : after, s, PAGE * 16, &n);
        for (i = 0; rc == PAT_OK && i < n; i++) {
            hex(s[i].hash, PAT_HASH_LEN, h);
            rc = emit(o, json_pack("{s:s, s:s, s:s, s:I, s:o}", "kind",
                                   kinds[R_SECRET], "token_id", s[i].token_id,
                                   "sha256", h, "created_at",
                                   (json_int_t)s[i].created_at, "retire_at",
                                   jtime(s[i].retire_at)));
            memcpy(after, s[i].hash, PAT_HASH_LEN);
            first = false;
            o->n.secrets++;
        }
    }
    free(s);
    return rc;
}

static int
export_audit(struct pat_store *st, struct out *o)
{
    struct pat_audit *ev = calloc(PAGE * 4, sizeof(*ev));
    struct pat_audit_filter f;
    size_t n = PAGE * 4, i;
    int rc = ev ? PAT_OK : PAT_ENOMEM;

    memset(&f, 0, sizeof(f));
    while (rc == PAT_OK && n == PAGE * 4) {
        rc = pat__db_audit_list(st, &f, ev, PAGE * 4, &n);
        for (i = 0; rc == PAT_OK && i < n; i++) {
            const struct pat_audit *e = &ev[i];
            rc = emit(o,
                      json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:s, s:o, "
                                "s:o, s:s}",
                                "kind", kinds[R_AUDIT], "at", (json_int_t)e->at,
                                "actor_user_id", jopt(e->actor_user_id),
                                "actor_token_id", jopt(e->actor_token_id), "ip",
                                jopt(e->ip), "user_agent", jopt(e->user_agent),
                                "action", e->action, "target_user_id",
                                jopt(e->target_user_id), "target_token_id",
                                jopt(e->target_token_id), "detail",
                                e->detail[0] ? e->detail : "{}"));
            f.after = e->seq;
            o->n.audit++;
        }
    }
    free(ev);
    return rc;
}

int
pat_store_export(struct pat_store *st, pat_export_cb cb, void *arg,
                 struct pat_transfer_counts *counts)
{
    struct out o;
    int rc;

    memset(&o, 0, sizeof(o));
    o.cb = cb;
    o.arg = arg;
    rc = pat__need_init(st);
    if (rc == PAT_OK)
        rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = export_head(st, &o);
    if (rc == PAT_OK)
        rc = export_scopes(st, &o);
    if (rc == PAT_OK)
        rc = export_users(st, &o);
    if (rc == PAT_OK)
        rc = export_tokens(st, &o);
    if (rc == PAT_OK)
        rc = export_secrets(st, &o);
    if (rc == PAT_OK)
        rc = export_audit(st, &o);
    if (rc == PAT_OK)
        rc = emit(&o, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "kind",
                                kinds[R_END], "scopes", (json_int_t)o.n.scopes,
                                "users", (json_int_t)o.n.users, "tokens",
                                (json_int_t)o.n.tokens, "secrets",
                                (json_int_t)o.n.secrets, "audit",
                                (json_int_t)o.n.audit));
    /* Read only: the transaction was for a consistent view. */
    pat__tx_rollback(st);
out:
    if (counts != NULL)
        *counts = o.n;
    return rc;
}

/* Import. */

/* The line being read, for the error messages. */
struct in {
    struct pat_store *st;
    long line;
    json_t *o;
    enum rank last;
    struct pat_transfer_counts n;
};

static int
bad(struct in *in, const char *what, const char *field)
{
    return pat__fail(in->st, PAT_EINVAL, "line %ld: %s '%s'", in->line, what,
                     field);
}

/* A string field into dst[cap]; null gives "" when nullable. */
static int
get_str(struct in *in, const char *key, bool nullable, char *dst, size_t cap)
{
    json_t *v = json_object_get(in->o, key);

    if (v == NULL)
        return bad(in, "missing field", key);
    if (json_is_null(v) && nullable) {
        dst[0] = '\0';
        return PAT_OK;
    }
    if (!json_is_string(v))
        return bad(in, "field is not a string:", key);
    if (json_string_length(v) >= cap ||
        strlen(json_string_value(v)) != json_string_length(v))
        return bad(in, "field is too long or holds a NUL:", key);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return PAT_OK;
}

/* A whole number field; null gives 0 (no time) when nullable. */
static int
get_int(struct in *in, const char *key, bool nullable, int64_t *out)
{
    json_t *v = json_object_get(in->o, key);

    if (v == NULL)
        return bad(in, "missing field", key);
    if (json_is_null(v) && nullable) {
        *out = 0;
        return PAT_OK;
    }
    if (!json_is_integer(v))
        return bad(in, "field is not a whole number:", key);
    *out = (int64_t)json_integer_value(v);
    return PAT_OK;
}

static int
get_bool(struct in *in, const char *key, bool *out)
{
    json_t *v = json_object_get(in->o, key);

    if (!json_is_boolean(v))
        return bad(in, "missing or not a boolean:", key);
    *out = json_is_true(v);
    return PAT_OK;
}

static int
get_small(struct in *in, const char *key, int *out)
{
    int64_t v = 0;
    int rc = get_int(in, key, false, &v);

    if (rc == PAT_OK && (v < 0 || v > 1000000000))
        return bad(in, "field out of range:", key);
    *out = (int)v;
    return rc;
}

/* An id of kind ("usr_", "tok_"); "" is allowed when nullable. */
static int
get_id(struct in *in, const char *key, const char *kind, bool nullable,
       char *dst, size_t cap)
{
    int rc = get_str(in, key, nullable, dst, cap);

    if (rc != PAT_OK || (nullable && dst[0] == '\0'))
        return rc;
    if (strlen(dst) != PAT_ID_LEN || strncmp(dst, kind, 4) != 0)
        return bad(in, "not an id:", key);
    return PAT_OK;
}

static int
unhex(struct in *in, const char *s, uint8_t *out, size_t n)
{
    size_t i;

    if (strlen(s) != 2 * n)
        return bad(in, "not a SHA-256 in hex:", "sha256");
    for (i = 0; i < 2 * n; i++) {
        char ch = s[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return bad(in, "not a SHA-256 in hex:", "sha256");
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(d << 4);
        else
            out[i / 2] |= (uint8_t)d;
    }
    return PAT_OK;
}

/*
 * The user or token id names must exist already (SQLite, unlike
 * PostgreSQL, does not check references).
 */
static int
known(struct in *in, const char *what, const char *id)
{
    union {
        struct pat_user u;
        struct pat_token t;
    } *row = malloc(sizeof(*row));
    int rc;

    if (row == NULL)
        return PAT_ENOMEM;
    rc = strcmp(what, "user") == 0 ? pat__db_user_get(in->st, id, &row->u)
                                   : pat__db_token_get(in->st, id, &row->t);
    free(row);
    if (rc == PAT_ENOTFOUND)
        return pat__fail(in->st, PAT_EINVAL,
                         "line %ld: no %s '%s' before this line", in->line,
                         what, id);
    return rc;
}

static int
import_header(struct in *in)
{
    int64_t format = 0, schema = 0;
    int rc = get_int(in, "format", false, &format);

    if (rc == PAT_OK)
        rc = get_int(in, "schema_version", false, &schema);
    if (rc != PAT_OK)
        return rc;
    if (format != FORMAT)
        return pat__fail(in->st, PAT_EINVAL,
                         "line %ld: export format %lld; this program reads "
                         "format %d",
                         in->line, (long long)format, FORMAT);
    if (schema > pat_store_schema_latest())
        return pat__fail(in->st, PAT_ESCHEMA,
                         "line %ld: exported from schema version %lld, newer "
                         "than this program's %d",
                         in->line, (long long)schema,
                         pat_store_schema_latest());
    return PAT_OK;
}

static int
import_setting(struct in *in)
{
    char key[64], value[PAT_PREFIX_MAX + 1];
    int rc = get_str(in, "key", false, key, sizeof(key));

    if (rc == PAT_OK && strcmp(key, "token_prefix") != 0)
        return bad(in, "unknown setting", key);
    if (rc == PAT_OK)
        rc = get_str(in, "value", false, value, sizeof(value));
    if (rc == PAT_OK && pat_prefix_check(value) != PAT_OK)
        return bad(in, "invalid token prefix", value);
    if (rc == PAT_OK)
        rc = pat__db_setting_put(in->st, key, value);
    return rc;
}

/*
 * The optional "governance" object of a token line (absent from exports
 * made before migration 8: the defaults stay), read with the field
 * helpers by pointing in->o at it for the while.
 */
static int
import_token_governance(struct in *in, struct pat_token *t)
{
    json_t *line = in->o, *g = json_object_get(line, "governance");
    char approval[16];
    int64_t limit = 0, window = 0;
    int rc;

    if (g == NULL)
        return PAT_OK;
    if (!json_is_object(g))
        return bad(in, "field is not an object:", "governance");
    in->o = g;
    rc = get_str(in, "approval", false, approval, sizeof(approval));
    t->approval = pat__approval_parse(approval);
    if (rc == PAT_OK && approval[0] != '\0' && t->approval == PAT_APPROVAL_NONE)
        rc = bad(in, "invalid approval", approval);
    if (rc == PAT_OK)
        rc = get_str(in, "approval_reason", false, t->approval_reason,
                     sizeof(t->approval_reason));
    if (rc == PAT_OK)
        rc = get_id(in, "decided_by", "usr_", true, t->decided_by,
                    sizeof(t->decided_by));
    if (rc == PAT_OK)
        rc = get_int(in, "decided_at", true, &t->decided_at);
    if (rc == PAT_OK)
        rc = get_int(in, "max_uses", false, &t->max_uses);
    if (rc == PAT_OK)
        rc = get_int(in, "uses_left", false, &t->uses_left);
    if (rc == PAT_OK)
        rc = get_int(in, "rate_limit", false, &limit);
    if (rc == PAT_OK)
        rc = get_int(in, "rate_window", false, &window);
    if (rc == PAT_OK)
        rc = get_int(in, "unused_notice_at", true, &t->unused_notice_at);
    in->o = line;
    if (rc == PAT_OK &&
        (t->max_uses < 0 || t->max_uses > PAT_MAX_USES_MAX ||
         t->uses_left < 0 || t->uses_left > t->max_uses || limit < 0 ||
         limit > PAT_RATE_LIMIT_MAX || window < 0 ||
         window > PAT_RATE_WINDOW_MAX || (limit == 0) != (window == 0)))
        return bad(in, "governance limits out of range:", "governance");
    t->rate_limit = (int)limit;
    t->rate_window = (int)window;
    return rc;
}

/* The optional "governance" object of the policy line. */
static int
import_policy_governance(struct in *in, struct pat_policy *p)
{
    json_t *line = in->o, *g = json_object_get(line, "governance");
    int64_t age = 0;
    int rc;

    if (g == NULL)
        return PAT_OK;
    if (!json_is_object(g))
        return bad(in, "field is not an object:", "governance");
    in->o = g;
    rc = get_str(in, "approval_required_scopes", false,
                 p->approval_required_scopes,
                 sizeof(p->approval_required_scopes));
    if (rc == PAT_OK)
        rc = get_int(in, "pending_max_age_seconds", false, &age);
    if (rc == PAT_OK)
        rc = get_small(in, "revoke_unused_after_days",
                       &p->revoke_unused_after_days);
    if (rc == PAT_OK)
        rc = get_bool(in, "service_allow_no_expiry",
                      &p->service_allow_no_expiry);
    in->o = line;
    p->pending_max_age_seconds = age;
    return rc;
}

static int
import_policy(struct in *in)
{
    struct pat_policy p;
    int rc;

    /* Exports made before migration 8 have no governance: the defaults. */
    pat_policy_defaults(&p);
    rc = get_small(in, "max_lifetime_days", &p.max_lifetime_days);

    if (rc == PAT_OK)
        rc = get_bool(in, "allow_no_expiry", &p.allow_no_expiry);
    if (rc == PAT_OK)
        rc = get_small(in, "default_lifetime_days", &p.default_lifetime_days);
    if (rc == PAT_OK)
        rc = get_small(in, "max_tokens_per_user", &p.max_tokens_per_user);
    if (rc == PAT_OK)
        rc = get_bool(in, "revoke_on_reuse", &p.revoke_on_reuse);
    if (rc == PAT_OK)
        rc = import_policy_governance(in, &p);
    if (rc == PAT_OK && pat_policy_check(&p) != PAT_OK)
        return bad(in, "policy out of range:", "policy");
    if (rc == PAT_OK)
        rc = pat__db_policy_put(in->st, &p);
    return rc;
}

static int
import_scope(struct in *in)
{
    struct pat_scope sc;
    int rc = get_str(in, "name", false, sc.name, sizeof(sc.name));

    if (rc == PAT_OK && pat_scope_name_check(sc.name) != PAT_OK)
        return bad(in, "invalid scope name", sc.name);
    if (rc == PAT_OK)
        rc = get_str(in, "description", false, sc.description,
                     sizeof(sc.description));
    if (rc == PAT_OK)
        rc = get_bool(in, "builtin", &sc.builtin);
    if (rc == PAT_OK)
        rc = pat__db_scope_put(in->st, &sc);
    in->n.scopes++;
    return rc;
}

/* The user's "attrs" object (optional), written for user_id. */
static int
import_attrs(struct in *in, const char *user_id)
{
    json_t *attrs = json_object_get(in->o, "attrs"), *v;
    const char *name;
    size_t i;
    int rc = PAT_OK;

    if (attrs == NULL || json_is_null(attrs))
        return PAT_OK;
    if (!json_is_object(attrs))
        return bad(in, "not an object:", "attrs");
    json_object_foreach(attrs, name, v)
    {
        size_t len = strlen(name);

        if (len == 0 || len > PAT_ATTR_NAME_MAX)
            return bad(in, "invalid attribute name", "attrs");
        for (i = 0; i < len; i++) {
            if (!((name[i] >= 'a' && name[i] <= 'z') ||
                  (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
                return bad(in, "invalid attribute name", "attrs");
        }
        if (!json_is_string(v) || strlen(json_string_value(v)) > PAT_ATTR_MAX)
            return bad(in, "invalid attribute value", name);
        rc = pat__db_attr_put(in->st, user_id, name, json_string_value(v));
        if (rc != PAT_OK)
            return rc;
    }
    return rc;
}

static int
import_user(struct in *in)
{
    struct pat_user u;
    char role[8], pw[512];
    int rc;

    memset(&u, 0, sizeof(u));
    rc = get_id(in, "id", "usr_", false, u.id, sizeof(u.id));
    if (rc == PAT_OK)
        rc = get_str(in, "username", false, u.username, sizeof(u.username));
    if (rc == PAT_OK)
        rc = get_str(in, "display_name", false, u.display_name,
                     sizeof(u.display_name));
    if (rc == PAT_OK)
        rc = get_str(in, "email", false, u.email, sizeof(u.email));
    if (rc == PAT_OK)
        rc = get_str(in, "role", false, role, sizeof(role));
    if (rc == PAT_OK && strcmp(role, "admin") != 0 && strcmp(role, "user") != 0)
        return bad(in, "invalid role", role);
    u.role = strcmp(role, "admin") == 0 ? PAT_ROLE_ADMIN : PAT_ROLE_USER;
    if (rc == PAT_OK)
        rc = get_str(in, "scopes", false, u.scopes, sizeof(u.scopes));
    if (rc == PAT_OK)
        rc = get_bool(in, "disabled", &u.disabled);
    if (rc == PAT_OK)
        rc = get_int(in, "created_at", false, &u.created_at);
    if (rc == PAT_OK)
        rc = get_int(in, "updated_at", false, &u.updated_at);
    if (rc == PAT_OK)
        rc = get_int(in, "deleted_at", true, &u.deleted_at);
    if (rc == PAT_OK)
        rc = get_str(in, "password_hash", true, pw, sizeof(pw));
    if (rc == PAT_OK) {
        json_t *k = json_object_get(in->o, "user_kind");
        if (k != NULL &&
            pat_user_kind_parse(json_string_value(k), &u.kind) != PAT_OK)
            rc = bad(in, "invalid user_kind", "user_kind");
    }
    if (rc == PAT_OK)
        rc = pat__db_user_restore(in->st, &u, pw[0] ? pw : NULL);
    if (rc == PAT_OK && u.kind == PAT_KIND_SERVICE)
        rc = pat__db_user_kind_set(in->st, u.id, "service");
    if (rc == PAT_OK)
        rc = import_attrs(in, u.id);
    if (rc == PAT_OK)
        in->n.users++;
    OPENSSL_cleanse(pw, sizeof(pw));
    return rc;
}

static int
import_token(struct in *in)
{
    struct pat_token *t = calloc(1, sizeof(*t));
    int rc = t ? PAT_OK : PAT_ENOMEM;

    if (rc == PAT_OK)
        rc = get_id(in, "id", "tok_", false, t->id, sizeof(t->id));
    if (rc == PAT_OK)
        rc = get_id(in, "user_id", "usr_", false, t->user_id,
                    sizeof(t->user_id));
    if (rc == PAT_OK)
        rc = get_str(in, "name", false, t->name, sizeof(t->name));
    if (rc == PAT_OK)
        rc = get_str(in, "description", false, t->description,
                     sizeof(t->description));
    if (rc == PAT_OK)
        rc = get_str(in, "scopes", false, t->scopes, sizeof(t->scopes));
    if (rc == PAT_OK)
        rc =
            get_str(in, "audiences", false, t->audiences, sizeof(t->audiences));
    if (rc == PAT_OK)
        rc = get_str(in, "allowed_cidrs", false, t->allowed_cidrs,
                     sizeof(t->allowed_cidrs));
    if (rc == PAT_OK)
        rc = get_str(in, "hint", false, t->hint, sizeof(t->hint));
    if (rc == PAT_OK)
        rc = get_int(in, "created_at", false, &t->created_at);
    if (rc == PAT_OK)
        rc = get_int(in, "expires_at", true, &t->expires_at);
    if (rc == PAT_OK)
        rc = get_int(in, "revoked_at", true, &t->revoked_at);
    if (rc == PAT_OK)
        rc = get_str(in, "revoked_reason", true, t->revoked_reason,
                     sizeof(t->revoked_reason));
    if (rc == PAT_OK)
        rc = get_int(in, "last_used_at", true, &t->last_used_at);
    if (rc == PAT_OK)
        rc = get_str(in, "last_used_ip", true, t->last_used_ip,
                     sizeof(t->last_used_ip));
    if (rc == PAT_OK)
        rc = get_str(in, "recent_ips", false, t->recent_ips,
                     sizeof(t->recent_ips));
    if (rc == PAT_OK)
        rc = import_token_governance(in, t);
    if (rc == PAT_OK)
        rc = known(in, "user", t->user_id);
    if (rc == PAT_OK)
        rc = pat__db_token_restore(in->st, t);
    if (rc == PAT_OK && (t->approval != PAT_APPROVAL_NONE || t->max_uses ||
                         t->rate_limit || t->unused_notice_at))
        rc = pat__db_token_gov_set(in->st, t);
    if (rc == PAT_OK)
        in->n.tokens++;
    free(t);
    return rc;
}

static int
import_secret(struct in *in)
{
    struct pat_secret s;
    char h[2 * PAT_HASH_LEN + 1];
    int rc =
        get_id(in, "token_id", "tok_", false, s.token_id, sizeof(s.token_id));

    if (rc == PAT_OK)
        rc = get_str(in, "sha256", false, h, sizeof(h));
    if (rc == PAT_OK)
        rc = unhex(in, h, s.hash, PAT_HASH_LEN);
    if (rc == PAT_OK)
        rc = get_int(in, "created_at", false, &s.created_at);
    if (rc == PAT_OK)
        rc = get_int(in, "retire_at", true, &s.retire_at);
    if (rc == PAT_OK)
        rc = known(in, "token", s.token_id);
    if (rc == PAT_OK)
        rc = pat__db_secret_restore(in->st, &s);
    if (rc == PAT_OK)
        in->n.secrets++;
    return rc;
}

static int
import_audit(struct in *in)
{
    struct pat_audit *ev = calloc(1, sizeof(*ev));
    int rc = ev ? PAT_OK : PAT_ENOMEM;

    if (rc == PAT_OK)
        rc = get_int(in, "at", false, &ev->at);
    if (rc == PAT_OK)
        rc = get_id(in, "actor_user_id", "usr_", true, ev->actor_user_id,
                    sizeof(ev->actor_user_id));
    if (rc == PAT_OK)
        rc = get_id(in, "actor_token_id", "tok_", true, ev->actor_token_id,
                    sizeof(ev->actor_token_id));
    if (rc == PAT_OK)
        rc = get_str(in, "ip", true, ev->ip, sizeof(ev->ip));
    if (rc == PAT_OK)
        rc = get_str(in, "user_agent", true, ev->user_agent,
                     sizeof(ev->user_agent));
    if (rc == PAT_OK)
        rc = get_str(in, "action", false, ev->action, sizeof(ev->action));
    if (rc == PAT_OK)
        rc = get_id(in, "target_user_id", "usr_", true, ev->target_user_id,
                    sizeof(ev->target_user_id));
    if (rc == PAT_OK)
        rc = get_id(in, "target_token_id", "tok_", true, ev->target_token_id,
                    sizeof(ev->target_token_id));
    if (rc == PAT_OK)
        rc = get_str(in, "detail", false, ev->detail, sizeof(ev->detail));
    if (rc == PAT_OK)
        rc = pat__db_audit_insert(in->st, ev);
    if (rc == PAT_OK)
        in->n.audit++;
    free(ev);
    return rc;
}

/* The end line: its counts must be what was read. */
static int
import_end(struct in *in)
{
    const struct {
        const char *key;
        int64_t have;
    } c[] = {{"scopes", in->n.scopes},
             {"users", in->n.users},
             {"tokens", in->n.tokens},
             {"secrets", in->n.secrets},
             {"audit", in->n.audit}};
    size_t i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int64_t want = 0;
        int rc = get_int(in, c[i].key, false, &want);
        if (rc != PAT_OK)
            return rc;
        if (want != c[i].have)
            return pat__fail(in->st, PAT_EINVAL,
                             "line %ld: the export has %lld %s, %lld were "
                             "read",
                             in->line, (long long)want, c[i].key,
                             (long long)c[i].have);
    }
    return PAT_OK;
}

static enum rank
rank_of(const char *kind)
{
    size_t i;

    for (i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i], kind) == 0)
            return (enum rank)i;
    }
    return R_NONE;
}

/* Parses and writes one line; kinds must come in the file's order. */
static int
import_line(struct in *in, const char *line, size_t len)
{
    static int (*const fns[])(struct in *) = {
        import_header, import_setting, import_policy, import_scope, import_user,
        import_token,  import_secret,  import_audit,  import_end};
    json_error_t jerr;
    enum rank r;
    int rc;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    in->o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(in->o)) {
        rc = pat__fail(in->st, PAT_EINVAL, "line %ld: not a JSON object: %s",
                       in->line, jerr.text);
        goto out;
    }
    r = rank_of(json_string_value(json_object_get(in->o, "kind")));
    if (r == R_NONE) {
        rc = bad(in, "unknown kind of line:", "kind");
        goto out;
    }
    /* One header first, one end last, the others in their order. */
    if (in->last == R_NONE
            ? r != R_HEADER
            : r < in->last || in->last == R_END ||
                  (r == in->last &&
                   (r == R_HEADER || r == R_SETTING || r == R_POLICY))) {
        rc = pat__fail(in->st, PAT_EINVAL,
                       "line %ld: a '%s' line is out of place", in->line,
                       kinds[r]);
        goto out;
    }
    in->last = r;
    rc = fns[r](in);
out:
    json_decref(in->o);
    in->o = NULL;
    return rc;
}

/* The target holds nothing yet: no prefix, no user. */
static int
import_target_empty(struct pat_store *st)
{
    struct pat_user u;
    char probe[PAT_PREFIX_MAX + 1];
    size_t n = 0;
    int rc = pat__db_setting_get(st, "token_prefix", probe, sizeof(probe));

    if (rc == PAT_OK)
        return pat__fail(st, PAT_EINITED,
                         "the target store is initialised: "
                         "import needs an empty one");
    if (rc != PAT_ENOTFOUND)
        return rc;
    rc = pat__db_user_dump(st, 0, &u, 1, &n);
    if (rc == PAT_OK && n > 0)
        return pat__fail(st, PAT_EINITED,
                         "the target store has users: "
                         "import needs an empty one");
    return rc;
}

static int
import_all(struct in *in, pat_import_cb next, void *arg)
{
    char detail[PAT_DETAIL_MAX + 1];
    const char *line;
    size_t len;
    int rc;

    for (;;) {
        rc = next(arg, &line, &len);
        if (rc == PAT_ENOTFOUND)
            break;
        if (rc != PAT_OK)
            return rc;
        in->line++;
        rc = import_line(in, line, len);
        if (rc != PAT_OK)
            return rc;
    }
    if (in->last != R_END)
        return pat__fail(in->st, PAT_EINVAL,
                         "the export ends after line %ld without its 'end' "
                         "line: it is incomplete",
                         in->line);
    rc = pat__load_prefix(in->st);
    if (rc == PAT_ENOTFOUND)
        return pat__fail(in->st, PAT_EINVAL, "the export has no token prefix");
    if (rc != PAT_OK)
        return rc;
    pat__detail(detail, sizeof(detail), "{s:I, s:I, s:I, s:I}", "users",
                (json_int_t)in->n.users, "tokens", (json_int_t)in->n.tokens,
                "secrets", (json_int_t)in->n.secrets, "audit",
                (json_int_t)in->n.audit);
    return pat__audit(in->st, NULL, "store.imported", NULL, NULL, detail);
}

int
pat_store_import(struct pat_store *st, pat_import_cb next, void *arg,
                 struct pat_transfer_counts *counts)
{
    struct in in;
    int rc;

    memset(&in, 0, sizeof(in));
    in.st = st;
    in.last = R_NONE;
    rc = pat__tx_begin(st);
    if (rc != PAT_OK)
        goto out;
    rc = import_target_empty(st);
    if (rc == PAT_OK)
        rc = import_all(&in, next, arg);
    if (rc == PAT_OK)
        rc = pat__tx_commit(st);
    else
        pat__tx_rollback(st);
    if (rc != PAT_OK)
        st->prefix[0] = '\0';
out:
    if (counts != NULL)
        *counts = in.n;
    return rc;
}
