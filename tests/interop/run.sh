#!/bin/bash
# SPDX-License-Identifier: MIT
# Interoperability of patd's JWTs with independent consumers: npm `jose`
# (check.mjs, pinned in package-lock.json, installed here like the
# browser tests' playwright-core) and PyJWT (check.py, Debian
# python3-jwt). A real `patd serve` on a free loopback port issues JWTs;
# both consumers fetch its JWKS and verify one, refuse a tampered one and
# one signed by a retired key after its window; the Node consumer reads
# the status list and sees a revoked PAT's JWT marked (and a live one
# not). Key rotation happens on the live server.
#
# Usage: tests/interop/run.sh PATD_BINARY
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 PATD_BINARY" >&2
    exit 2
fi
patd=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
# Debian's Python, whose python3-jwt is the consumer under test.
py=/usr/bin/python3
for tool in node npm curl $py; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: '$tool' not found; scripts/deps.sh installs it" >&2
        exit 1
    fi
done
$py -c 'import jwt' 2>/dev/null || {
    echo "run.sh: PyJWT missing; install Debian's python3-jwt" >&2
    exit 1
}

install_modules() {
    if [ -f node_modules/.package-lock.json ] &&
        [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
        return 0
    fi
    npm ci --no-audit --no-fund >&2
}
cd "$here"
exec 9>"${TMPDIR:-/tmp}/patd-interop-npm-ci.lock"
flock 9
install_modules
flock -u 9

tmp=$(mktemp -d "${TMPDIR:-/tmp}/patd-interop.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
expect() { # label cmd...
    local label=$1
    shift
    if out=$("$@" 2>&1); then ok "$label: $out"; else bad "$label: $out"; fi
}

export PATD_JWT_KEK
PATD_JWT_KEK=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
db="$tmp/p.db"
"$patd" init --db "$db" --token-file "$tmp/admin.tok" >/dev/null 2>&1
"$patd" scope add read:repo --db "$db"
admin=$(cat "$tmp/admin.tok")
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
iss="$base"
# JWTs live 15 s, so a retired key leaves the JWKS 15 s after retirement;
# a rotated-in key signs after 1 s.
# The first key is RS256 (made by init); keys made later are EdDSA.
PATD_JWT_LIFETIME=15 PATD_JWT_MAX_LIFETIME=15 PATD_JWT_PREPUBLISH=1 PATD_JWT_ALG=EdDSA \
    "$patd" serve --db "$db" --listen "127.0.0.1:$port" 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 100); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

api() { # method path [json]
    curl -s -X "$1" "$base$2" -H "Authorization: Bearer $admin" \
        -H 'Content-Type: application/json' ${3:+--data "$3"}
}
uid=$(api POST /v1/users '{"username":"alice","scopes":["read:repo"]}' |
    $py -c 'import json,sys; print(json.load(sys.stdin)["id"])')
mkpat() { # name -> "secret id"
    api POST "/v1/users/$uid/tokens" "{\"name\":\"$1\",\"scopes\":[\"read:repo\"]}" |
        $py -c 'import json,sys; d=json.load(sys.stdin); print(d["token"], d["id"])'
}
exchange() { # pat [extra form]
    curl -s "$base/oauth2/token" \
        -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
        --data-urlencode "subject_token=$1" \
        -d subject_token_type=urn:ietf:params:oauth:token-type:access_token \
        ${2:+-d "$2"} |
        $py -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

read -r pat1 _ < <(mkpat one)
read -r pat2 pat2_id < <(mkpat two)
aud=api.example.com
jwt1=$(exchange "$pat1" "audience=$aud")
jwt2=$(exchange "$pat2" "audience=$aud")
# One signature character changed.
tampered=$($py -c 'import sys; t=sys.argv[1]; i=len(t)-5; print(t[:i]+("A" if t[i]!="A" else "B")+t[i+1:])' "$jwt1")

echo "# verify, and refuse a tampered JWT and a wrong audience"
expect "node verifies" node check.mjs verify "$base" "$iss" "$aud" "$jwt1"
expect "python verifies" $py check.py verify "$base" "$iss" "$aud" "$jwt1"
expect "node refuses tampered" node check.mjs reject "$base" "$iss" "$aud" "$tampered"
expect "python refuses tampered" $py check.py reject "$base" "$iss" "$aud" "$tampered"
expect "node refuses another audience" node check.mjs reject "$base" "$iss" other "$jwt1"
expect "python refuses another issuer" $py check.py reject "$base" https://evil "$aud" "$jwt1"

echo "# the status list marks a revoked PAT's JWT"
expect "node: live JWT is 0" node check.mjs status "$base" "$jwt2" 0
api DELETE "/v1/tokens/$pat2_id" >/dev/null
jwt_live=$(exchange "$pat1" "audience=$aud")
sleep 1.1 # the list is rebuilt at most once a second
expect "node: revoked PAT's JWT is 1" node check.mjs status "$base" "$jwt2" 1
expect "node: a live JWT of another PAT is 0" node check.mjs status "$base" "$jwt_live" 0

echo "# rotation and retirement on the live server"
old_kid=$($py -c 'import jwt,sys; print(jwt.get_unverified_header(sys.argv[1])["kid"])' "$jwt1")
api POST /v1/keys/rotate >/dev/null
sleep 3 # pre-publication (1 s) and the keyring reload (every 2 s)
jwt3=$(exchange "$pat1" "audience=$aud")
new_kid=$($py -c 'import jwt,sys; print(jwt.get_unverified_header(sys.argv[1])["kid"])' "$jwt3")
new_alg=$($py -c 'import jwt,sys; print(jwt.get_unverified_header(sys.argv[1])["alg"])' "$jwt3")
if [ "$new_kid" != "$old_kid" ] && [ "$new_alg" = EdDSA ]; then
    ok "the new (EdDSA) key signs"
else
    bad "still the old key, or not EdDSA ($new_alg)"
fi
expect "node verifies the new key's EdDSA JWT" node check.mjs verify "$base" "$iss" "$aud" "$jwt3"
expect "python verifies the new key's EdDSA JWT" $py check.py verify "$base" "$iss" "$aud" "$jwt3"
api POST "/v1/keys/$old_kid/retire" >/dev/null
expect "node: the retired key still verifies (as of iat) in its window" \
    node check.mjs verify "$base" "$iss" "$aud" "$jwt1" at-iat
sleep 16 # the window: max_lifetime after retirement
if curl -s "$base/.well-known/jwks.json" | grep -q "$old_kid"; then
    bad "the retired key is still published"
else
    ok "the retired key is unpublished"
fi
expect "node refuses the retired key's JWT" node check.mjs reject "$base" "$iss" "$aud" "$jwt1" at-iat
expect "python refuses the retired key's JWT" $py check.py reject "$base" "$iss" "$aud" "$jwt1" at-iat

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
