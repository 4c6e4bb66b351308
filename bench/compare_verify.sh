#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_verify of two builds, alternating in one run so that both see the
# same machine: cache hits/s and SQLite misses/s of each, and the ratio
# NEW/OLD of their sums. Usage:
#   bench/compare_verify.sh OLD_BUILD_DIR NEW_BUILD_DIR [ROUNDS] [SECONDS]
set -eu
old=$1 new=$2 rounds=${3:-3} secs=${4:-3}
declare -A hit miss
hit[old]=0 hit[new]=0 miss[old]=0 miss[new]=0
for i in $(seq "$rounds"); do
    for side in old new; do
        dir=$old
        [ "$side" = new ] && dir=$new
        out=$("$dir/bench_verify" --seconds "$secs")
        h=$(awk '/verify_cache_hit_per_s/ {print $2}' <<<"$out")
        m=$(awk '/verify_cache_miss_sqlite_per_s/ {print $2}' <<<"$out")
        echo "round $i $side: hits/s $h misses/s $m"
        hit[$side]=$((hit[$side] + h))
        miss[$side]=$((miss[$side] + m))
    done
done
awk -v ho="${hit[old]}" -v hn="${hit[new]}" -v mo="${miss[old]}" \
    -v mn="${miss[new]}" -v r="$rounds" 'BEGIN {
    printf "mean old: hits/s %d misses/s %d\n", ho / r, mo / r
    printf "mean new: hits/s %d misses/s %d\n", hn / r, mn / r
    printf "new/old: hits %.2fx misses %.2fx\n", hn / ho, mn / mo }'
