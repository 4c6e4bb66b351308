#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs the browser tests: starts a real `patd serve` on a free loopback
# port with a temporary database (an admin and two users with passwords,
# a few scopes), installs the pinned playwright-core when node_modules is
# missing or older than package-lock.json, runs every *.test.mjs with
# node's test runner in Debian's headless Chromium, and stops the server.
#
# Usage: tests/browser/run.sh PATD_BINARY [TEST_FILE...]   (default: all)
# Environment: SCREENSHOT_DIR (screenshots of failing tests; default: a
# directory under the temporary one, printed on failure), DOCS_SCREENSHOTS
# (when set, where the README screenshots are written, e.g. docs/screenshots).
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 PATD_BINARY [TEST_FILE...]" >&2
    exit 2
fi
patd=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)

# A missing browser or Node.js fails the test; it never skips it.
if [ ! -x /usr/bin/chromium ]; then
    echo "run.sh: /usr/bin/chromium is missing; install Debian's chromium package (scripts/deps.sh)" >&2
    exit 1
fi
for tool in node npm curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: '$tool' not found; scripts/deps.sh installs it" >&2
        exit 1
    fi
done
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "run.sh: playwright-core needs Node.js 20 or later, found $(node --version)" >&2
    exit 1
fi

# npm ci replaces node_modules wholesale: one at a time.
install_modules() {
    if [ -f node_modules/.package-lock.json ] &&
        [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
        return 0
    fi
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2
}
cd "$here"
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/patd-browser-npm-ci.lock"
    flock 9
    install_modules
    flock -u 9
else
    install_modules
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/patd-browser.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

db=$tmp/patd.db
export ADMIN_PASSWORD=admin-pass-0001 BOB_PASSWORD=bob-pass-0002 DAVE_PASSWORD=dave-pass-0003
# Token exchange on (the Exchanged page): a key-encryption key for init
# and serve.
export PATD_JWT_KEK=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

setup() {
    "$patd" init --db "$db" --token-file "$tmp/admin.token" >/dev/null 2>&1
    "$patd" scope add repo:read --description "Read repositories" --db "$db" >/dev/null
    "$patd" scope add repo:write --description "Push to repositories" --db "$db" >/dev/null
    "$patd" scope add packages:read --description "Download packages" --db "$db" >/dev/null
    "$patd" user set-scopes admin patd:admin patd:introspect patd:self \
        repo:read repo:write packages:read --db "$db" >/dev/null
    "$patd" user add bob --display-name "Bob Example" --scope patd:self \
        --scope repo:read --scope repo:write --db "$db" >/dev/null
    "$patd" user add dave --scope patd:self --scope repo:read --db "$db" >/dev/null
    printf '%s\n' "$ADMIN_PASSWORD" | "$patd" user passwd admin --db "$db"
    printf '%s\n' "$BOB_PASSWORD" | "$patd" user passwd bob --db "$db"
    printf '%s\n' "$DAVE_PASSWORD" | "$patd" user passwd dave --db "$db"
}
if ! setup; then
    echo "run.sh: could not prepare the database" >&2
    exit 1
fi

free_port() {
    node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# PATD_TLS=1: patd serves HTTPS ([tls]) with a certificate from a test
# CA made here; Chromium accepts that certificate's key alone
# (--ignore-certificate-errors-spki-list, see lib.mjs), curl the CA.
scheme=http
serve_tls=()
curl_tls=()
if [ "${PATD_TLS:-0}" = 1 ]; then
    (cd "$tmp" &&
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -days 2 -subj /CN=patd-browser-ca -keyout ca.key -out ca.pem &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj /CN=127.0.0.1 -keyout tls.key -out tls.csr &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext &&
        openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key \
            -CAcreateserial -days 2 -extfile ext -out tls.pem) >/dev/null 2>&1
    printf '[tls]\ncert = %s/tls.pem\nkey = %s/tls.key\n' "$tmp" "$tmp" >"$tmp/tls.conf"
    PATD_TLS_SPKI=$(openssl x509 -in "$tmp/tls.pem" -pubkey -noout |
        openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
    export PATD_TLS_SPKI NODE_EXTRA_CA_CERTS=$tmp/ca.pem # node's fetch
    scheme=https
    serve_tls=(--config "$tmp/tls.conf")
    curl_tls=(--cacert "$tmp/ca.pem")
fi

# Another process may take the port between the probe and the bind: retry.
url=""
for attempt in 1 2 3 4 5; do
    port=$(free_port)
    "$patd" serve ${serve_tls[@]+"${serve_tls[@]}"} --db "$db" \
        --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
    pid=$!
    deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
        if curl -fsS ${curl_tls[@]+"${curl_tls[@]}"} -o /dev/null \
            "$scheme://127.0.0.1:$port/healthz" 2>/dev/null; then
            url="$scheme://127.0.0.1:$port"
            break 2
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
    echo "run.sh: patd did not start on port $port (attempt $attempt)" >&2
done
if [ -z "$url" ]; then
    cat "$tmp/serve.log" >&2
    exit 1
fi

export PATD_URL=$url
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$tmp/screenshots}
# Chromium's profile (made by playwright-core under TMPDIR) goes away with $tmp.
export TMPDIR=$tmp

status=0
if [ $# -eq 0 ]; then
    set -- ./*.test.mjs
fi
node --test --test-concurrency=1 --test-reporter=spec "$@" || status=$?
if [ $status -ne 0 ]; then
    echo "run.sh: server log (last 40 lines):" >&2
    tail -n 40 "$tmp/serve.log" >&2
    echo "run.sh: screenshots of failures are in $SCREENSHOT_DIR" >&2
    if [ "$SCREENSHOT_DIR" = "$tmp/screenshots" ] && [ -d "$SCREENSHOT_DIR" ]; then
        keep=$(mktemp -d "/tmp/patd-browser-failures.XXXXXX")
        cp -r "$SCREENSHOT_DIR"/. "$keep"/
        echo "run.sh: copied them to $keep" >&2
    fi
fi
exit $status
