#!/bin/sh
# SPDX-License-Identifier: MIT
# Sign and verify cost of a compact JWS with cjose, libjose and patd's
# lib/jose.c (OpenSSL EVP), in one run (bench/jose_bench.c).
#   bench/jose.sh [BUILD_DIR] [SECONDS_PER_FIGURE]
# Needs libcjose-dev and libjose-dev (scripts/deps.sh). About 14 figures
# of SECONDS_PER_FIGURE each (default 0.5: under 10 s in all).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${1:-$top/build}
slice=${2:-0.5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=gnu17 -I"$top/lib" -I"$top/include" \
    -o "$out/jose_bench" "$here/jose_bench.c" "$build/libpat.a" \
    $(pkg-config --cflags --libs cjose jose jansson libcrypto libsodium) \
    $(pkg-config --libs sqlite3 libpq zlib) -lpthread
echo "# $(date -u +%Y-%m-%d) $(nproc) CPUs, $(uname -m); bench/jose.sh $build $slice"
"$out/jose_bench" "$slice"
