#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/soak.sh: mixed load on patd for a bounded time.
#
#   bench/soak.sh [BUILD_DIR] [SECONDS] [INTERVAL]
#
# Starts patd (2 threads, 2 workers, access log to a file) on a store of
# 10,000 tokens on a free loopback port, then runs bench/soak.py for
# SECONDS (default 1800, i.e. 30 minutes): verifications, token creation
# and revocation through the admin API, sign-ins, leak reports and bad
# requests, printing every INTERVAL seconds (default 60) the rates, the
# count of 5xx answers (there must be none) and patd's RSS (flat after
# warm-up). Everything stops by itself; everything started stops on exit.
set -eu
build=${1:-build}
secs=${2:-1800}
interval=${3:-60}
patd="$build/patd"
tag=soak
. "$(dirname "$0")/lib.sh"

"$build/bench_verify" --make-store "$dir/p.db" 10000 10000 "$dir/tokens.txt"
admin=$("$patd" token create --db "$dir/p.db" --user admin --name soak \
    --scope patd:admin --expires-in-days 1 </dev/null)
"$patd" user add soak --db "$dir/p.db" --scope patd:self --scope repo:read >/dev/null
printf 'a long enough password\n' | "$patd" user passwd soak --db "$dir/p.db"
port=$(free_port)
PATD_LOG_ACCESS="$dir/access.log" PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 \
    PATD_LOGIN_MAX_FAILURES_PER_USER=100000 PATD_LOGIN_MAX_FAILURES_PER_IP=100000 \
    PATD_AUTH_MAX_LEAK_REPORTS_PER_IP=1000000 \
    "$patd" serve --db "$dir/p.db" --listen "127.0.0.1:$port" 2>"$dir/patd.err" &
ppid=$!
pids+=("$ppid")
wait_healthy "$port"
python3 "$here/soak.py" "$port" "$ppid" "$admin" "$dir/tokens.txt" "$secs" "$interval"
kill -0 "$ppid" && echo "patd still up after ${secs} s"
