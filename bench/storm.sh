#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/storm.sh: forward auth during a revocation storm.
#
#   bench/storm.sh [BUILD_DIR] [TOKENS] [DISTINCT] [SECONDS] [RATE] [CONNS]
#
# Builds a store of TOKENS tokens (default 100000), starts patd (2 worker
# threads, access log off) on a free loopback port and warms its cache
# with DISTINCT of them (default 10000). Then, twice, alternating: wrk
# (-t2 -cCONNS, default 128) on /v1/auth for SECONDS (default 10) cycling
# through the DISTINCT tokens, once quiet and once while bench/storm.py
# revokes RATE (default 100) *other* tokens a second through the admin
# API. Prints requests/s, the cache hit rate of each run and the
# storm/quiet ratios. Targets (issue #10): at least 0.95x the quiet
# throughput and a hit rate of at least 97% during the storm. Bounded:
# everything started stops by itself or on exit.
set -eu
build=${1:-build}
ntok=${2:-100000}
ndist=${3:-10000}
secs=${4:-10}
rate=${5:-100}
conns=${6:-128}
patd="$build/patd"

command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
tag=storm
. "$(dirname "$0")/lib.sh"

echo "building a store of $ntok tokens..." >&2
"$build/bench_verify" --make-store "$dir/p.db" "$ntok" "$ndist" "$dir/tokens.txt"
admin=$(printf '' | "$patd" token create --db "$dir/p.db" --user admin \
    --name storm --scope patd:admin --expires-in-days 1)
port=$(free_port)
PATD_LOG_ACCESS=off PATD_SERVER_THREADS=2 PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 \
    PATD_CACHE_TTL=60 "$patd" serve --db "$dir/p.db" \
    --listen "127.0.0.1:$port" 2>"$dir/patd.err" &
pids+=("$!")
wait_healthy "$port"

# The ids of tokens outside the measured set: the newest ones.
python3 - "$port" "$admin" "$dir/ids.txt" "$((rate * secs * 2 + 100))" <<'PY'
import http.client, json, sys
port, admin, out, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", int(port))
ids, cursor = [], None
while True:
    q = "/v1/tokens?limit=200&status=active" + (f"&cursor={cursor}" if cursor else "")
    c.request("GET", q, headers={"Authorization": "Bearer " + admin})
    d = json.loads(c.getresponse().read())
    ids += [t["id"] for t in d["items"] if t["name"].startswith("t")]
    cursor = d["next_cursor"]
    if not cursor:
        break
open(out, "w").write("\n".join(ids[-want:]) + "\n")
PY

echo "warming the cache with $ndist tokens..." >&2
wrk -t2 -c64 -d3s -s "$here/auth.lua" "http://127.0.0.1:$port/v1/auth" -- "$dir/tokens.txt" >/dev/null

metric() {
    curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'
}
run() { # label -> "rps hit%"
    local h0 m0 out rps h1 m1
    h0=$(metric patd_cache_hits_total)
    m0=$(metric patd_cache_misses_total)
    out=$(wrk -t2 -c"$conns" -d"${secs}s" -s "$here/auth.lua" \
        "http://127.0.0.1:$port/v1/auth" -- "$dir/tokens.txt")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    h1=$(metric patd_cache_hits_total)
    m1=$(metric patd_cache_misses_total)
    awk -v r="$rps" -v h="$((h1 - h0))" -v m="$((m1 - m0))" \
        'BEGIN { printf "%.0f %.2f\n", r, 100 * h / (h + m) }'
}

echo
echo "| run | quiet req/s | storm req/s | ratio | quiet hit % | storm hit % |"
echo "|---|---|---|---|---|---|"
for round in 1 2; do
    read -r qr qh <<<"$(run quiet)"
    python3 "$here/storm.py" "$port" "$admin" "$rate" "$secs" "$dir/ids.txt" \
        >"$dir/storm.out" &
    spid=$!
    read -r sr sh <<<"$(run storm)"
    wait "$spid" || true
    awk -v n="$round" -v qr="$qr" -v sr="$sr" -v qh="$qh" -v sh="$sh" 'BEGIN {
        printf "| %d | %.0f | %.0f | %.2f | %.2f | %.2f |\n", n, qr, sr, sr / qr, qh, sh }'
    echo "storm: $(cat "$dir/storm.out")" >&2
done
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^patd_cache_(stale|flushes)' || true
