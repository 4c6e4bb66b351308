#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# patctl webhook ... against a real patd (docs/webhooks.md): add (the
# secret printed once), list, show (no secret), test, deliveries (the
# test's attempt, refused by a port nothing listens on), redeliver,
# secret, disable, enable, delete, and the refusals (bad URL, unknown
# event type, usage errors).
#
#     webhook_test.sh PATH_TO_PATD PATH_TO_PATCTL

. "$(dirname "$0")/lib.sh" "$@"

start_patd w
export PATCTL_URL=$URL PATCTL_TOKEN=$ADMIN
DEAD=http://127.0.0.1:$(free_port)/hook

expect_exit 0 pc webhook add "$DEAD" --event token.created --event \
    token.revoked --description "ci hook" --json
ID=$(printf '%s' "$OUT" | json 'd["id"]')
SECRET=$(printf '%s' "$OUT" | json 'd["secret"]')
expect_match '^whsec_[A-Za-z0-9+/]{43}=$' "$SECRET" "add prints the secret"
expect_eq 'token.created token.revoked' \
    "$(printf '%s' "$OUT" | json '" ".join(d["events"])')" "add: events"
expect_exit 0 pc webhook add "$DEAD" --event token.created
expect_out "shown this once"

expect_exit 0 pc webhook list && expect_out "$ID"
expect_no_secret "$SECRET"
expect_exit 0 pc webhook show "$ID" && expect_out "ci hook"
expect_no_secret "$SECRET"
expect_exit 0 pc webhook list --json
expect_eq "2" "$(printf '%s' "$OUT" | json 'len(d["items"])')" "list --json"

expect_exit 0 pc webhook test "$ID" && expect_out "queued"
# The sender tries it once: nothing listens there.
for _ in $(seq 1 100); do
    run pc webhook deliveries "$ID" --json
    [ "$(printf '%s' "$OUT" | json 'len(d["items"])')" = 1 ] && break
    sleep 0.1
done
expect_eq "error webhook.test" "$(printf '%s' "$OUT" |
    json '" ".join([d["items"][0]["result"], d["items"][0]["type"]])')" \
    "deliveries: the test's attempt, refused"
DLV=$(printf '%s' "$OUT" | json 'd["items"][0]["id"]')
expect_exit 0 pc webhook deliveries "$ID" && expect_out "RESULT"
expect_exit 0 pc webhook redeliver "$ID" "$DLV" && expect_out "queued"
expect_exit 1 pc webhook redeliver "$ID" whd_nothere00000000
expect_err "not_found"
expect_exit 2 pc webhook redeliver "$ID" '../x'

expect_exit 0 pc webhook secret "$ID" --json
NEW=$(printf '%s' "$OUT" | json 'd["secret"]')
check "secret: a new one" test "$NEW" != "$SECRET"

expect_exit 0 pc webhook disable "$ID" --json
expect_eq "false" "$(printf '%s' "$OUT" | json 'd["enabled"]')" "disable"
expect_exit 0 pc webhook enable "$ID" --json
expect_eq "true" "$(printf '%s' "$OUT" | json 'd["enabled"]')" "enable"

expect_exit 1 pc webhook add "ftp://example.com/" --event token.created
expect_err "invalid_url"
expect_exit 1 pc webhook add "http://u:p@example.com/" --event token.created
expect_err "invalid_url"
expect_exit 1 pc webhook add "$DEAD" --event token.nonsense
expect_err "invalid_events"
expect_exit 2 pc webhook add "$DEAD"
expect_exit 2 pc webhook show
expect_exit 2 pc webhook deliveries "$ID" --limit 0
expect_exit 1 pc webhook show whk_nothere000000000 && expect_err "not_found"

expect_exit 0 pc webhook delete "$ID" && expect_out "Deleted webhook"
expect_exit 1 pc webhook show "$ID"
expect_exit 0 pc webhook list --json
expect_eq "1" "$(printf '%s' "$OUT" | json 'len(d["items"])')" "one left"

finish
