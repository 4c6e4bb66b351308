/* SPDX-License-Identifier: MIT */
/*
 * How each kind of patd object looks to a person: the "label: value"
 * view of one user or token, and the table columns of each list. The
 * command files pick from here, so a token looks the same whether it
 * came from self-service or from the admin inventory.
 */
#ifndef PATCTL_VIEWS_H
#define PATCTL_VIEWS_H

#include "list.h"
#include "output.h"

extern const struct field view_user_fields[];
extern const struct field view_token_fields[];

extern const struct list_view view_my_tokens;  /* patctl token list */
extern const struct list_view view_all_tokens; /* patctl tokens list */
extern const struct list_view view_users;      /* patctl user list */
extern const struct list_view view_audit;      /* patctl audit */

#endif
