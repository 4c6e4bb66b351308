/* SPDX-License-Identifier: MIT */
/*
 * The objects of the model (DESIGN.md section 3) as plain structs with
 * fixed-size fields. Every field is bounded by the limits below, so a
 * struct can be filled from the store or a request without allocation and
 * copied by value. Timestamps are Unix seconds in UTC; 0 means "none"
 * (never expires, not revoked, never used). Lists of scopes, audiences and
 * address ranges are single strings of space-separated items, sorted and
 * without duplicates.
 */
#ifndef PAT_TYPES_H
#define PAT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAT_ID_LEN         20 /* "tok_" or "usr_" + 16 base62 */
#define PAT_ID_RANDOM      16
#define PAT_USERNAME_MAX   64
#define PAT_DISPLAY_MAX    200 /* bytes of UTF-8 */
#define PAT_EMAIL_MAX      254
#define PAT_NAME_MAX_CHARS 100
#define PAT_NAME_MAX       (PAT_NAME_MAX_CHARS * 4) /* bytes of UTF-8 */
#define PAT_DESC_MAX       1024                     /* bytes of UTF-8 */
#define PAT_SCOPE_MAX      64
#define PAT_SCOPES_MAX     50
#define PAT_SCOPESTR_MAX   (PAT_SCOPES_MAX * (PAT_SCOPE_MAX + 1))
#define PAT_SCOPE_DESC_MAX 200
#define PAT_AUDIENCE_MAX   128
#define PAT_AUDIENCES_MAX  10
#define PAT_AUDSTR_MAX     (PAT_AUDIENCES_MAX * (PAT_AUDIENCE_MAX + 1))
#define PAT_CIDR_MAX       43 /* "ffff:...:ffff/128" */
#define PAT_CIDRS_MAX      16
#define PAT_CIDRSTR_MAX    (PAT_CIDRS_MAX * (PAT_CIDR_MAX + 1))
#define PAT_IP_MAX         45
#define PAT_RECENT_IPS     5
#define PAT_RECENTSTR_MAX  (PAT_RECENT_IPS * (PAT_IP_MAX + 1))
#define PAT_REASON_MAX     32
#define PAT_ACTION_MAX     48
#define PAT_UA_MAX         256
#define PAT_DETAIL_MAX                                                         \
    4096 /* fits a full scope list (PAT_SCOPESTR_MAX) and a name */
#define PAT_GRACE_MAX      (7 * 86400) /* longest regeneration overlap */
#define PAT_REUSE_RECORD_S 60    /* a reuse is recorded once a token a minute */
#define PAT_LIFETIME_CAP   36500 /* days; no policy may exceed it */

enum pat_role { PAT_ROLE_USER = 0, PAT_ROLE_ADMIN = 1 };

/* Who owns tokens (DESIGN.md section 13): a person or a service account. */
enum pat_user_kind { PAT_KIND_PERSON = 0, PAT_KIND_SERVICE = 1 };

/*
 * Where a token stands with the approval of its scopes (DESIGN.md
 * section 13). NONE: no approval was needed. A denied or expired request
 * is also revoked (reasons "denied" and "approval_expired").
 */
enum pat_approval {
    PAT_APPROVAL_NONE = 0,
    PAT_APPROVAL_PENDING = 1,
    PAT_APPROVAL_APPROVED = 2,
    PAT_APPROVAL_DENIED = 3,
    PAT_APPROVAL_EXPIRED = 4,
};

#define PAT_APPROVAL_REASON_MAX 500     /* bytes of UTF-8 */
#define PAT_RATE_LIMIT_MAX      1000000 /* requests per window */
#define PAT_RATE_WINDOW_MAX     86400   /* seconds */
#define PAT_MAX_USES_MAX        1000000000LL

enum pat_status {
    PAT_STATUS_ACTIVE = 1,
    PAT_STATUS_EXPIRED = 2,
    PAT_STATUS_REVOKED = 4,
    PAT_STATUS_ALL = 7,
};

struct pat_user {
    int64_t seq; /* store order; list cursors are built from it */
    char id[PAT_ID_LEN + 1];
    char username[PAT_USERNAME_MAX + 1];
    char display_name[PAT_DISPLAY_MAX + 1];
    char email[PAT_EMAIL_MAX + 1];
    int role;                          /* enum pat_role */
    char scopes[PAT_SCOPESTR_MAX + 1]; /* what the user may grant */
    bool disabled;
    bool has_password;
    int64_t created_at;
    int64_t updated_at;
    int64_t deleted_at;
    int kind; /* enum pat_user_kind */
};

