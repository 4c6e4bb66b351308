# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared part of the gateway tests (nginx_test.sh, caddy_test.sh): a real
# patd with a few users and tokens, the echo backend (backend.py), request
# helpers, the checks every gateway recipe must pass, and the summary line.
#
#     . "$(dirname "$0")/lib.sh" "$@"      # $1: the patd binary
#
# The gateway script checks that its gateway is installed (need_package),
# calls start_services, starts its gateway on $GW_ADDR in front of patd
# ($PATD_ADDR) and the backend ($BACKEND_ADDR) from the recipe (recipe),
# and calls `common_checks URL`, `outage_checks URL DOWN_STATUS`, `finish`.
# Every check prints "ok - ..." or "FAIL - ..."; the last line is always
# "N passed, M failed", and the exit status is nonzero on any failure.

set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# GW_DEPLOY_DIR: try edited recipes (default: docs/deploy of this tree).
DEPLOY=${GW_DEPLOY_DIR:-$(cd "$HERE/../../docs/deploy" && pwd)}
NAME=$(basename "$0" .sh)

PASSED=0
FAILED=0
FINISHED=0
BG_PIDS=()
TMPD=

ok() {
    PASSED=$((PASSED + 1))
    echo "ok - $*"
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL - $*"
}

# A problem that stops the test before its checks: one failure, the
# summary line, a nonzero exit.
die() {
    fail "$*"
    exit 1
}

