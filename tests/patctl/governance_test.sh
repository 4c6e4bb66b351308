#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Governance from the command line (DESIGN.md section 13) against a real
# patd: `patd user add --kind service`, `patctl user create --service`
# and `user list --service`, and the approval queue (`patctl tokens
# pending|approve|deny`), with the refusals and their exit statuses.
#
#     governance_test.sh PATH_TO_PATD PATH_TO_PATCTL
#
# Prints "N passed, M failed" last; exits nonzero if anything failed.

. "$(dirname "$0")/lib.sh" "$@"

# jget FIELD: FIELD of the JSON object in $OUT.
jget() {
    python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$OUT" "$1"
}

# api METHOD PATH TOKEN [BODY]: curl, the answer in OUT.
api() {
    run curl -s -X "$1" -H "Authorization: Bearer $3" \
        -H 'Content-Type: application/json' ${4:+--data "$4"} "$URL$2"
}

start_patd gov
export PATCTL_URL=$URL

# --- service accounts -------------------------------------------------------

expect_exit 0 "$PATD" user add deploy-bot --kind service --db "$TMPD/gov.db"
expect_match 'kind: +service' "$OUT" "patd user add --kind service"
expect_exit 2 "$PATD" user add x --kind robot --db "$TMPD/gov.db"
PATCTL_TOKEN=$ADMIN expect_exit 0 pc user create ci-bot --service --json
check "patctl user create --service: kind service" test "$(jget kind)" == service
PATCTL_TOKEN=$ADMIN expect_exit 2 pc user create other --service --password
PATCTL_TOKEN=$ADMIN expect_exit 0 pc user list --service --json
expect_match '"ci-bot"' "$OUT" "the service list has ci-bot"
expect_match '"deploy-bot"' "$OUT" "the service list has deploy-bot"
[[ $OUT == *'"admin"'* ]] && fail "the service list has a person" ||
    ok "the service list has no person"

# --- approvals ----------------------------------------------------------------

expect_exit 0 "$PATD" scope add repo:write --db "$TMPD/gov.db"
api PUT /v1/policy "$ADMIN" '{"max_lifetime_days":366,"allow_no_expiry":false,"default_lifetime_days":30,"max_tokens_per_user":1000,"revoke_on_reuse":false,"approval_required_scopes":["repo:write"]}'
expect_match 'repo:write' "$OUT" "the policy asks approval for repo:write"
api POST /v1/users "$ADMIN" '{"username":"alice","scopes":["patd:self","repo:write"]}'
ALICE_ID=$(jget id)
api POST "/v1/users/$ALICE_ID/tokens" "$ADMIN" '{"name":"master","scopes":["patd:self","repo:write"]}'
ALICE=$(jget token)
check "alice has a token" token_ok "$ALICE"

PATCTL_TOKEN=$ALICE expect_exit 0 pc token create --name push --scope repo:write --json
P1=$(jget id)
check "created pending" test "$(jget status)" == pending
PATCTL_TOKEN=$ALICE expect_exit 0 pc token create --name push2 --scope repo:write --json
P2=$(jget id)

PATCTL_TOKEN=$ADMIN expect_exit 0 pc tokens pending --json
expect_match "$P1" "$OUT" "pending lists the first request"
expect_match "$P2" "$OUT" "pending lists the second request"
PATCTL_TOKEN=$ADMIN expect_exit 0 pc tokens pending
expect_match 'push2' "$OUT" "pending prints a table"
PATCTL_TOKEN=$ALICE expect_exit 1 pc tokens pending
PATCTL_TOKEN=$ADMIN expect_exit 2 pc tokens pending --reason x
PATCTL_TOKEN=$ADMIN expect_exit 2 pc tokens approve
PATCTL_TOKEN=$ADMIN expect_exit 2 pc tokens approve "$P1" --reason x

PATCTL_TOKEN=$ADMIN expect_exit 0 pc tokens approve "$P1"
expect_match "Approved token $P1" "$OUT" "approve says so"
PATCTL_TOKEN=$ADMIN expect_exit 1 pc tokens approve "$P1"
expect_match 'conflict' "$ERR" "a second decision is a conflict"
PATCTL_TOKEN=$ADMIN expect_exit 0 pc tokens deny "$P2" --reason "use the mirror" --json
expect_match '"denied"' "$OUT" "deny answers the denied token"
expect_match 'use the mirror' "$OUT" "with its reason"
PATCTL_TOKEN=$ADMIN expect_exit 0 pc tokens pending --json
[[ $OUT == *"$P1"* || $OUT == *"$P2"* ]] && fail "the queue is not empty" ||
    ok "the queue is empty"

finish
