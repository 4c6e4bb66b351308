#!/bin/bash
# SPDX-License-Identifier: MIT
# Every global symbol libpat defines is public (pat_) or internal (pat__):
# nothing else may leak into a program that links it. (ASan adds
# __odr_asan.* indicator symbols of its own; they are not ours.)
set -u
lib=$1
bad=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /[TDBR]/ {print $3}' |
    grep -v -e '^pat_' -e '^__odr_asan' || true)
if [ -n "$bad" ]; then
    echo "symbols without the pat_ prefix in $lib:"
    echo "$bad"
    echo "0 passed, 1 failed"
    exit 1
fi
n=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $2 ~ /[TDBR]/' | grep -c ' pat_')
echo "$n exported symbols, all prefixed pat_"
echo "1 passed, 0 failed"
