#!/bin/bash
# SPDX-License-Identifier: MIT
# Every global symbol libpat defines is public (pat_) or internal (pat__):
# nothing else may leak into a program that links it. (ASan adds
# __odr_asan.* indicator symbols of its own; they are not ours.) The
# same holds for patcli, the plumbing patd and patctl share, with cli_.
# A shared library (libpat.so) goes further: its dynamic symbol table
# holds the public API alone (pat_ then a letter or digit), no pat__.
#   check_symbols.sh LIBRARY [PREFIX]   (PREFIX defaults to pat_)
set -u
lib=$1
prefix=${2:-pat_}
nmflags=-g
case $lib in
*.so | *.so.*)
    nmflags=-D
    prefix='pat_[a-z0-9]'
    ;;
esac
bad=$(nm $nmflags --defined-only "$lib" |
    awk 'NF == 3 && $2 ~ /[TDBRVW]/ {print $3}' |
    grep -v -e "^$prefix" -e '^__odr_asan' || true)
if [ -n "$bad" ]; then
    echo "symbols without the $prefix prefix in $lib:"
    echo "$bad"
    echo "0 passed, 1 failed"
    exit 1
fi
n=$(nm $nmflags --defined-only "$lib" | awk 'NF == 3 && $2 ~ /[TDBRVW]/' |
    grep -c " $prefix")
echo "$n exported symbols, all prefixed $prefix"
echo "1 passed, 0 failed"