struct pat_token {
    int64_t seq;
    char id[PAT_ID_LEN + 1];
    char user_id[PAT_ID_LEN + 1];
    char name[PAT_NAME_MAX + 1];
    char description[PAT_DESC_MAX + 1];
    char scopes[PAT_SCOPESTR_MAX + 1];
    char audiences[PAT_AUDSTR_MAX + 1];
    char allowed_cidrs[PAT_CIDRSTR_MAX + 1];
    char hint[5]; /* last 4 characters of the current secret */
    int64_t created_at;
    int64_t expires_at; /* 0: never */
    int64_t revoked_at; /* 0: not revoked */
    char revoked_reason[PAT_REASON_MAX + 1];
    int64_t last_used_at;
    char last_used_ip[PAT_IP_MAX + 1];
    char recent_ips[PAT_RECENTSTR_MAX + 1]; /* newest first */
    /* Governance (DESIGN.md section 13, migration 8). */
    int approval;                                      /* enum pat_approval */
    char approval_reason[PAT_APPROVAL_REASON_MAX + 1]; /* a denial's */
    char decided_by[PAT_ID_LEN + 1]; /* the admin; "" for the system */
    int64_t decided_at;
    int64_t max_uses;  /* 0: unlimited */
    int64_t uses_left; /* while max_uses > 0 */
    int rate_limit;    /* requests per rate_window seconds; 0: none */
    int rate_window;
    int64_t unused_notice_at; /* the hygiene notice; 0: none */
};

struct pat_policy {
    int max_lifetime_days;     /* 1..PAT_LIFETIME_CAP */
    bool allow_no_expiry;      /* tokens without expires_at */
    int default_lifetime_days; /* 1..max_lifetime_days */
    int max_tokens_per_user;   /* active tokens, 1..1000000 */
    bool revoke_on_reuse;      /* a reused retired secret revokes */
    /* Governance (DESIGN.md section 13). */
    char approval_required_scopes[PAT_SCOPESTR_MAX + 1]; /* "": none */
    int64_t pending_max_age_seconds; /* a pending request expires after */
    int revoke_unused_after_days;    /* 0: off */
    bool service_allow_no_expiry;    /* service accounts' tokens */
};

/* Who performs a change, for rules and for the audit trail. */
struct pat_actor {
    const char *user_id;  /* NULL: the system (local admin command) */
    const char *token_id; /* set when acting through a PAT */
    /*
     * When acting through a PAT: its effective scopes and expiry. A token
     * can only mint tokens within both (self-service minting).
     */
    const char *token_scopes;
    int64_t token_expires_at;
    const char *ip;         /* may be NULL */
    const char *user_agent; /* may be NULL */
    /*
     * Set by an administrator's on-behalf route (POST
     * /v1/users/{id}/tokens): what is minted is bounded by the target
     * user's allowed scopes and the policy, not by the calling token's
     * own scopes and expiry (DESIGN.md section 3). The caller must have
     * checked that the actor is an administrator.
     */
    bool on_behalf;
};

/* How long a new or regenerated token lives; at most one field is set. */
struct pat_expiry {
    int64_t at; /* absolute expiry; 0: not given (the epoch is -1) */
    int days;   /* from now */
    bool never; /* only where the policy allows it */
};

/*
 * A web session as its user may see it: never the cookie nor its hash.
 * id is "ses_" + 16 base62, random, and cannot be used as a cookie.
 */
struct pat_session {
    char id[PAT_ID_LEN + 1];
    int64_t created_at;
    int64_t expires_at;
    char ip[PAT_IP_MAX + 1];
    char user_agent[PAT_UA_MAX + 1];
    bool current; /* the session the list was asked through */
};

struct pat_audit {
    int64_t seq;
    int64_t at;
    char actor_user_id[PAT_ID_LEN + 1];
    char actor_token_id[PAT_ID_LEN + 1];
    char ip[PAT_IP_MAX + 1];
    char user_agent[PAT_UA_MAX + 1];
    char action[PAT_ACTION_MAX + 1];
    char target_user_id[PAT_ID_LEN + 1];
    char target_token_id[PAT_ID_LEN + 1];
    char detail[PAT_DETAIL_MAX + 1]; /* a JSON object; never a secret */
};

#endif
