#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# patctl against a real patd: initialises a store, serves it on a free
# loopback port, and drives every patctl command through it, first with
# PATCTL_URL/PATCTL_TOKEN, then with the config file `patctl login`
# writes. Also the refusals: unknown ids, bad tokens, usage errors, a
# server that is down, a config file others can read, an answer over the
# 8 MiB cap.
#
#     patctl_test.sh PATH_TO_PATD PATH_TO_PATCTL
#
# Prints "N passed, M failed" last; exits nonzero if anything failed.
# VERBOSE=1 shows every passing check too.

. "$(dirname "$0")/lib.sh" "$@"

TOKEN_RE='^pat_[0-9A-Za-z]{38}$'

# --- a store and a server ---------------------------------------------------

start_patd p

# --- environment: PATCTL_URL and PATCTL_TOKEN -------------------------------

export PATCTL_URL=$URL PATCTL_TOKEN=$ADMIN
expect_exit 0 pc whoami && expect_out "admin"
expect_no_secret "$ADMIN"
expect_exit 0 pc whoami --json
expect_eq "admin admin" "$(printf '%s' "$OUT" | json '[d["username"], d["role"]]')" \
    "whoami --json: username and role"
ADMIN_ID=$(printf '%s' "$OUT" | json 'd["id"]')
expect_match '^usr_' "$ADMIN_ID" "whoami --json: user id"
# Options may come before the command as well.
expect_exit 0 pc --json whoami
expect_exit 0 pc --url "$URL/" whoami

# --- login and the config file ----------------------------------------------

unset PATCTL_URL PATCTL_TOKEN
expect_exit 1 pc whoami && expect_err "not logged in"

BAD=$(unknown_token)
printf '%s\n%s\n' "$URL" "$BAD" >"$TMPD/login.bad"
run_in "$TMPD/login.bad" pc login
expect_eq 1 "$RC" "login with an unknown token is refused"
expect_err "invalid_token"
expect_no_secret "$BAD"
check "a refused login writes no config" test ! -e "$CONFIG"

printf '%s\n%s\n' "$URL" "$ADMIN" >"$TMPD/login.in"
run_in "$TMPD/login.in" pc login
expect_eq 0 "$RC" "login with URL and token on stdin"
expect_out "admin"
expect_no_secret "$ADMIN"
expect_eq 600 "$(stat -c %a "$CONFIG" 2>/dev/null)" "config file mode 0600"
expect_eq 700 "$(stat -c %a "$(dirname "$CONFIG")" 2>/dev/null)" \
    "config directory mode 0700"
check "config holds the URL" grep -qx "url = $URL" "$CONFIG"

expect_exit 0 pc whoami && expect_out "$ADMIN_ID"
expect_exit 0 pc audit --mine --limit 1 --json

# The file's token only goes to the file's server.
PATCTL_URL=http://127.0.0.1:9 run pc whoami
expect_eq 1 "$RC" "config token withheld from another server"
expect_err "is for"
expect_no_secret "$ADMIN"

# A config file others can read is refused, as ssh does with keys.
chmod 644 "$CONFIG"
expect_exit 1 pc whoami && expect_err "accessible by other users"
chmod 600 "$CONFIG"

# --token-file overrides the file's token.
printf '%s\n' "$BAD" >"$TMPD/bad.token"
expect_exit 1 pc --token-file "$TMPD/bad.token" whoami &&
    expect_err "invalid_token"
printf '%s\n' "$ADMIN" >"$TMPD/admin.token"
expect_exit 0 pc whoami --token-file "$TMPD/admin.token"

# --- self-service tokens ----------------------------------------------------

expect_exit 0 pc token create --name ci --scope patd:self
CI=$OUT
expect_match "$TOKEN_RE" "$CI" "token create prints the token alone"
check "created token has a valid checksum" token_ok "$CI"
PATCTL_TOKEN=$CI PATCTL_URL=$URL run pc whoami
expect_eq 0 "$RC" "the new token works"

expect_exit 0 pc token list --json
CI_ID=$(printf '%s' "$OUT" | json '[t["id"] for t in d["items"] if t["name"] == "ci"]')
expect_match '^tok_[0-9A-Za-z]{16}$' "$CI_ID" "token list --json has the ci token"
expect_eq "active" "$(printf '%s' "$OUT" |
    json "[t['status'] for t in d['items'] if t['id'] == '$CI_ID']")" \
    "token list --json: ci is active"
