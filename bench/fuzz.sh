#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target (tests/fuzz/) for SECONDS each, one after
# the other, and appends what each did to bench/RESULTS.md: executions,
# executions per second, inputs added to the corpus, peak memory, and
# findings (a crash, leak or sanitizer report fails the target; its
# input is kept under BUILD_DIR/fuzz/crash-TARGET-*).
#   bench/fuzz.sh [SECONDS] [BUILD_DIR]
# The aim is 30 CPU-minutes per target (bench/fuzz.sh 1800).
set -u
secs=${1:-60}
build=${2:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
targets="parsers body headers scan config transfer jose"
results="$src/bench/RESULTS.md"
rows=""
failed=0
for t in $targets; do
    log=$(mktemp)
    if FUZZ_LOG=$log bash "$src/tests/fuzz/run.sh" "$src" "$build" "$secs" \
        "$t" >/dev/null 2>&1; then
        finding=none
    else
        finding="**$(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z-]+|deadly signal|leak' "$log" || echo failed)**"
        failed=1
    fi
    stat() { grep -m1 "stat::$1" "$log" | awk '{print $2}'; }
    rows="$rows| $t | $secs s | $(stat number_of_executed_units) | $(stat average_exec_per_sec) | $(stat new_units_added) | $(stat peak_rss_mb) MB | $finding |
"
    rm -f "$log"
done
{
    printf '\n## %s: fuzzing (`bench/fuzz.sh %s`)\n\n' "$(date -u +%Y-%m-%d)" "$secs"
    printf 'Machine: %s, %s CPUs, %s; clang %s, libFuzzer with ASan + UBSan.\n\n' \
        "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(nproc)" \
        "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
        "$(clang --version | head -1 | grep -oE '[0-9]+\.[0-9.]+' | head -1)"
    printf '| target | time | executions | exec/s | new inputs | peak RSS | findings |\n'
    printf '|---|---|---|---|---|---|---|\n'
    printf '%s' "$rows"
} >>"$results"
tail -n 12 "$results"
exit $failed
