#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the h2o prototype of forward auth (proto.c) against libpat from
# a patd build directory. Not part of patd's build: bench/http_layer.sh
# calls it. Needs libh2o-evloop-dev (scripts/deps.sh).
#   bench/proto_h2o/build.sh [BUILD_DIR] [OUT]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$build/proto_h2o}
if ! pkg-config --exists libh2o-evloop; then
    echo "build.sh: libh2o-evloop-dev is missing (scripts/deps.sh)" >&2
    exit 1
fi
# Debian's libh2o-evloop.pc does not say which event loop the headers
# must select: without -DH2O_USE_LIBUV=0 they look for uv.h.
cc -std=gnu11 -O2 -g -Wall -Wextra -DH2O_USE_LIBUV=0 \
    -I"$root/include" -o "$out" "$here/proto.c" "$build/libpat.a" \
    $(pkg-config --libs libh2o-evloop sqlite3 libpq jansson libsodium zlib) \
    -lssl -lcrypto -lpthread
echo "$out"
