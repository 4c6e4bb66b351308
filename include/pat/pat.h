/* SPDX-License-Identifier: MIT */
/* libpat: personal access tokens, hashed at rest, scoped and auditable. */
#ifndef PAT_PAT_H
#define PAT_PAT_H

#include "err.h"
#include "format.h"
#include "types.h"
#include "store.h"
#include "user.h"
#include "scope.h"
#include "policy.h"
#include "token.h"
#include "audit.h"
#include "feed.h"
#include "verify.h"
#include "session.h"
#include "text.h"
#include "transfer.h"
#include "sso.h"
#include "governance.h"
#include "webhook.h"

#endif
