#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/signin.sh: forward auth during a sign-in burst.
#
#   bench/signin.sh [BUILD_DIR] [SECONDS] [SIGNERS] [CONNS]
#
# For [server] workers = 2 (the default) and then workers = 0 (everything
# on the two threads that read requests, as before the worker pool): a
# store of 10,000 tokens, patd (2 threads, access log off), wrk -t2
# -cCONNS (default 64) on /v1/auth for SECONDS (default 10) cycling
# through the tokens, quiet and then while SIGNERS (default 4) clients
# sign in continuously (argon2id, about 50 ms of CPU each). Prints the
# requests/s and p99 latency of each run and the burst/quiet p99 ratio.
# Target (issue #10): p99 during the burst within 1.5x of the quiet run.
# Bounded: every run stops by itself; everything started stops on exit.
set -eu
build=${1:-build}
secs=${2:-10}
signers=${3:-4}
conns=${4:-64}
patd="$build/patd"
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
tag=signin
. "$(dirname "$0")/lib.sh"

"$build/bench_verify" --make-store "$dir/p.db" 10000 10000 "$dir/tokens.txt"
"$patd" user add signer --db "$dir/p.db" --scope patd:self >/dev/null
printf 'a long enough password\n' | "$patd" user passwd signer --db "$dir/p.db"

run() { # url -> "rps p99_ms"
    local out rps p99
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/auth.lua" "$1" \
        -- "$dir/tokens.txt")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}' <<<"$out")
    echo "$rps $p99"
}

echo "| workers | quiet req/s | burst req/s | quiet p99 ms | burst p99 ms | p99 burst/quiet | sign-ins |"
echo "|---|---|---|---|---|---|---|"
for workers in 2 0; do
    port=$(free_port)
    PATD_LOG_ACCESS=off PATD_SERVER_THREADS=2 PATD_SERVER_WORKERS=$workers \
        PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 \
        PATD_LOGIN_MAX_FAILURES_PER_USER=100000 \
        "$patd" serve --db "$dir/p.db" --listen "127.0.0.1:$port" \
        2>"$dir/patd.err" &
    ppid=$!
    pids+=("$ppid")
    wait_healthy "$port"
    wrk -t2 -c32 -d2s -s "$here/auth.lua" "http://127.0.0.1:$port/v1/auth" \
        -- "$dir/tokens.txt" >/dev/null
    read -r qr qp <<<"$(run "http://127.0.0.1:$port/v1/auth")"
    python3 - "$port" "$signers" "$secs" >"$dir/signins" <<'PY' &
import http.client, json, sys, threading, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
count = [0] * n
def signer(i):
    end = time.monotonic() + secs
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": "signer", "password": "a long enough password"})
    while time.monotonic() < end:
        c.request("POST", "/v1/session", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        count[i] += r.status == 200
ts = [threading.Thread(target=signer, args=(i,)) for i in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sum(count))
PY
    spid=$!
    read -r br bp <<<"$(run "http://127.0.0.1:$port/v1/auth")"
    wait "$spid" || true
    awk -v w="$workers" -v qr="$qr" -v br="$br" -v qp="$qp" -v bp="$bp" \
        -v s="$(cat "$dir/signins")" 'BEGIN {
        printf "| %d | %.0f | %.0f | %.2f | %.2f | %.2f | %d |\n", w, qr, br, qp, bp, bp / qp, s }'
    kill "$ppid"
    wait "$ppid" 2>/dev/null || true
done
