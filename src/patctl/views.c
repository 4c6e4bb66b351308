/* SPDX-License-Identifier: MIT */
/*
 * The views of views.h. Tables keep the widest column (scopes) last,
 * where it can run on without pushing the others out of line; missing
 * times read "never" where that is what null means (expiry, last use).
 */
#include <string.h>

#include "views.h"
#include "banned.h"

const struct field view_user_fields[] = {
    {"id", "id", "-"},
    {"username", "username", "-"},
    {"display name", "display_name", "-"},
    {"email", "email", "-"},
    {"role", "role", "-"},
    {"scopes", "scopes", "-"},
    {"disabled", "disabled", "-"},
    {"created", "created_at", "-"},
    {"updated", "updated_at", "-"},
    {"kind", "kind", "person"},
    {NULL, NULL, NULL},
};

const struct field view_token_fields[] = {
    {"id", "id", "-"},
    {"name", "name", "-"},
    {"description", "description", "-"},
    {"user", "user_id", "-"},
    {"scopes", "scopes", "-"},
    {"audiences", "audiences", "any"},
    {"allowed CIDRs", "allowed_cidrs", "any"},
    {"ends with", "hint", "-"},
    {"status", "status", "-"},
    {"created", "created_at", "-"},
    {"expires", "expires_at", "never"},
    {"last used", "last_used_at", "never"},
    {"last used from", "last_used_ip", "-"},
    {"revoked", "revoked_at", "-"},
    {"revoked reason", "revoked_reason", "-"},
    {NULL, NULL, NULL},
};

/* Member key of item as a cell. */
static void
cell(char *out, const json_t *item, const char *key, const char *none)
{
    char tmp[CELL_MAX];
    const char *v =
        render_value(json_object_get(item, key), none, tmp, sizeof(tmp));

    snprintf(out, CELL_MAX, "%s", v);
}

static void
my_token_row(const json_t *t, char (*cells)[CELL_MAX])
{
    cell(cells[0], t, "id", "-");
    cell(cells[1], t, "name", "-");
    cell(cells[2], t, "status", "-");
    cell(cells[3], t, "expires_at", "never");
    cell(cells[4], t, "last_used_at", "never");
    cell(cells[5], t, "scopes", "-");
}

static const char *const my_token_heads[] = {
    "ID", "NAME", "STATUS", "EXPIRES", "LAST USED", "SCOPES",
};

const struct list_view view_my_tokens = {
    my_token_heads,
    sizeof(my_token_heads) / sizeof(my_token_heads[0]),
    my_token_row,
    "No tokens found.",
};

static void
all_token_row(const json_t *t, char (*cells)[CELL_MAX])
{
    cell(cells[0], t, "id", "-");
    cell(cells[1], t, "user_id", "-");
    cell(cells[2], t, "name", "-");
    cell(cells[3], t, "status", "-");
    cell(cells[4], t, "expires_at", "never");
    cell(cells[5], t, "last_used_at", "never");
    cell(cells[6], t, "scopes", "-");
}

static const char *const all_token_heads[] = {
    "ID", "USER", "NAME", "STATUS", "EXPIRES", "LAST USED", "SCOPES",
};

const struct list_view view_all_tokens = {
    all_token_heads,
    sizeof(all_token_heads) / sizeof(all_token_heads[0]),
    all_token_row,
    "No tokens found.",
};

static void
user_row(const json_t *u, char (*cells)[CELL_MAX])
{
    cell(cells[0], u, "id", "-");
    cell(cells[1], u, "username", "-");
    cell(cells[2], u, "role", "-");
    snprintf(cells[3], CELL_MAX, "%s",
             json_is_true(json_object_get(u, "disabled")) ? "disabled"
                                                          : "enabled");
    cell(cells[4], u, "email", "-");
    cell(cells[5], u, "scopes", "-");
}

static const char *const user_heads[] = {
    "ID", "USERNAME", "ROLE", "STATE", "EMAIL", "SCOPES",
};

const struct list_view view_users = {
    user_heads,
    sizeof(user_heads) / sizeof(user_heads[0]),
    user_row,
    "No users found.",
};

/* The first of the members keys of item that is set, or none. */
static void
first_of(char *out, const json_t *item, const char *const *keys,
         const char *none)
{
    char tmp[CELL_MAX];

    for (; *keys != NULL; keys++) {
        if (render_value(json_object_get(item, *keys), NULL, tmp,
                         sizeof(tmp)) != NULL) {
            snprintf(out, CELL_MAX, "%s", tmp);
            return;
        }
    }
    snprintf(out, CELL_MAX, "%s", none);
}

static void
audit_row(const json_t *ev, char (*cells)[CELL_MAX])
{
    static const char *const actor[] = {"actor_user_id", "actor_token_id",
                                        NULL};
    static const char *const target[] = {"target_token_id", "target_user_id",
                                         NULL};

    cell(cells[0], ev, "id", "-");
    cell(cells[1], ev, "at", "-");
    cell(cells[2], ev, "action", "-");
    /* No user and no token acted: patd itself did (expiry, bootstrap). */
    first_of(cells[3], ev, actor, "system");
    first_of(cells[4], ev, target, "-");
    cell(cells[5], ev, "ip", "-");
}

static const char *const audit_heads[] = {
    "ID", "AT", "ACTION", "ACTOR", "TARGET", "IP",
};

const struct list_view view_audit = {
    audit_heads,
    sizeof(audit_heads) / sizeof(audit_heads[0]),
    audit_row,
    "No audit events found.",
};
