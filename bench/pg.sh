#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/pg.sh: patd on PostgreSQL against patd on SQLite, same tokens,
# same run, alternating.
#
#   bench/pg.sh [BUILD_DIR] [SECONDS]
#
# Builds a 100,000-token SQLite store, copies it into a throwaway
# PostgreSQL cluster (patd export | patd import), serves both, then:
#  - cache hits: wrk -t2 -c64 cycling through 10,000 warmed tokens;
#  - cache misses: the same through all 100,000 tokens with a 1 s cache
#    TTL (almost every request reads the store), beside pgbench running
#    the same kind of single-row keyed join on the same cluster.
# Target: the PostgreSQL node's hit rate within 0.9x of the SQLite node's.
set -eu
build=${1:-build}
secs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
patd="$build/patd"
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
dir=$(mktemp -d /tmp/patd-pgbench.XXXXXX)
chmod 755 "$dir" # the cluster runs as the postgres user
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    sh "$top/scripts/pg.sh" stop "$dir/pg" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
serve() { # store port [env...]
    local store=$1 port=$2
    shift 2
    env PATD_LOG_ACCESS=off PATD_SERVER_MAX_CONNECTIONS_PER_IP=4096 "$@" \
        "$patd" serve --store "$store" --listen "127.0.0.1:$port" 2>>"$dir/patd.err" &
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

echo "building the stores..." >&2
"$build/bench_verify" --make-store "$dir/s.db" 100000 100000 "$dir/all.txt"
head -10000 "$dir/all.txt" >"$dir/hot.txt"
url=$(sh "$top/scripts/pg.sh" start "$dir/pg")
"$patd" export --db "$dir/s.db" --output "$dir/dump.jsonl"
"$patd" import --store "$url" --input "$dir/dump.jsonl"

ps=$(free_port); pp=$(free_port); ms=$(free_port); mp=$(free_port)
serve "sqlite:$dir/s.db" "$ps"
serve "$url" "$pp"
serve "sqlite:$dir/s.db" "$ms" PATD_CACHE_TTL=1
serve "$url" "$mp" PATD_CACHE_TTL=1
rate "$ps" "$dir/hot.txt" 3 >/dev/null
rate "$pp" "$dir/hot.txt" 3 >/dev/null

echo
echo "| run | SQLite node req/s | PostgreSQL node req/s | ratio |"
echo "|---|---|---|---|"
for round in 1 2; do
    s=$(rate "$ps" "$dir/hot.txt" "$secs")
    p=$(rate "$pp" "$dir/hot.txt" "$secs")
    awk -v r="$round" -v s="$s" -v p="$p" 'BEGIN { printf "| cache hits %d | %.0f | %.0f | %.2f |\n", r, s, p, p/s }'
done
s=$(rate "$ms" "$dir/all.txt" "$secs")
p=$(rate "$mp" "$dir/all.txt" "$secs")
awk -v s="$s" -v p="$p" 'BEGIN { printf "| cache misses (TTL 1 s, 100k tokens) | %.0f | %.0f | %.2f |\n", s, p, p/s }'
curl -s "http://127.0.0.1:$mp/metrics" | grep -E '^patd_cache_(hits|misses)_total' | sed 's/^/  pg node: /'

# pgbench: the same shape of read (one secret -> token -> owner by key).
host=$(sed -E 's|.*@([^:/]+):([0-9]+)/.*|\1|' <<<"$url")
port=$(sed -E 's|.*@([^:/]+):([0-9]+)/.*|\2|' <<<"$url")
db=$(sed -E 's|.*/([^/?]+).*|\1|' <<<"$url")
cat >"$dir/lookup.sql" <<'SQL'
\set n random(1, 100000)
SELECT t.id, t.scopes, t.expires_at, t.revoked_at, u.username, u.scopes, u.disabled
  FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.seq = :n;
SQL
chown -R postgres "$dir" 2>/dev/null || true
echo
echo "pgbench, same cluster, 2 clients, 2 threads, ${secs}s, prepared:"
runuser -u postgres -- /usr/lib/postgresql/15/bin/pgbench -h "$host" -p "$port" \
    -U postgres -n -c 2 -j 2 -T "$secs" -M prepared -f "$dir/lookup.sql" "$db" 2>&1 |
    grep -E '^tps|latency average'
