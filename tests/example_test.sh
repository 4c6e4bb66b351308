#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs docs/examples/verify_example against a real store: a valid token,
# a missing scope, and a revoked token.
set -u
patd=$1
example=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0
fail=0
check() { # name expected-exit expected-output-prefix actual-exit actual-output
    if [ "$4" = "$2" ] && [[ "$5" == "$3"* ]]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $1: exit $4 (want $2), output '$5' (want '$3...')"
    fi
}
"$patd" init --db "$dir/p.db" >"$dir/admin" 2>/dev/null
tok=$("$patd" token create --db "$dir/p.db" --user admin --name ex --scope patd:self)
id=$("$patd" token list --db "$dir/p.db" --json | python3 -c \
    'import json,sys; print([t["id"] for t in json.load(sys.stdin)["items"] if t["name"]=="ex"][0])')

out=$(printf '%s\n' "$tok" | "$example" "sqlite:$dir/p.db" patd:self); rc=$?
check valid 0 "valid admin $id" $rc "$out"
out=$(printf '%s\n' "$tok" | "$example" "sqlite:$dir/p.db" patd:admin); rc=$?
check scope 1 "invalid: token lacks a required scope" $rc "$out"
"$patd" token revoke --db "$dir/p.db" "$id"
out=$(printf '%s\n' "$tok" | "$example" "sqlite:$dir/p.db"); rc=$?
check revoked 1 "invalid: token revoked" $rc "$out"
out=$(printf 'pat_nope\n' | "$example" "sqlite:$dir/p.db"); rc=$?
check malformed 1 "invalid: malformed token" $rc "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
