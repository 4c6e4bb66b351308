#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/governance.sh: what governance (DESIGN.md section 13) costs at
# /v1/auth, measured in one run on this machine's loopback.
#
#   bench/governance.sh BUILD_DIR BASE_BUILD_DIR [SECONDS]
#
#  1. Tokens without limits: patd of BUILD_DIR against patd of
#     BASE_BUILD_DIR (main before governance), each on its own 10,000-token
#     SQLite store made by its own bench_verify, 1,000 warmed tokens,
#     wrk -t2 -c64, alternating ROUNDS times (default 5, the order
#     swapped each round); the medians, and the ratio of each pair.
#  2. Use-limited tokens (max_uses 1e9: every verification is an atomic
#     decrement in the store, on a worker thread) against unlimited tokens
#     of the same store, on SQLite and on a throwaway PostgreSQL cluster
#     (scripts/pg.sh), wrk -t2 -c64.
# Bounded: each wrk run lasts SECONDS (default 10); everything started is
# stopped on exit.
set -eu
new=${1:?usage: governance.sh BUILD_DIR BASE_BUILD_DIR [SECONDS]}
base=${2:?usage: governance.sh BUILD_DIR BASE_BUILD_DIR [SECONDS]}
secs=${3:-10}
tag=govbench
. "$(dirname "$0")/lib.sh"
top=$(cd "$here/.." && pwd)
chmod 755 "$dir" # the PostgreSQL cluster runs as the postgres user
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
trap 'cleanup; sh "$top/scripts/pg.sh" stop "$dir/pg" >/dev/null 2>&1 || true' EXIT

serve() { # patd store port
    env PATD_LOG_ACCESS=off PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 \
        PATD_AUTH_MAX_FAILURES_PER_IP=1000000 \
        "$1" serve --store "$2" --listen "127.0.0.1:$3" 2>>"$dir/patd.err" &
    pids+=("$!")
    wait_healthy "$3"
}
rate() { # port tokenfile seconds
    wrk -t2 -c64 -d"$3s" -s "$here/auth.lua" "http://127.0.0.1:$1" -- "$2" \
        2>>"$dir/wrk.err" | awk '/^Requests\/sec:/ {print $2}'
}
median() {
    printf '%s\n' "$@" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rounds=${ROUNDS:-5}

# --- 1. unlimited tokens: this build against the base ------------------------
if [ "${ONLY_LIMITED:-0}" != 1 ]; then
"$new/bench_verify" --make-store "$dir/new.db" 10000 1000 "$dir/new.txt" >/dev/null
"$base/bench_verify" --make-store "$dir/base.db" 10000 1000 "$dir/base.txt" >/dev/null
pn=$(free_port)
pb=$(free_port)
serve "$new/patd" "sqlite:$dir/new.db" "$pn"
serve "$base/patd" "sqlite:$dir/base.db" "$pb"
rate "$pn" "$dir/new.txt" 3 >/dev/null
rate "$pb" "$dir/base.txt" 3 >/dev/null
n=() b=() r=()
for i in $(seq "$rounds"); do
    if [ $((i % 2)) = 1 ]; then
        x=$(rate "$pn" "$dir/new.txt" "$secs")
        y=$(rate "$pb" "$dir/base.txt" "$secs")
    else
        y=$(rate "$pb" "$dir/base.txt" "$secs")
        x=$(rate "$pn" "$dir/new.txt" "$secs")
    fi
    n+=("$x")
    b+=("$y")
    r+=("$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.2f", x / y }')")
done
echo
echo "| /v1/auth, unlimited tokens (SQLite, 1,000 warm) | runs req/s | median |"
echo "|---|---|---|"
echo "| base ($base) | ${b[*]} | $(median "${b[@]}") |"
echo "| this build ($new) | ${n[*]} | $(median "${n[@]}") |"
echo "| ratio of each pair, this/base | ${r[*]} | $(median "${r[@]}") |"

fi

# --- 2. use-limited tokens on both backends ----------------------------------
limited() { # store label (skips part 1 with ONLY_LIMITED=1)
    local store=$1 label=$2 port admin uid i
    rm -f "$dir/admin.tok"
    "$new/patd" init --store "$store" --token-file "$dir/admin.tok" >/dev/null 2>&1
    "$new/patd" scope add repo:read --store "$store" >/dev/null
    admin=$(cat "$dir/admin.tok")
    port=$(free_port)
    serve "$new/patd" "$store" "$port"
    api() {
        curl -sf -X POST -H "Authorization: Bearer $admin" \
            -H 'Content-Type: application/json' --data "$2" \
            "http://127.0.0.1:$port$1"
    }
    uid=$(api /v1/users '{"username":"bench","scopes":["patd:self","repo:read"]}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    : >"$dir/lim.txt"
    : >"$dir/unl.txt"
    for i in $(seq 100); do
        api "/v1/users/$uid/tokens" "{\"name\":\"l$i\",\"scopes\":[\"repo:read\"],\"max_uses\":1000000000}" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >>"$dir/lim.txt"
        api "/v1/users/$uid/tokens" "{\"name\":\"u$i\",\"scopes\":[\"repo:read\"]}" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >>"$dir/unl.txt"
    done
    rate "$port" "$dir/unl.txt" 2 >/dev/null
    rate "$port" "$dir/lim.txt" 2 >/dev/null
    u=$(rate "$port" "$dir/unl.txt" "$secs")
    l=$(rate "$port" "$dir/lim.txt" "$secs")
    spent=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^patd_token_uses_spent_total/ {print $2}')
    awk -v s="$label" -v u="$u" -v l="$l" -v sp="$spent" \
        'BEGIN { printf "| %s | %.0f | %.0f | %.3f | %s |\n", s, u, l, l / u, sp }'
}
echo
echo "| backend | unlimited req/s | use-limited req/s | ratio | uses spent |"
echo "|---|---|---|---|---|"
limited "sqlite:$dir/lim.db" SQLite
url=$(sh "$top/scripts/pg.sh" start "$dir/pg")
limited "$url" PostgreSQL
