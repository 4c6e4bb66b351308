#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# patctl token exchange against a real patd with a key-encryption key:
# the JWT alone on stdout, --json, --scope narrowing (several make one
# scope), --audience and --resource, and the refusals (a scope the token
# lacks, an audience it is not valid for, a bad resource, no token).
#
#     exchange_test.sh PATH_TO_PATD PATH_TO_PATCTL

. "$(dirname "$0")/lib.sh" "$@"

export PATD_JWT_KEK=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
start_patd x
export PATCTL_URL=$URL PATCTL_TOKEN=$ADMIN

claims() { # JWT -> its payload as JSON
    py -c '
import base64, sys
p = sys.argv[1].split(".")[1]
print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$1"
}

expect_exit 0 pc token exchange
JWT=$OUT
expect_match '^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$JWT" \
    "the JWT alone on stdout"
expect_eq "patd:admin patd:self" "$(claims "$JWT" | json 'd["scope"]')" \
    "all the token's scopes by default"
expect_eq "200" "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $JWT" "$URL/v1/auth")" "the JWT passes /v1/auth"

expect_exit 0 pc token exchange --scope patd:self --json
expect_eq "patd:self Bearer" "$(printf '%s' "$OUT" | json '[d["scope"], d["token_type"]]')" \
    "--scope narrows; --json gives the whole answer"
expect_exit 0 pc token exchange --scope patd:self --scope patd:admin
expect_eq "patd:admin patd:self" "$(claims "$OUT" | json 'd["scope"]')" \
    "several --scope make one scope"
expect_exit 0 pc token exchange --audience api.example --resource https://api.example/v1
expect_eq "api.example https://api.example/v1" \
    "$(claims "$OUT" | json 'sorted(d["aud"])')" "--audience and --resource make aud"

expect_exit 1 pc token exchange --scope nope:x
expect_err "invalid_scope"
expect_exit 1 pc token exchange --resource not-a-uri
expect_err "invalid_target"
expect_exit 2 pc token exchange extra
unset PATCTL_TOKEN
expect_exit 1 pc token exchange
finish