expect_eq "false" "$(printf '%s' "$OUT" |
    json 'any("token" in t for t in d["items"])')" "no plaintext in lists"
expect_exit 0 pc token list && expect_out "$CI_ID"

expect_exit 0 pc token create --name full --scope patd:self \
    --description "deploys" --expires-in-days 7 --audience api \
    --audience web --cidr 10.0.0.0/8 --json
expect_match "$TOKEN_RE" "$(printf '%s' "$OUT" | json 'd["token"]')" \
    "token create --json includes the token"
FULL_ID=$(printf '%s' "$OUT" | json 'd["id"]')
expect_exit 0 pc token show "$FULL_ID" --json
expect_eq "deploys|api web|10.0.0.0/8" "$(printf '%s' "$OUT" |
    json '"|".join([d["description"], " ".join(d["audiences"]), " ".join(d["allowed_cidrs"])])')" \
    "token show --json: description, audiences, CIDRs"
expect_exit 0 pc token show "$CI_ID" && expect_out "ci"

expect_exit 0 pc token rename "$CI_ID" ci-renamed
expect_exit 0 pc token show "$CI_ID" --json
expect_eq "ci-renamed" "$(printf '%s' "$OUT" | json 'd["name"]')" \
    "token rename"

expect_exit 0 pc token regenerate "$CI_ID"
CI2=$OUT
expect_match "$TOKEN_RE" "$CI2" "token regenerate prints the new token alone"
check "regenerated token differs" test "$CI2" != "$CI"
PATCTL_TOKEN=$CI2 PATCTL_URL=$URL run pc whoami
expect_eq 0 "$RC" "the regenerated token works"
PATCTL_TOKEN=$CI PATCTL_URL=$URL run pc whoami
expect_eq 1 "$RC" "the replaced token no longer works"
expect_err "invalid_token"

# A token holding patd:self only cannot use the admin API.
PATCTL_TOKEN=$CI2 PATCTL_URL=$URL run pc user list
expect_eq 1 "$RC" "self-only token refused by the admin API"
expect_err "insufficient_scope"

expect_exit 0 pc token revoke "$CI_ID"
expect_exit 0 pc token show "$CI_ID" --json
expect_eq "revoked" "$(printf '%s' "$OUT" | json 'd["status"]')" \
    "revoked token shows as revoked"
PATCTL_TOKEN=$CI2 PATCTL_URL=$URL run pc whoami
expect_eq 1 "$RC" "a revoked token no longer works"
expect_err "invalid_token"
expect_exit 0 pc token list --status revoked --json
expect_eq "$CI_ID" "$(printf '%s' "$OUT" | json '[t["id"] for t in d["items"]]')" \
    "token list --status revoked"
expect_exit 0 pc token revoke "$CI_ID"

# --- admin: users -----------------------------------------------------------

expect_exit 0 pc user create alice --email alice@example.com \
    --scope patd:self --json
ALICE_ID=$(printf '%s' "$OUT" | json 'd["id"]')
expect_match '^usr_' "$ALICE_ID" "user create --json"
expect_exit 0 pc user list --json
expect_eq "alice" "$(printf '%s' "$OUT" |
    json "[u['username'] for u in d['items'] if u['id'] == '$ALICE_ID']")" \
    "user list --json has alice"
expect_exit 0 pc user list && expect_out "alice@example.com"
expect_exit 0 pc user show alice && expect_out "$ALICE_ID"
expect_exit 0 pc user disable alice --json
expect_eq "true" "$(printf '%s' "$OUT" | json 'd["disabled"]')" "user disable"
expect_exit 0 pc user show "$ALICE_ID" --json
expect_eq "true" "$(printf '%s' "$OUT" | json 'd["disabled"]')" \
    "disabled user shows as disabled"
expect_exit 0 pc user enable "$ALICE_ID" --json
expect_eq "false" "$(printf '%s' "$OUT" | json 'd["disabled"]')" "user enable"
expect_exit 1 pc user show nobody-here && expect_err "not_found"
expect_exit 2 pc user set-scopes alice
expect_exit 2 pc user delete alice

# --- admin: the token inventory ---------------------------------------------

expect_exit 0 pc tokens list --status active --json
expect_eq "active" "$(printf '%s' "$OUT" |
    json 'sorted(set(t["status"] for t in d["items"]))')" \
    "tokens list --status active: only active tokens"
