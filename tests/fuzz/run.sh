#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# a bounded time from a seed corpus made of the shared test vectors. Any
# crash, leak or sanitizer report fails the test.
#   run.sh SOURCE_DIR BUILD_DIR [SECONDS]
set -eu
src=$1
out=$2/fuzz
secs=${3:-8}
mkdir -p "$out/corpus"
if ! command -v clang >/dev/null; then
    echo "fuzz: clang is not installed (Debian packages clang, libclang-rt-14-dev)"
    echo "0 passed, 1 failed"
    exit 1
fi
lib="$src/lib"
clang -std=c17 -g -O1 -D_DEFAULT_SOURCE -D_GNU_SOURCE \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$src/include" -I"$lib" \
    "$src/tests/fuzz/fuzz_parsers.c" "$lib/format.c" "$lib/text.c" \
    "$lib/timefmt.c" "$lib/scopeset.c" "$lib/cidr.c" "$lib/err.c" \
    $(pkg-config --cflags --libs libcrypto zlib) -o "$out/fuzz_parsers"
# Seeds: every vector, behind each selector byte.
i=0
while IFS=$'\t' read -r a b c d; do
    [ "${a#\#}" != "$a" ] && continue
    for sel in 0 1; do
        printf "\\x0$sel%s" "${d:-$b}" >"$out/corpus/v$i-$sel"
    done
    i=$((i + 1))
done < <(cat "$src/../shared/vectors/token-format.tsv" "$src/../shared/vectors/token-invalid.tsv")
printf '\x022026-11-27T10:00:00+01:30' >"$out/corpus/time"
printf '\x04repo:read patd:self' >"$out/corpus/scopes"
printf '\x0510.0.0.0/8 2001:db8::/32' >"$out/corpus/cidrs"
printf '\x0610.0.0.0/8|10.9.9.9' >"$out/corpus/match"
cd "$out"
if ./fuzz_parsers -max_total_time="$secs" -rss_limit_mb=1024 \
    -print_final_stats=1 corpus >fuzz.log 2>&1; then
    grep -E 'stat::number_of_executed_units' fuzz.log || true
    echo "1 passed, 0 failed"
else
    tail -40 fuzz.log
    echo "0 passed, 1 failed"
    exit 1
fi
