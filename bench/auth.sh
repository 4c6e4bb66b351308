#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/auth.sh: patd's forward-auth endpoint against nginx `return 200`,
# in the same run, alternating, on this machine's loopback.
#
#   bench/auth.sh [BUILD_DIR] [TOKENS] [DISTINCT] [SECONDS]
#   AUTH_LOG=1 bench/auth.sh ...   # access logs on, on both sides
#
# Builds a store of TOKENS active tokens (default 100000), starts patd
# (2 worker threads) and nginx (2 workers) on free loopback ports, warms
# the cache, then runs wrk -t2 -cN -dSECONDS for N in 64 128 256 512
# against nginx and patd in turn, patd cycling through DISTINCT tokens
# (default 10000). Prints a Markdown table of requests/s and p99 latency
# with the patd/nginx ratios, and patd's peak memory. Bounded: every run
# stops by itself; everything started is stopped on exit.
set -eu
build=${1:-build}
ntok=${2:-100000}
ndist=${3:-10000}
secs=${4:-10}
here=$(cd "$(dirname "$0")" && pwd)
patd="$build/patd"
bench="$build/bench_verify"

for cmd in wrk nginx; do
    if ! command -v $cmd >/dev/null; then
        echo "auth.sh: installing $cmd" >&2
        apt-get install -y -qq $cmd >/dev/null
    fi
done

dir=$(mktemp -d /tmp/patd-bench.XXXXXX)
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

echo "building a store of $ntok tokens..." >&2
"$bench" --make-store "$dir/p.db" "$ntok" "$ndist" "$dir/tokens.txt"

pport=$(free_port)
nport=$(free_port)
if [ "${AUTH_LOG:-0}" = 1 ]; then
    patd_log="$dir/patd-access.log" nginx_log="access_log $dir/nginx-access.log"
else
    patd_log=off nginx_log="access_log off"
fi
PATD_LOG_ACCESS=$patd_log PATD_SERVER_THREADS=2 PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 \
    PATD_CACHE_MAX_ENTRIES=$((ntok > 1000000 ? ntok : 1000000)) \
    "$patd" serve --db "$dir/p.db" --listen "127.0.0.1:$pport" 2>"$dir/patd.err" &
ppid=$!
pids+=("$ppid")

mkdir -p "$dir/nginx/logs"
cat >"$dir/nginx/nginx.conf" <<NGX
worker_processes 2;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    $nginx_log;
    server {
        listen 127.0.0.1:$nport;
        location / { return 200 "ok"; }
    }
}
NGX
nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g 'daemon off;' &
pids+=("$!")

for port in $pport $nport; do
    for _ in $(seq 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
        curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
        sleep 0.1
    done
done

# Access logs: off unless AUTH_LOG=1 (then a file on each side: nginx's
# default, one write per request; patd's, buffered per thread).
echo "warming the cache with $ndist tokens..." >&2
wrk -t2 -c64 -d3s -s "$here/auth.lua" "http://127.0.0.1:$pport" -- "$dir/tokens.txt" >/dev/null 2>"$dir/warm.err"

run() { # url conns -> "rps p99_ms"
    local out
    out=$(wrk -t2 -c"$2" -d"${secs}s" --latency -s "$here/auth.lua" "$1" -- "$dir/tokens.txt" 2>>"$dir/wrk.err")
    local rps p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}' <<<"$out")
    echo "$rps $p99"
}

echo
echo "| connections | nginx req/s | patd req/s | ratio | nginx p99 ms | patd p99 ms | p99 ratio |"
echo "|---|---|---|---|---|---|---|"
for c in 64 128 256 512; do
    read -r nr np <<<"$(run "http://127.0.0.1:$nport/" "$c")"
    read -r pr pp <<<"$(run "http://127.0.0.1:$pport/v1/auth" "$c")"
    awk -v c="$c" -v nr="$nr" -v pr="$pr" -v np="$np" -v pp="$pp" 'BEGIN {
        printf "| %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |\n", c, nr, pr, pr/nr, np, pp, (np > 0 ? pp/np : 0) }'
done
echo
grep -E 'VmHWM|VmRSS' "/proc/$ppid/status" | sed 's/^/patd /'
if grep -q "unexpected status" "$dir/wrk.err" 2>/dev/null; then
    echo "WARNING: some requests were not answered 200:" >&2
    sort "$dir/wrk.err" | uniq -c | head >&2
fi
curl -s "http://127.0.0.1:$pport/metrics" | grep -E '^patd_cache_(hits|misses|entries)' || true