ACTIVE=$(printf '%s' "$OUT" | json 'len(d["items"])')
expect_exit 0 pc tokens list --status revoked --json
expect_eq "revoked" "$(printf '%s' "$OUT" |
    json 'sorted(set(t["status"] for t in d["items"]))')" \
    "tokens list --status revoked: only revoked tokens"
expect_exit 0 pc tokens list --user-id "$ADMIN_ID" --json
expect_eq "$ADMIN_ID" "$(printf '%s' "$OUT" |
    json 'sorted(set(t["user_id"] for t in d["items"]))')" \
    "tokens list --user-id"
expect_exit 0 pc tokens show "$FULL_ID" && expect_out "deploys"

expect_exit 0 pc tokens bulk-revoke --user-id "$ADMIN_ID" --dry-run
expect_eq "Would revoke $ACTIVE tokens" "$OUT" "bulk-revoke --dry-run count"
expect_exit 0 pc tokens bulk-revoke --user-id "$ADMIN_ID" --dry-run --json
expect_eq "$ACTIVE" "$(printf '%s' "$OUT" | json 'd["revoked"]')" \
    "bulk-revoke --dry-run --json"
expect_exit 0 pc tokens list --status active --json
expect_eq "$ACTIVE" "$(printf '%s' "$OUT" | json 'len(d["items"])')" \
    "dry run changed nothing"
expect_exit 2 pc tokens bulk-revoke
expect_exit 2 pc tokens bulk-revoke --user-id "$ADMIN_ID"
expect_exit 0 pc tokens bulk-revoke --user-id "$ALICE_ID" --yes &&
    expect_eq "Revoked 0 tokens" "$OUT" "bulk-revoke of a user without tokens"

expect_exit 0 pc tokens revoke "$FULL_ID"
expect_exit 0 pc tokens show "$FULL_ID" --json
expect_eq "revoked" "$(printf '%s' "$OUT" | json 'd["status"]')" \
    "tokens revoke"

# --- every page of a long list ----------------------------------------------

made=0
for i in $(seq 1 205); do
    pc token create --name "page-$i" --scope patd:self --expires-in-days 1 \
        >/dev/null 2>"$TMPD/.err" </dev/null && made=$((made + 1))
done
expect_eq 205 "$made" "205 more tokens created"
expect_exit 0 pc token list --json
expect_eq "205 205" "$(printf '%s' "$OUT" |
    json '[sum(t["name"].startswith("page-") for t in d["items"]), len(set(t["id"] for t in d["items"] if t["name"].startswith("page-")))]')" \
    "token list follows next_cursor across pages"
expect_exit 0 pc token list --limit 3 --json
expect_eq 3 "$(printf '%s' "$OUT" | json 'len(d["items"])')" "--limit 3"
expect_exit 0 pc token list
expect_eq 206 "$(printf '%s\n' "$OUT" | grep -c 'page-\|^ID')" \
    "token list table: one header and every row"

# --- audit ------------------------------------------------------------------

expect_exit 0 pc audit --json
expect_eq "true" "$(printf '%s' "$OUT" |
    json 'any(e["action"] == "token.created" for e in d["items"])')" \
    "audit --json has token.created"
expect_eq "true" "$(printf '%s' "$OUT" |
    json 'any((e.get("user_agent") or "").startswith("patctl/") for e in d["items"])')" \
    "patctl sends User-Agent patctl/<version>"
expect_exit 0 pc audit --action token.created --json
expect_eq "token.created" "$(printf '%s' "$OUT" |
    json 'sorted(set(e["action"] for e in d["items"]))')" "audit --action"
expect_exit 0 pc audit --target "$FULL_ID" --json
expect_eq "true" "$(printf '%s' "$OUT" |
    json 'len(d["items"]) > 0 and all("'"$FULL_ID"'" in (e["target_token_id"], e["target_user_id"]) for e in d["items"])')" \
    "audit --target"
expect_exit 0 pc audit --mine --json
expect_eq "true" "$(printf '%s' "$OUT" | json 'len(d["items"]) > 0')" \
    "audit --mine"
expect_exit 0 pc audit --limit 5 && expect_out "ACTION"

# --- events (the change feed) -----------------------------------------------

expect_exit 0 pc events --json
expect_eq "true" "$(printf '%s' "$OUT" |
    json 'any(e["type"] == "token.created" and e["token_id"] == "'"$FULL_ID"'" for e in d["items"])')" \
    "events --json has the token.created row of $FULL_ID"
