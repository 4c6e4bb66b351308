#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs one test program against a throwaway PostgreSQL cluster: starts it
# with scripts/pg.sh, hands its URL to the program in PATD_TEST_STORE (and
# its directory in PATD_TEST_PG_DIR, for `pg.sh halt|resume`), and stops
# and removes the cluster however the program ends.
#
#   with_pg.sh PROGRAM [ARGS...]
set -eu

if [ $# -lt 1 ]; then
    echo "usage: with_pg.sh PROGRAM [ARGS...]" >&2
    exit 2
fi
pg="$(cd "$(dirname "$0")/../.." && pwd)/scripts/pg.sh"
dir=$(mktemp -d /tmp/patd-pg.XXXXXX)
trap 'sh "$pg" stop "$dir"' EXIT
trap 'exit 130' INT TERM
url=$(sh "$pg" start "$dir")
# In the background, so that a signal (a ctest timeout) runs the traps at
# once instead of after the program.
PATD_TEST_STORE=$url PATD_TEST_PG_DIR=$dir "$@" &
child=$!
trap 'kill "$child" 2>/dev/null; exit 130' INT TERM
set +e
wait "$child"
rc=$?
set -e
exit $rc
