#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds one libFuzzer target with clang (ASan + UBSan) and runs it for a
# bounded time from its seed corpus. Any crash, leak or sanitizer report
# fails the test.
#   run.sh SOURCE_DIR BUILD_DIR [SECONDS] [TARGET]
# TARGET is parsers (libpat's parsers, seeded from the shared token
# vectors), body, headers, scan, config or transfer (seeded from
# tests/fuzz/corpus/TARGET/). The binary is rebuilt only when a source
# is newer. FUZZ_LOG, when set, receives the run's final statistics.
set -eu
src=$(cd "$1" && pwd)
out=$(cd "$2" && pwd)/fuzz
secs=${3:-8}
target=${4:-parsers}
mkdir -p "$out"
if ! command -v clang >/dev/null; then
    echo "fuzz: clang is not installed (Debian packages clang, libclang-rt-14-dev)"
    echo "0 passed, 1 failed"
    exit 1
fi
lib="$src/lib"
patd="$src/src/patd"
core="$lib/format.c $lib/text.c $lib/timefmt.c $lib/scopeset.c $lib/cidr.c $lib/err.c"
pkgs="libcrypto zlib"
case $target in
parsers) files="$core" ;;
body) files="$patd/wire.c $core"; pkgs="$pkgs jansson libmicrohttpd" ;;
headers) files="$patd/wire.c $patd/log_redact.c $core"
    pkgs="$pkgs jansson libmicrohttpd" ;;
scan) files="$src/src/patctl/scan.c $core" ;;
config) files="$patd/serve_config.c $core"; pkgs="$pkgs inih" ;;
transfer) files="$(ls "$lib"/*.c "$lib"/store/*.c | tr '\n' ' ')"
    pkgs="$pkgs jansson sqlite3 libpq libsodium" ;;
jose) files="$(ls "$lib"/*.c "$lib"/store/*.c | tr '\n' ' ')"
    pkgs="$pkgs jansson sqlite3 libpq libsodium" ;;
*) echo "fuzz: unknown target '$target'"; echo "0 passed, 1 failed"; exit 1 ;;
esac
bin="$out/fuzz_$target"
fuzzer="$src/tests/fuzz/fuzz_$target.c"
# shellcheck disable=SC2086
if [ ! -x "$bin" ] || [ -n "$(find "$fuzzer" $files "$src/include" "$lib"/*.h \
    "$patd"/*.h -newer "$bin" 2>/dev/null | head -1)" ]; then
    # shellcheck disable=SC2046,SC2086
    clang -std=c17 -g -O1 -D_DEFAULT_SOURCE -D_GNU_SOURCE \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -I"$src/include" -I"$lib" -I"$patd" -I"$src/src/patctl" \
        -DPATD_VERSION='"fuzz"' \
        "$fuzzer" $files $(pkg-config --cflags --libs $pkgs) -o "$bin.tmp"
    mv "$bin.tmp" "$bin"
fi
work="$out/work-$target"
rm -rf "$work"
mkdir -p "$work"
if [ "$target" = parsers ]; then
    # Seeds: every vector, behind each selector byte.
    seeds="$out/corpus"
    mkdir -p "$seeds"
    i=0
    while IFS=$'\t' read -r a b c d; do
        [ "${a#\#}" != "$a" ] && continue
        for sel in 0 1; do
            printf "\\x0$sel%s" "${d:-$b}" >"$seeds/v$i-$sel"
        done
        i=$((i + 1))
    done < <(cat "$src/../shared/vectors/token-format.tsv" "$src/../shared/vectors/token-invalid.tsv")
    printf '\x022026-11-27T10:00:00+01:30' >"$seeds/time"
    printf '\x04repo:read patd:self' >"$seeds/scopes"
    printf '\x0510.0.0.0/8 2001:db8::/32' >"$seeds/cidrs"
    printf '\x0610.0.0.0/8|10.9.9.9' >"$seeds/match"
else
    seeds="$src/tests/fuzz/corpus/$target"
fi
cd "$out"
# New inputs go to the work directory; the checked-in seeds stay as they are.
if "$bin" -max_total_time="$secs" -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$out/crash-$target-" "$work" "$seeds" \
    >"fuzz-$target.log" 2>&1; then
    grep -E 'stat::number_of_executed_units' "fuzz-$target.log" || true
    [ -n "${FUZZ_LOG:-}" ] && cp "fuzz-$target.log" "$FUZZ_LOG"
    echo "1 passed, 0 failed"
else
    tail -40 "fuzz-$target.log"
    [ -n "${FUZZ_LOG:-}" ] && cp "fuzz-$target.log" "$FUZZ_LOG"
    echo "0 passed, 1 failed"
    exit 1
fi