expect_eq "true" "$(printf '%s' "$OUT" |
    json 'all(a["seq"] < b["seq"] for a, b in zip(d["items"], d["items"][1:]))')" \
    "events in feed order"
LAST=$(printf '%s' "$OUT" | json 'd["items"][-1]["seq"]')
SECOND=$(printf '%s' "$OUT" | json 'd["items"][1]["seq"]')
expect_exit 0 pc events --after "$SECOND" --limit 1 --json
expect_eq "1" "$(printf '%s' "$OUT" | json 'len(d["items"])')" "events --limit 1"
expect_eq "true" "$(printf '%s' "$OUT" | json 'd["items"][0]["seq"] > '"$SECOND")" \
    "events --after"
expect_exit 0 pc events --limit 3 && expect_out "TYPE"
expect_out "# next: --after "
expect_exit 0 pc events --after "$LAST" && expect_out "No events after $LAST."
expect_exit 2 pc events --after -1
expect_exit 2 pc events --limit 0
expect_exit 2 pc events extra

# --- refusals ---------------------------------------------------------------

expect_exit 1 pc token show tok_0000000000000000 && expect_err "not_found"
expect_one_line
expect_match '^patctl: .+ \(not_found, HTTP 404\)$' "$ERR" \
    "server errors read 'patctl: <description> (<error>, HTTP <status>)'"
expect_exit 1 pc tokens show tok_0000000000000000 && expect_err "not_found"
PATCTL_TOKEN=$BAD PATCTL_URL=$URL run pc whoami
expect_eq 1 "$RC" "unknown token refused"
expect_err "invalid_token"
expect_no_secret "$BAD"

expect_exit 2 pc
expect_exit 2 pc nosuch
expect_exit 2 pc token create --scope patd:self
expect_exit 2 pc token create --name x
expect_exit 2 pc token create --name x --scope patd:self \
    --expires-in-days 3 --no-expiry
expect_exit 2 pc token show
expect_exit 2 pc token list --status sideways
expect_exit 2 pc token list --limit many
expect_exit 2 pc audit --mine --action token.created
# No option takes a token: argv is visible to every user of the machine.
expect_exit 2 pc --token "$BAD" whoami && expect_err "never taken"
expect_no_secret "$BAD"
expect_exit 2 pc whoami --token="$BAD"
expect_no_secret "$BAD"
expect_exit 0 pc --help
expect_exit 0 pc token --help

# An answer over the 8 MiB cap is refused.
BIG_PORT=$(free_port)
python3 - "$BIG_PORT" >/dev/null 2>&1 <<'PY' &
import sys
from http.server import HTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"id": "' + b"x" * (9 << 20) + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if "chunked" not in self.path:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
BIG=$!
BG_PIDS+=("$BIG")
if wait_http "http://127.0.0.1:$BIG_PORT/healthz" "$BIG"; then
    PATCTL_URL=http://127.0.0.1:$BIG_PORT PATCTL_TOKEN=$BAD run pc whoami
    expect_eq 1 "$RC" "an answer over 8 MiB is refused"
    expect_err "larger than 8 MiB"
    PATCTL_URL=http://127.0.0.1:$BIG_PORT/chunked PATCTL_TOKEN=$BAD \
        run pc whoami
    expect_eq 1 "$RC" "an answer over 8 MiB without Content-Length is refused"
    expect_err "larger than 8 MiB"
else
    fail "the oversized-answer server did not start"
fi

# --- logout, and a server that is down --------------------------------------

expect_exit 0 pc token create --name laptop --scope patd:self
LAPTOP=$OUT
printf '%s\n%s\n' "$URL" "$LAPTOP" >"$TMPD/login.laptop"
run_in "$TMPD/login.laptop" pc login
expect_eq 0 "$RC" "login again with another token"
expect_exit 0 pc logout --revoke
check "logout removes the config" test ! -e "$CONFIG"
PATCTL_TOKEN=$LAPTOP PATCTL_URL=$URL run pc whoami
expect_eq 1 "$RC" "logout --revoke revoked the saved token"
expect_err "invalid_token"
expect_exit 0 pc logout
expect_exit 1 pc whoami && expect_err "not logged in"

kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
PATCTL_URL=$URL PATCTL_TOKEN=$ADMIN run pc whoami
expect_eq 1 "$RC" "server down: refused"
expect_err "cannot reach"
expect_one_line
expect_no_secret "$ADMIN"

finish
