#!/bin/bash
# SPDX-License-Identifier: MIT
# Layers stay layers (CONVENTIONS.md): the store (lib/store/) never calls
# up into the domain. Every pat_/pat__ symbol an object of lib/store/
# uses must be defined in lib/store/ itself, in the error helpers
# (lib/err.c) or in the token format code (lib/format.c, lib/text.c).
# Argument: the folder holding libpat's objects (…/pat.dir/lib).
set -u
objdir=$1
allowed_defs=$(mktemp)
trap 'rm -f "$allowed_defs"' EXIT
shopt -s nullglob
store_objs=("$objdir"/store/*.o)
if [ ${#store_objs[@]} -eq 0 ]; then
    echo "no objects under $objdir/store"
    echo "0 passed, 1 failed"
    exit 1
fi
for o in "${store_objs[@]}" "$objdir"/err.c.o "$objdir"/format.c.o \
    "$objdir"/text.c.o; do
    nm --defined-only "$o" | awk 'NF == 3 {print $3}'
done | sort -u >"$allowed_defs"
bad=0
for o in "${store_objs[@]}"; do
    for sym in $(nm --undefined-only "$o" | awk '{print $NF}' |
        grep -E '^pat_' || true); do
        if ! grep -qx "$sym" "$allowed_defs"; then
            echo "$(basename "$o" .c.o) calls up: $sym"
            bad=$((bad + 1))
        fi
    done
done
if [ "$bad" -gt 0 ]; then
    echo "0 passed, 1 failed"
    exit 1
fi
echo "lib/store calls nothing above it (${#store_objs[@]} objects checked)"
echo "1 passed, 0 failed"
