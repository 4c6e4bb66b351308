#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/auth_tls.sh: patd's /v1/auth over its native TLS against nginx
# `return 200` over TLS, in the same run, alternating, keep-alive
# connections (wrk), on this machine's loopback; patd over plain HTTP
# too, for the cost of TLS itself.
#
#   bench/auth_tls.sh [BUILD_DIR] [TOKENS] [SECONDS]
#
# Both servers use the same certificate (ECDSA P-256, made here) and 2
# worker threads/processes; wrk negotiates TLS 1.3 with both. patd
# cycles through TOKENS distinct tokens (default 10000, cache warmed).
# Prints a Markdown table of requests/s and p99 latency with the
# patd/nginx ratio. Every run stops by itself (3 targets x 2 connection
# counts x SECONDS, default 8); everything started is stopped on exit.
set -eu
build=${1:-build}
ntok=${2:-10000}
secs=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
patd="$build/patd"
bench="$build/bench_verify"

for cmd in wrk nginx openssl; do
    command -v $cmd >/dev/null || { echo "auth_tls.sh: $cmd is missing" >&2; exit 1; }
done
dir=$(mktemp -d /tmp/patd-bench-tls.XXXXXX)
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

(cd "$dir" &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout tls.key -out tls.pem) >/dev/null 2>&1
echo "building a store of $ntok tokens..." >&2
"$bench" --make-store "$dir/p.db" "$ntok" "$ntok" "$dir/tokens.txt"

sport=$(free_port)
pport=$(free_port)
nport=$(free_port)
printf '[tls]\ncert = %s/tls.pem\nkey = %s/tls.key\n' "$dir" "$dir" >"$dir/tls.conf"
for mode in tls plain; do
    port=$sport conf=(--config "$dir/tls.conf")
    [ $mode = plain ] && port=$pport conf=()
    PATD_LOG_ACCESS=off PATD_SERVER_THREADS=2 \
        PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 \
        "$patd" serve ${conf[@]+"${conf[@]}"} --db "$dir/p.db" \
        --listen "127.0.0.1:$port" 2>"$dir/patd-$mode.err" &
    pids+=("$!")
done
mkdir -p "$dir/nginx/logs"
cat >"$dir/nginx/nginx.conf" <<NGX
worker_processes 2;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$nport ssl;
        ssl_certificate $dir/tls.pem;
        ssl_certificate_key $dir/tls.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        keepalive_requests 1000000;
        location / { return 200 "ok"; }
    }
}
NGX
nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g 'daemon off;' &
pids+=("$!")
for url in "https://127.0.0.1:$sport/healthz" "http://127.0.0.1:$pport/healthz" \
    "https://127.0.0.1:$nport/"; do
    for _ in $(seq 100); do
        curl -skf -o /dev/null "$url" 2>/dev/null && break
        sleep 0.1
    done
done
echo "warming the cache..." >&2
wrk -t2 -c64 -d2s -s "$here/auth.lua" "https://127.0.0.1:$sport" -- "$dir/tokens.txt" >/dev/null 2>"$dir/warm.err"

run() { # url conns -> "rps p99_ms"
    local out rps p99
    out=$(wrk -t2 -c"$2" -d"${secs}s" --latency -s "$here/auth.lua" "$1" -- "$dir/tokens.txt" 2>>"$dir/wrk.err")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}' <<<"$out")
    echo "$rps $p99"
}
echo
echo "| connections | nginx TLS req/s | patd TLS req/s | ratio | patd plain req/s | TLS/plain | nginx TLS p99 ms | patd TLS p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
for c in 64 256; do
    read -r nr np <<<"$(run "https://127.0.0.1:$nport/" "$c")"
    read -r sr sp <<<"$(run "https://127.0.0.1:$sport/v1/auth" "$c")"
    read -r pr _ <<<"$(run "http://127.0.0.1:$pport/v1/auth" "$c")"
    awk -v c="$c" -v nr="$nr" -v sr="$sr" -v pr="$pr" -v np="$np" -v sp="$sp" 'BEGIN {
        printf "| %d | %.0f | %.0f | %.2f | %.0f | %.2f | %.2f | %.2f |\n", c, nr, sr, sr/nr, pr, sr/pr, np, sp }'
done
if grep -q "unexpected status" "$dir/wrk.err" 2>/dev/null; then
    echo "WARNING: some requests were not answered 200:" >&2
    sort "$dir/wrk.err" | uniq -c | head >&2
fi