_cleanup() {
    local st=$? pid i
    trap - EXIT
    # Last started, first stopped; TERM, then KILL after a short deadline.
    for ((i = ${#BG_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${BG_PIDS[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$FAILED" -gt 0 ] && [ -n "$TMPD" ]; then
        for f in "$TMPD"/*.log; do
            [ -s "$f" ] || continue
            echo "--- $(basename "$f") (last lines)"
            tail -n 15 "$f"
        done
    fi
    if [ -n "$TMPD" ] && [ -z "${KEEP_TMP:-}" ]; then
        rm -rf "$TMPD"
    elif [ -n "$TMPD" ]; then
        echo "kept $TMPD"
    fi
    if [ "$FINISHED" -eq 0 ] && [ "$FAILED" -eq 0 ]; then
        FAILED=1
        echo "FAIL - $NAME stopped early (status $st)"
    fi
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$st" -eq 0 ] && exit 0
    exit 1
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# A deadline for the whole test, below ctest's TIMEOUT (120 s), so that the
# exit trap still ends everything this test started: the watchdog sends
# TERM to this shell (and takes its own sleep with it when it is ended).
_watchdog() {
    local sp
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep "$1" &
    sp=$!
    wait "$sp" && echo "FAIL - $NAME: still running after $1 s" >&2 && kill -TERM "$2"
}
_watchdog "${GW_TEST_DEADLINE:-100}" $$ &
BG_PIDS+=($!)

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_gone PID SECONDS: true once PID has exited.
wait_gone() {
    local end=$(($(now_ms) + $2 * 1000))
    while kill -0 "$1" 2>/dev/null; do
        [ "$(now_ms)" -lt "$end" ] || return 1
        # A zombie child counts as gone once reaped by `wait` later.
        [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ] || return 0
        sleep 0.05
    done
}

# wait_http URL SECONDS [PID]: polls until URL answers any HTTP status
# (not a refused connection), or the deadline passes, or PID has died.
wait_http() {
    local url=$1 end=$(($(now_ms) + $2 * 1000)) pid=${3:-} code
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url")
        [ "$code" != 000 ] && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# wait_closed HOST:PORT SECONDS: until nothing accepts there.
wait_closed() {
    local end=$(($(now_ms) + $2 * 1000))
    while curl -s -o /dev/null --max-time 1 "http://$1/"; [ $? -ne 7 ]; do
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# need_package COMMAND PACKAGE: the gateway must be installed; a missing
# one is a failure (not a skip), naming the Debian package.
need_package() {
    command -v "$1" >/dev/null 2>&1 ||
        die "$1 is not installed: install the Debian package '$2' (apt-get install -y $2; scripts/deps.sh should)"
}

# bg LOGNAME CMD...: starts CMD in the background with stdout and stderr
# in $TMPD/LOGNAME.log; its pid is in $BG_PID and ended on exit.
bg() {
    local log=$TMPD/$1.log
    shift
    "$@" >"$log" 2>&1 </dev/null &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# stop PID: ends one background process now (and forgets it).
stop() {
    local -a keep=()
    local p
    kill -TERM "$1" 2>/dev/null
    wait_gone "$1" 5 || kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    for p in "${BG_PIDS[@]}"; do
        [ "$p" == "$1" ] || keep+=("$p")
    done
    BG_PIDS=("${keep[@]}")
}

# ------------------------------------------------------------------
# Set-up: tools, ports, patd with its users and tokens, the backend.
# ------------------------------------------------------------------
PATD=${1:-${PATD:-}}
[ -n "$PATD" ] || {
    echo "usage: $0 PATH_TO_PATD" >&2
    exit 2
}
case $PATD in
/*) ;;
*) PATD=$PWD/$PATD ;;
esac
unset PATD_DB PATD_STORE PATD_CONFIG PATD_LISTEN

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/patd-gw.XXXXXX") || die "mktemp failed"
[ -x "$PATD" ] || die "'$PATD' is not an executable file"
command -v curl >/dev/null || die "curl is not installed: install the Debian package 'curl'"
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) ||
    die "python3 is not installed: install the Debian package 'python3'"
py() { "$PY" -I -S "$@"; }

# json FILE EXPR: prints a field of a JSON file (EXPR over `d`).
json() { py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

DB=$TMPD/p.db
pd() { "$PATD" "$@" --db "$DB"; }

# mint VAR NAME patd-token-create-args...: VAR=token, VAR_ID=its id,
# VAR_EXP=its expiry.
mint() {
    local var=$1 name=$2
    shift 2
    pd token create --user alice --name "$name" --json "$@" >"$TMPD/$name.json" 2>>"$TMPD/init.log" ||
        die "patd token create $name failed"
    printf -v "$var" '%s' "$(json "$TMPD/$name.json" 'd["token"]')"
    printf -v "${var}_ID" '%s' "$(json "$TMPD/$name.json" 'd["id"]')"
    printf -v "${var}_EXP" '%s' "$(json "$TMPD/$name.json" 'd["expires_at"]')"
}

# start_services: free ports, patd (trusted_proxies 127.0.0.1/32) with
# alice and her tokens, and the echo backend. Sets PATD_ADDR, BACKEND_ADDR,
# GW_ADDR (for the gateway), SPARE_ADDR, ALICE_ID, TOK* (see mint), HITS.
start_services() {
    # Four free loopback ports, held open together so that they differ.
    read -r PATD_PORT BACKEND_PORT GW_PORT SPARE_PORT < <(py -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
    [ -n "${SPARE_PORT:-}" ] || die "could not find free ports"
    PATD_ADDR=127.0.0.1:$PATD_PORT
    BACKEND_ADDR=127.0.0.1:$BACKEND_PORT
    # shellcheck disable=SC2034 # used by the gateway scripts
    GW_ADDR=127.0.0.1:$GW_PORT
    # shellcheck disable=SC2034
    SPARE_ADDR=127.0.0.1:$SPARE_PORT

    pd init >"$TMPD/admin.tok" 2>"$TMPD/init.log" || die "patd init failed"
    pd scope add repo:read >/dev/null 2>&1 || die "patd scope add failed"
    pd user add alice --scope patd:self --scope repo:read >/dev/null 2>&1 ||
        die "patd user add failed"
    pd user show alice --json >"$TMPD/alice.json" || die "patd user show failed"
    ALICE_ID=$(json "$TMPD/alice.json" 'd["id"]')
    # A valid token of another patd: well-formed, unknown here.
    "$PATD" init --db "$TMPD/other.db" >"$TMPD/other.tok" 2>>"$TMPD/init.log" ||
        die "patd init (second store) failed"
    TOK_OTHER=$(head -n 1 "$TMPD/other.tok")

    mint TOK good --scope repo:read
    mint TOK_NOSCOPE noscope --scope patd:self
    mint TOK_REVOKE revokeme --scope repo:read
    mint TOK_CIDR cidr --scope repo:read --cidr 127.0.0.2/32

    PATD_SERVER_TRUSTED_PROXIES="127.0.0.1/32" bg patd "$PATD" serve --db "$DB" --listen "$PATD_ADDR"
    PATD_PID=$BG_PID
    wait_http "http://$PATD_ADDR/healthz" 15 "$PATD_PID" || die "patd did not come up on $PATD_ADDR"

    # A token without expiry needs the policy to allow it (the admin API).
    ADMIN_TOK=$(head -n 1 "$TMPD/admin.tok")
    curl -s --max-time 5 -H "Authorization: Bearer $ADMIN_TOK" \
        "http://$PATD_ADDR/v1/policy" >"$TMPD/policy.json" || die "GET /v1/policy failed"
    py -c 'import json,sys; d=json.load(open(sys.argv[1])); d["allow_no_expiry"]=True; print(json.dumps(d))' \
        "$TMPD/policy.json" >"$TMPD/policy2.json" || die "unexpected policy: $(cat "$TMPD/policy.json")"
    [ "$(curl -s -o "$TMPD/policy3.json" -w '%{http_code}' --max-time 5 -X PUT \
        -H "Authorization: Bearer $ADMIN_TOK" -H 'Content-Type: application/json' \
        --data-binary @"$TMPD/policy2.json" "http://$PATD_ADDR/v1/policy")" == 200 ] ||
        die "PUT /v1/policy failed: $(cat "$TMPD/policy3.json")"
    mint TOK_FOREVER forever --scope repo:read --no-expiry

    HITS=$TMPD/hits
    : >"$HITS"
    bg backend "$PY" -I -S "$HERE/backend.py" "$BACKEND_PORT" "$HITS"
    wait_http "http://$BACKEND_ADDR/" 15 "$BG_PID" ||
        die "the echo backend did not come up on $BACKEND_ADDR"
    : >"$HITS"
}

# recipe OUT FILE SED-EXPR...: writes OUT, the recipe FILE from docs/deploy
# with the given substitutions, each of which must change something (a
# recipe edited so that a substitution no longer applies fails loudly).
recipe() {
    local out=$1 src=$DEPLOY/$2 text new e
    shift 2
    [ -f "$src" ] || die "the recipe $src is missing"
    text=$(<"$src")
    for e in "$@"; do
        new=$(printf '%s\n' "$text" | sed -e "$e")
        [ "$new" != "$text" ] || die "'$e' changed nothing in $src"
        text=$new
    done
    printf '%s\n' "$text" >"$out"
}

# ------------------------------------------------------------------
# Requests.
# ------------------------------------------------------------------
# req CURL-ARGS... URL: one request; STATUS, response headers in $TMPD/rh,
# body in $TMPD/rb. HITS_BEFORE is the backend's count before it.
req() {
    HITS_BEFORE=$(wc -l <"$HITS")
    STATUS=$(curl -s --max-time 10 -D "$TMPD/rh" -o "$TMPD/rb" -w '%{http_code}' "$@")
}

# resp_headers NAME: the values of response header NAME, one a line.
resp_headers() {
    tr -d '\r' <"$TMPD/rh" | awk -v n="$(echo "$1" | tr '[:upper:]' '[:lower:]')" '
        { i = index($0, ":"); if (i == 0) next
          k = tolower(substr($0, 1, i - 1)); v = substr($0, i + 1)
          sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
          if (k == n) print v }'
}

# backend_headers NAME: what the backend received for NAME (any case),
# one value a line; nothing if the request did not reach it.
backend_headers() {
    py -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for k, v in d.get("headers", []):
    if k.lower() == sys.argv[2].lower():
        print(v)' "$TMPD/rb" "$1"
}

# backend_dump: every header the backend received, "name: value" a line.
backend_dump() {
    py -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for k, v in d.get("headers", []):
    print("%s: %s" % (k, v))' "$TMPD/rb"
}

expect_status() { # WANT WHAT
    if [ "$STATUS" == "$1" ]; then
        ok "$2: status $1"
    else
        fail "$2: status $STATUS, expected $1 (body: $(head -c 300 "$TMPD/rb"))"
    fi
}

expect_backend() { # NAME WANT WHAT: the backend got NAME exactly once, = WANT
    local got
    got=$(backend_headers "$1")
    if [ "$got" == "$2" ]; then
        ok "$3: backend got $1: $2"
    else
        fail "$3: backend got $1 '${got//$'\n'/ | }', expected '$2' exactly once"
    fi
}

expect_backend_lacks() { # NAME WHAT
    local got
    got=$(backend_headers "$1")
    if [ -z "$got" ]; then
        ok "$2: backend got no $1"
    else
        fail "$2: backend got $1: ${got//$'\n'/ | }"
    fi
}

expect_not_reached() { # WHAT: the backend saw no request since req
    local n
    n=$(wc -l <"$HITS")
    if [ "$n" -eq "$HITS_BEFORE" ]; then
        ok "$1: backend not reached"
    else
        fail "$1: the request reached the backend ($(tail -n 1 "$HITS"))"
    fi
}

expect_reached() { # WHAT
    local n
    n=$(wc -l <"$HITS")
    if [ "$n" -eq $((HITS_BEFORE + 1)) ]; then
        ok "$1: backend reached once"
    else
        fail "$1: backend hits went from $HITS_BEFORE to $n"
    fi
}

expect_challenge() { # WANT-SUBSTRING WHAT: exactly one WWW-Authenticate
    local got n
    got=$(resp_headers WWW-Authenticate)
    n=$(resp_headers WWW-Authenticate | grep -c .)
    if [ "$n" -eq 1 ] && [[ $got == *"$1"* ]]; then
        ok "$2: WWW-Authenticate has $1"
    else
        fail "$2: expected one WWW-Authenticate with '$1', got $n: ${got//$'\n'/ | }"
    fi
}

expect_challenge_exact() { # WANT WHAT
    local got
    got=$(resp_headers WWW-Authenticate)
    if [ "$got" == "$1" ]; then
        ok "$2: WWW-Authenticate is exactly $1"
    else
        fail "$2: WWW-Authenticate '${got//$'\n'/ | }', expected exactly '$1'"
    fi
}

# expect_no_spoof WHAT: no header value the backend got carries a value
# the client made up.
expect_no_spoof() {
    local dump
    dump=$(backend_dump)
    if [ -z "$dump" ]; then
        ok "$1: nothing reached the backend"
    elif printf '%s\n' "$dump" | grep -q -e _spoofed -e mallory -e 'patd:admin' -e tok_spoofed -e 2099-; then
        fail "$1: a client-made identity reached the backend: $(printf '%s\n' "$dump" | grep -e _spoofed -e mallory -e 'patd:admin' -e tok_spoofed -e 2099- | tr '\n' ' ')"
    else
        ok "$1: no client-made identity reached the backend"
    fi
}

# The headers a client uses to try to pass for someone else, in several
# spellings (a CGI/WSGI backend reads X_Pat_User_Id as X-Pat-User-Id), and
# one of patd's inputs, which is no business of the backend's either.
SPOOF=(-H 'X-Pat-User-Id: usr_spoofed' -H 'x-pat-username: mallory'
    -H 'X-PAT-SCOPES: patd:admin' -H 'X-Pat-Token-Id: tok_spoofed'
    -H 'X-Pat-Expires: 2099-01-01T00:00:00Z' -H 'X_Pat_User_Id: usr_spoofed'
    -H 'X-Pat-Audience: aud_spoofed')

# ------------------------------------------------------------------
# The checks.
# ------------------------------------------------------------------
# common_checks BASE-URL: what every recipe must do, with patd up.
common_checks() {
    local api=$1/api/repos

    # A valid token with the scope: the request gets through, carrying
    # the identity patd answered.
    req -H "Authorization: Bearer $TOK" "$api"
    expect_status 200 "valid token"
    expect_reached "valid token"
    expect_backend X-Pat-User-Id "$ALICE_ID" "valid token"
    expect_backend X-Pat-Username alice "valid token"
    expect_backend X-Pat-Token-Id "$TOK_ID" "valid token"
    expect_backend X-Pat-Scopes repo:read "valid token"
    expect_backend X-Pat-Expires "$TOK_EXP" "valid token"
    expect_backend_lacks Authorization "valid token (the token stays at the gateway)"

    # Any method: nginx keeps the client's method on the subrequest.
    req -X POST -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
        --data '{"x": 1}' "$api"
    expect_status 200 "POST with a body"
    expect_backend X-Pat-User-Id "$ALICE_ID" "POST with a body"

    # A token that never expires: X-Pat-Expires is empty (or absent).
    req -H "Authorization: Bearer $TOK_FOREVER" "$api"
    expect_status 200 "token without expiry"
    expect_backend X-Pat-Token-Id "$TOK_FOREVER_ID" "token without expiry"
    if [ -z "$(backend_headers X-Pat-Expires | tr -d ' ')" ]; then
        ok "token without expiry: X-Pat-Expires empty or absent"
    else
        fail "token without expiry: X-Pat-Expires is '$(backend_headers X-Pat-Expires)'"
    fi

    # A client's own identity headers never reach the backend.
    req "${SPOOF[@]}" -H "Authorization: Bearer $TOK" "$api"
    expect_status 200 "valid token + spoofed X-Pat-*"
    expect_backend X-Pat-User-Id "$ALICE_ID" "valid token + spoofed X-Pat-*"
    expect_backend X-Pat-Username alice "valid token + spoofed X-Pat-*"
    expect_backend X-Pat-Scopes repo:read "valid token + spoofed X-Pat-*"
    expect_no_spoof "valid token + spoofed X-Pat-*"

    # The same with a token that never expires: patd's X-Pat-Expires is
    # empty then, and a gateway that only copies non-empty answers would
    # let the client's own value through (Caddy GHSA-7r4p-vjf4-gxv4).
    req "${SPOOF[@]}" -H "Authorization: Bearer $TOK_FOREVER" "$api"
    expect_status 200 "token without expiry + spoofed X-Pat-*"
    expect_backend X-Pat-Token-Id "$TOK_FOREVER_ID" "token without expiry + spoofed X-Pat-*"
    expect_no_spoof "token without expiry + spoofed X-Pat-*"

    # No token: 401 with the bare challenge, spoofed headers or not.
    req "${SPOOF[@]}" "$api"
    expect_status 401 "no token + spoofed X-Pat-*"
    expect_challenge_exact 'Bearer realm="patd"' "no token + spoofed X-Pat-*"
    expect_not_reached "no token + spoofed X-Pat-*"
    expect_no_spoof "no token + spoofed X-Pat-*"

    req "$api"
    expect_status 401 "no token"
    expect_challenge_exact 'Bearer realm="patd"' "no token"
    expect_not_reached "no token"

    # A token without the location's scope: 403 insufficient_scope.
    req -H "Authorization: Bearer $TOK_NOSCOPE" "$api"
    expect_status 403 "token lacking repo:read"
    expect_challenge 'error="insufficient_scope"' "token lacking repo:read"
    expect_challenge 'scope="repo:read"' "token lacking repo:read"
    expect_not_reached "token lacking repo:read"

    # The client cannot lower the requirement: patd reads ?scope= before
    # X-Pat-Required-Scopes, so neither may come from the client.
    req -H "Authorization: Bearer $TOK_NOSCOPE" "$api?scope=patd:self"
    expect_status 403 "client ?scope=patd:self"
    expect_not_reached "client ?scope=patd:self"
    req -H "Authorization: Bearer $TOK_NOSCOPE" "$api?scope="
    expect_status 403 "client ?scope= (empty)"
    expect_not_reached "client ?scope= (empty)"
    req -H "Authorization: Bearer $TOK_NOSCOPE" -H 'X-Pat-Required-Scopes: patd:self' "$api"
    expect_status 403 "client X-Pat-Required-Scopes: patd:self"
    expect_not_reached "client X-Pat-Required-Scopes"

    # A well-formed token this patd does not know (another patd's), a
    # malformed one, and a header that is not Bearer.
    req -H "Authorization: Bearer $TOK_OTHER" "$api"
    expect_status 401 "unknown token"
    expect_challenge 'error="invalid_token"' "unknown token"
    expect_not_reached "unknown token"
    req -H "Authorization: Bearer pat_000000000000000000000000000000000000000" "$api"
    expect_status 401 "malformed token"
    expect_challenge 'error="invalid_token"' "malformed token"
    expect_not_reached "malformed token"
    req -H "Authorization: Basic YWxpY2U6c2VjcmV0" "$api"
    expect_status 400 "Basic credentials"
    expect_challenge 'error="invalid_request"' "Basic credentials"
    expect_not_reached "Basic credentials"

    # Revoked: allowed once, revoked at patd, then 401 through the gateway.
    req -H "Authorization: Bearer $TOK_REVOKE" "$api"
    expect_status 200 "token before revoke"
    local rc
    rc=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X DELETE \
        -H "Authorization: Bearer $TOK_REVOKE" "http://$PATD_ADDR/v1/token")
    if [ "$rc" == 204 ]; then ok "revoke at patd: 204"; else fail "revoke at patd: $rc"; fi
    req -H "Authorization: Bearer $TOK_REVOKE" "$api"
    expect_status 401 "revoked token"
    expect_challenge 'error="invalid_token"' "revoked token"
    expect_not_reached "revoked token"

    # The client address patd checks is the real one (X-Forwarded-For from
    # the gateway, trusted_proxies at patd), not one the client claims.
    req --interface 127.0.0.2 -H "Authorization: Bearer $TOK_CIDR" "$api"
    expect_status 200 "CIDR-bound token from its address 127.0.0.2"
    req --interface 127.0.0.3 -H 'X-Forwarded-For: 127.0.0.2' -H "Authorization: Bearer $TOK_CIDR" "$api"
    expect_status 401 "CIDR-bound token from 127.0.0.3 claiming X-Forwarded-For 127.0.0.2"
    expect_not_reached "CIDR-bound token from elsewhere"
    req -H 'X-Forwarded-For: 127.0.0.2' -H "Authorization: Bearer $TOK_CIDR" "$api"
    expect_status 401 "CIDR-bound token from 127.0.0.1 claiming X-Forwarded-For 127.0.0.2"
}

# outage_checks BASE-URL DOWN-STATUS: patd answering 503 (a stand-in that
# only ever answers 503 with identity headers), then patd gone: never an
# allow. DOWN-STATUS is what the gateway answers with nothing listening.
outage_checks() {
    local api=$1/api/repos want_down=$2

    stop "$PATD_PID"
    wait_closed "$PATD_ADDR" 10 || die "patd still accepts connections after it was stopped"
    bg stub503 "$PY" -I -S -c '
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        body = b"{\"error\":\"unavailable\"}"
        self.send_response(503)
        for k, v in (("Retry-After", "5"), ("X-Pat-User-Id", "usr_spoofed"),
                     ("X-Pat-Username", "mallory"), ("X-Pat-Token-Id", "tok_spoofed"),
                     ("X-Pat-Scopes", "patd:admin"), ("X-Pat-Expires", "2099-01-01T00:00:00Z"),
                     ("Content-Type", "application/json"), ("Content-Length", str(len(body)))):
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = answer
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$PATD_PORT"
    local stub=$BG_PID
    wait_http "http://$PATD_ADDR/" 15 "$stub" || die "the 503 stand-in did not come up"

    req -H "Authorization: Bearer $TOK" "$api"
    expect_status 503 "auth service answers 503"
    expect_not_reached "auth service answers 503"
    local ra
    ra=$(resp_headers Retry-After)
    if [ "$ra" == 5 ]; then ok "auth service answers 503: Retry-After 5 reaches the client"; else fail "auth service answers 503: Retry-After '$ra'"; fi

    stop "$stub"
    wait_closed "$PATD_ADDR" 10 || die "the stand-in still accepts connections after it was stopped"
    req -H "Authorization: Bearer $TOK" "$api"
    expect_status "$want_down" "auth service down"
    expect_not_reached "auth service down"
}

finish() {
    FINISHED=1
    exit 0
}
