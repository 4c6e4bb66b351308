#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/http_layer.sh: the HTTP-layer decision of issue #10, measured in
# one run: nginx `return 200`, patd's GET /v1/auth (libmicrohttpd) and
# the h2o prototype of the same path (bench/proto_h2o, libh2o-evloop
# 2.2.5 with libpat's real verifier), each with THREADS workers/threads,
# at 64, 128, 256 and 512 connections, same wrk Lua script.
#
#   bench/http_layer.sh [BUILD_DIR] [SECONDS] [THREADS] [ROUNDS]
#   HTTP_LOG=1 bench/http_layer.sh ...   # access logs on, on all three
#
# Prints a Markdown table: requests/s and p99 of each (the mean over
# ROUNDS, default 2, the order of the three rotating each round), the
# ratios to nginx, and each server's CPU time per request (user + system
# of its processes, from /proc, over its runs): on a machine shared with
# other work the CPU per request moves much less than requests/s. Every
# wrk run lasts SECONDS (default 2, whole seconds): 24 runs, under a
# minute.
set -eu
build=${1:-build}
secs=${2:-2}
threads=${3:-2}
rounds=${4:-2}
ntok=100000 ndist=10000
tag=http-layer
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
build=$(cd "$build" && pwd)

proto=$("$here/proto_h2o/build.sh" "$build" "$dir/proto_h2o")
echo "building a store of $ntok tokens..." >&2
"$build/bench_verify" --make-store "$dir/p.db" "$ntok" "$ndist" "$dir/tokens.txt" >/dev/null

pport=$(free_port) nport=$(free_port) hport=$(free_port)
if [ "${HTTP_LOG:-0}" = 1 ]; then
    patd_log="$dir/patd-access.log" nginx_log="access_log $dir/nginx-access.log"
    h2o_log="$dir/h2o-access.log"
else
    patd_log=off nginx_log="access_log off" h2o_log=off
fi
PATD_LOG_ACCESS=$patd_log PATD_SERVER_THREADS=$threads \
    PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 PATD_CACHE_MAX_ENTRIES=1000000 \
    "$build/patd" serve --db "$dir/p.db" --listen "127.0.0.1:$pport" 2>"$dir/patd.err" &
pids+=("$!")
"$proto" --db "$dir/p.db" --port "$hport" --threads "$threads" --log "$h2o_log" 2>"$dir/h2o.err" &
pids+=("$!")
mkdir -p "$dir/nginx/logs"
cat >"$dir/nginx/nginx.conf" <<NGX
worker_processes $threads;
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
ppid=${pids[0]} hpid=${pids[1]} npid=${pids[2]}
wait_healthy "$pport"
wait_healthy "$hport"
wait_healthy "$nport"

echo "warming both caches with $ndist tokens..." >&2
for port in $pport $hport; do
    wrk -t2 -c64 -d2s -s "$here/auth.lua" "http://127.0.0.1:$port" -- "$dir/tokens.txt" >/dev/null 2>>"$dir/warm.err"
done

# cpu PID...: clock ticks of user + system time of the processes and
# their threads (nginx: the master's workers too).
cpu() {
    local t=0 p
    for p in "$@" $(pgrep -P "$1" 2>/dev/null || true); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}

run() { # url conns pid -> "rps p99_ms requests ticks"
    local out rps p99 n c0 c1
    c0=$(cpu "$3")
    out=$(wrk -t2 -c"$2" -d"${secs}s" --latency -s "$here/auth.lua" "$1" -- "$dir/tokens.txt" 2>>"$dir/wrk.err")
    c1=$(cpu "$3")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}' <<<"$out")
    echo "$rps $p99 $n $((c1 - c0))"
}

echo
echo "logs: ${HTTP_LOG:-0}, threads/workers: $threads, wrk -t2 -d${secs}s"
echo
echo "| conns | nginx req/s | patd (MHD) req/s | h2o proto req/s | patd/nginx | h2o/nginx | nginx p99 ms | patd p99 ms | h2o p99 ms | CPU µs/req nginx / patd / h2o |"
echo "|---|---|---|---|---|---|---|---|---|---|"
tck=$(getconf CLK_TCK)
for c in 64 128 256 512; do
    declare -A sum=()
    for r in $(seq "$rounds"); do
        order="n p h"
        [ $((r % 3)) = 2 ] && order="p h n"
        [ $((r % 3)) = 0 ] && order="h n p"
        for s in $order; do
            case $s in
            n) res=$(run "http://127.0.0.1:$nport/" "$c" "$npid") ;;
            p) res=$(run "http://127.0.0.1:$pport/v1/auth" "$c" "$ppid") ;;
            h) res=$(run "http://127.0.0.1:$hport/v1/auth" "$c" "$hpid") ;;
            esac
            read -r rps p99 n t <<<"$res"
            sum[$s.rps]=$(awk -v a="${sum[$s.rps]:-0}" -v b="$rps" 'BEGIN {print a + b}')
            sum[$s.p99]=$(awk -v a="${sum[$s.p99]:-0}" -v b="$p99" 'BEGIN {print a + b}')
            sum[$s.n]=$(( ${sum[$s.n]:-0} + n ))
            sum[$s.t]=$(( ${sum[$s.t]:-0} + t ))
        done
    done
    awk -v c="$c" -v r="$rounds" -v tck="$tck" \
        -v nr="${sum[n.rps]}" -v pr="${sum[p.rps]}" -v hr="${sum[h.rps]}" \
        -v np="${sum[n.p99]}" -v pp="${sum[p.p99]}" -v hp="${sum[h.p99]}" \
        -v nn="${sum[n.n]}" -v pn="${sum[p.n]}" -v hn="${sum[h.n]}" \
        -v nt="${sum[n.t]}" -v pt="${sum[p.t]}" -v ht="${sum[h.t]}" 'BEGIN {
        printf "| %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f / %.1f / %.1f |\n",
            c, nr/r, pr/r, hr/r, pr/nr, hr/nr, np/r, pp/r, hp/r,
            nt*1e6/tck/nn, pt*1e6/tck/pn, ht*1e6/tck/hn }'
    unset sum
done
echo
if grep -q "unexpected status" "$dir/wrk.err" 2>/dev/null; then
    echo "WARNING: some requests were not answered 200:" >&2
    sort "$dir/wrk.err" | uniq -c | head >&2
fi
