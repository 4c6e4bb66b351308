#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/growth.sh: does /v1/auth keep its rate as the store grows, and how
# much memory does patd need to hold a million tokens in its cache?
#
#   bench/growth.sh [BUILD_DIR] [SECONDS]
#
# 1. Builds a 100,000-token and a 1,000,000-token store, serves each with
#    its own patd (2 threads), and measures both with wrk -t2 -c64
#    cycling through 10,000 of their tokens, alternating, three rounds.
#    Target: the 1M store keeps at least 0.9x of the 100k store's rate.
# 2. Restarts patd on the 1M store with a one-hour cache TTL and sends
#    every one of its million tokens (wrk, 64 connections) until the
#    cache holds them all, then reads the peak resident memory (VmHWM)
#    and its anonymous part (RssAnon: the database file mapped by SQLite
#    is also counted in VmHWM). Target: under 400 MB.
# Bounded: each wrk run stops by itself; the fill stops after 240 s.
set -eu
build=${1:-build}
secs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
patd="$build/patd"
bench="$build/bench_verify"
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
dir=$(mktemp -d /tmp/patd-growth.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
serve() { # db port [env...]
    local db=$1 port=$2
    shift 2
    env PATD_LOG_ACCESS=off PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 "$@" \
        "$patd" serve --db "$db" --listen "127.0.0.1:$port" 2>>"$dir/patd.err" &
    pids+=("$!")
    for _ in $(seq 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
        sleep 0.1
    done
    return 1
}
rate() { # port tokenfile seconds
    wrk -t2 -c64 -d"$3s" -s "$here/auth.lua" "http://127.0.0.1:$1" -- "$2" 2>>"$dir/wrk.err" |
        awk '/^Requests\/sec:/ {print $2}'
}

echo "building stores (100k, 1M tokens)..." >&2
"$bench" --make-store "$dir/small.db" 100000 10000 "$dir/small.txt"
"$bench" --make-store "$dir/big.db" 1000000 1000000 "$dir/big.txt"
head -10000 "$dir/big.txt" >"$dir/big10k.txt"
ps=$(free_port)
pb=$(free_port)
serve "$dir/small.db" "$ps"
serve "$dir/big.db" "$pb"
rate "$ps" "$dir/small.txt" 3 >/dev/null
rate "$pb" "$dir/big10k.txt" 3 >/dev/null
echo
echo "| round | 100k store req/s | 1M store req/s | ratio |"
echo "|---|---|---|---|"
for round in 1 2 3; do
    s=$(rate "$ps" "$dir/small.txt" "$secs")
    b=$(rate "$pb" "$dir/big10k.txt" "$secs")
    awk -v r="$round" -v s="$s" -v b="$b" 'BEGIN { printf "| %d | %.0f | %.0f | %.2f |\n", r, s, b, b/s }'
done
for p in "${pids[@]}"; do kill "$p"; done
wait 2>/dev/null || true
pids=()

echo
echo "filling the cache with 1,000,000 tokens..." >&2
pm=$(free_port)
serve "$dir/big.db" "$pm" PATD_CACHE_TTL=3600
ppid=${pids[0]}
start=$(date +%s)
while :; do
    wrk -t2 -c64 -d20s -s "$here/auth.lua" "http://127.0.0.1:$pm" -- "$dir/big.txt" >/dev/null 2>>"$dir/wrk.err"
    n=$(curl -s "http://127.0.0.1:$pm/metrics" | awk '$1 == "patd_cache_entries" {print $2}')
    echo "cache entries: $n" >&2
    [ "${n:-0}" -ge 990000 ] && break
    [ $(($(date +%s) - start)) -ge 240 ] && break
done
echo "patd with ${n} tokens cached:"
grep -E 'VmHWM|VmRSS|RssAnon|RssFile' "/proc/$ppid/status" | sed 's/^/  /'
