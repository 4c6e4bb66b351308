#!/bin/bash
# SPDX-License-Identifier: MIT
# Single sign-on end to end (issue 14): starts a real OpenID Provider
# (oidc-provider from npm, provider.mjs) and a real `patd serve` with
# [sso] pointing at it, each on a free loopback port with a temporary
# database, then runs *.test.mjs in Debian's headless Chromium
# (playwright-core). Installs the pinned npm packages from
# package-lock.json when node_modules is missing or older than it.
#
# Usage: tests/sso/run.sh PATD_BINARY [TEST_FILE...]
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 PATD_BINARY [TEST_FILE...]" >&2
    exit 2
fi
patd=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x /usr/bin/chromium ]; then
    echo "run.sh: /usr/bin/chromium is missing (scripts/deps.sh installs it)" >&2
    exit 1
fi
for tool in node npm curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: '$tool' not found" >&2; exit 1; }
done

install_modules() {
    if [ -f node_modules/.package-lock.json ] &&
        [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
        return 0
    fi
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2
}
cd "$here"
exec 9>"${TMPDIR:-/tmp}/patd-sso-npm-ci.lock"
flock 9
install_modules
flock -u 9

tmp=$(mktemp -d "${TMPDIR:-/tmp}/patd-sso.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            kill "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

wait_url() { # URL PID
    local deadline=$((SECONDS + 15))
    while [ $SECONDS -lt $deadline ] && kill -0 "$2" 2>/dev/null; do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

db=$tmp/patd.db
export ADMIN_PASSWORD=admin-pass-0001
"$patd" init --db "$db" --token-file "$tmp/admin.token" >/dev/null 2>&1
for s in repo:read repo:write deploy; do
    "$patd" scope add "$s" --description "$s" --db "$db" >/dev/null
done
printf '%s\n' "$ADMIN_PASSWORD" | "$patd" user passwd admin --db "$db"

provider_port=$(free_port)
patd_port=$(free_port)
export PATD_URL="http://127.0.0.1:$patd_port"
export PROVIDER_URL="http://127.0.0.1:$provider_port"
export PATCTL
PATCTL=$(dirname "$patd")/patctl
export ADMIN_TOKEN
ADMIN_TOKEN=$(cat "$tmp/admin.token")

node provider.mjs "$provider_port" "$PATD_URL/v1/sso/callback" >"$tmp/provider.log" 2>&1 &
pids+=($!)
if ! wait_url "$PROVIDER_URL/.well-known/openid-configuration" "${pids[0]}"; then
    cat "$tmp/provider.log" >&2
    exit 1
fi

printf 'patd-test-secret-0001\n' >"$tmp/client.secret"
cat >"$tmp/patd.conf" <<CONF
[server]
public_url = $PATD_URL
[sso]
issuer = $PROVIDER_URL
client_id = patd-test
client_secret_file = $tmp/client.secret
scopes = groups
userinfo = true
map = developers = repo:read repo:write
map = deployers = deploy
admin_group = patd-admins
local_passwords = false
CONF
"$patd" serve --db "$db" --config "$tmp/patd.conf" --listen "127.0.0.1:$patd_port" \
    >"$tmp/serve.log" 2>&1 &
pids+=($!)
if ! wait_url "$PATD_URL/healthz" "${pids[1]}"; then
    cat "$tmp/serve.log" >&2
    exit 1
fi

export TMPDIR=$tmp
status=0
if [ $# -eq 0 ]; then
    set -- ./*.test.mjs
fi
node --test --test-concurrency=1 --test-reporter=spec "$@" || status=$?
# patd must stop cleanly (under the sanitizers: no leak, no error).
kill -TERM "${pids[1]}"
serve_rc=0
wait "${pids[1]}" || serve_rc=$?
if [ $serve_rc -ne 0 ]; then
    echo "run.sh: patd serve exited with status $serve_rc" >&2
    status=1
fi
if [ $status -ne 0 ]; then
    echo "run.sh: patd log (last 40 lines):" >&2
    tail -n 40 "$tmp/serve.log" >&2
    echo "run.sh: provider log (last 40 lines):" >&2
    tail -n 40 "$tmp/provider.log" >&2
fi
if grep -q 'patd-test-secret-0001' "$tmp/serve.log"; then
    echo "run.sh: the client secret appears in patd's log" >&2
    status=1
fi
exit $status
