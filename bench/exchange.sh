#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/exchange.sh: token exchange (POST /oauth2/token) per second, and
# /v1/auth with JWTs against /v1/auth with PATs in the same run,
# alternating (target: JWTs at least 0.8x the PAT rate; a JWT's
# signature is verified once and its answer cached like a PAT's).
#
#   bench/exchange.sh [BUILD_DIR] [TOKENS] [SECONDS]
#
# TOKENS PATs (default 200) of one user; patd with 2 threads, access log
# off, JWTs living an hour. wrk -t2 -c16 for the exchanges, then -t2
# -c64 for /v1/auth, PATs and JWTs in turn, twice. Everything started
# is stopped on exit; about 5 x SECONDS (default 8) in all.
set -eu
build=${1:-build}
ntok=${2:-200}
secs=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
patd="$build/patd"
dir=$(mktemp -d /tmp/patd-bench-x.XXXXXX)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
export PATD_JWT_KEK
PATD_JWT_KEK=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
"$patd" init --db "$dir/p.db" --token-file "$dir/admin.tok" >/dev/null 2>&1
"$patd" scope add repo:read --db "$dir/p.db"
admin=$(cat "$dir/admin.tok")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
PATD_LOG_ACCESS=off PATD_SERVER_THREADS=2 PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 \
    PATD_JWT_LIFETIME=3600 PATD_AUTH_MAX_FAILURES_PER_IP=1000000 \
    "$patd" serve --db "$dir/p.db" --listen "127.0.0.1:$port" 2>"$dir/patd.err" &
pid=$!
for _ in $(seq 100); do
    curl -sf -o /dev/null "$base/healthz" && break
    sleep 0.1
done
uid=$(curl -s "$base/v1/users" -H "Authorization: Bearer $admin" \
    -d '{"username":"bench","scopes":["repo:read"]}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -s -X PUT "$base/v1/policy" -H "Authorization: Bearer $admin" \
    -d "{\"max_tokens_per_user\":$((ntok + 10))}" >/dev/null || true
for i in $(seq "$ntok"); do
    curl -s "$base/v1/users/$uid/tokens" -H "Authorization: Bearer $admin" \
        -d "{\"name\":\"t$i\",\"scopes\":[\"repo:read\"]}" |
        sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
done >"$dir/pats.txt"
while read -r p; do
    curl -s "$base/oauth2/token" \
        -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
        -d subject_token_type=urn:ietf:params:oauth:token-type:access_token \
        --data-urlencode "subject_token=$p" |
        sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
done <"$dir/pats.txt" >"$dir/jwts.txt"

rate() { awk '/Requests\/sec/ {print $2}'; }
echo "# $(date -u +%Y-%m-%d) $(nproc) CPUs; bench/exchange.sh $build $ntok $secs"
x=$(wrk -t2 -c16 -d"${secs}s" -s "$here/exchange.lua" "$base" -- "$dir/pats.txt" 2>&1 | rate)
echo "exchanges/s (wrk -t2 -c16): $x"
echo "| run | /v1/auth PAT req/s | /v1/auth JWT req/s | JWT/PAT |"
echo "|---|---|---|---|"
for run in 1 2; do
    p=$(wrk -t2 -c64 -d"${secs}s" -s "$here/auth.lua" "$base" -- "$dir/pats.txt" 2>&1 | rate)
    j=$(wrk -t2 -c64 -d"${secs}s" -s "$here/auth.lua" "$base" -- "$dir/jwts.txt" 2>&1 | rate)
    echo "| $run | $p | $j | $(python3 -c "print(round($j/$p, 2))") |"
done
