#!/bin/bash
# SPDX-License-Identifier: MIT
# patd.conf.example is accepted as it is, and bad configuration stops
# patd serve at start with FILE:LINE: reason and exit status 2.
set -u
patd=$1
example=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0
fail=0
expect() { # name want-exit want-stderr-substring cmd...
    local name=$1 want=$2 msg=$3
    shift 3
    "$@" >"$dir/out" 2>"$dir/err"
    local rc=$?
    if [ "$rc" = "$want" ] && grep -qF -- "$msg" "$dir/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: exit $rc (want $want); stderr: $(cat "$dir/err")"
    fi
}
"$patd" init --db "$dir/p.db" >/dev/null 2>&1
# The example parses: serve gets past the configuration and stops at the
# store, which the example names relative to a directory without one.
# (Not in a subshell: a failure there would not reach the count.)
mkdir -p "$dir/empty"
cd "$dir/empty"
expect example 1 "cannot serve" "$patd" serve --config "$example"
cd - >/dev/null
printf '[server]\nthreads = 2\nbogus = 1\n' >"$dir/a.conf"
expect unknown-key 2 "a.conf:3: unknown key 'bogus' in [server]" \
    "$patd" serve --config "$dir/a.conf" --db "$dir/p.db"
printf '[server]\nthreads = 0\n' >"$dir/b.conf"
expect range 2 "b.conf:2: server.threads = '0' is out of range" \
    "$patd" serve --config "$dir/b.conf" --db "$dir/p.db"
printf '[nope]\nx = 1\n' >"$dir/c.conf"
expect section 2 "c.conf:2: unknown key 'x' in [nope]" \
    "$patd" serve --config "$dir/c.conf" --db "$dir/p.db"
printf '[server]\npublic_url = ftp://patd.example.com\n' >"$dir/u.conf"
expect public-url 2 "must be empty or start with http:// or https://" \
    "$patd" serve --config "$dir/u.conf" --db "$dir/p.db"
printf '[sso]\nissuer = ftp://id.example.com\n' >"$dir/s1.conf"
expect sso-issuer 2 "s1.conf:2: sso.issuer = 'ftp://id.example.com' must be empty or start with https://" \
    "$patd" serve --config "$dir/s1.conf" --db "$dir/p.db"
printf '[server]\npublic_url = https://patd.example.com\n[sso]\nissuer = https://id.example.com\n' >"$dir/s2.conf"
expect sso-client-id 2 "[sso] issuer is set but client_id is not" \
    "$patd" serve --config "$dir/s2.conf" --db "$dir/p.db"
printf '[sso]\nissuer = https://id.example.com\nclient_id = patd\n' >"$dir/s3.conf"
expect sso-public-url 2 "[sso] needs [server] public_url" \
    "$patd" serve --config "$dir/s3.conf" --db "$dir/p.db"
printf '[server]\npublic_url = https://patd.example.com\n[sso]\nissuer = https://id.example.com\nclient_id = patd\nclient_secret_file = /nonexistent/secret\n' >"$dir/s4.conf"
expect sso-secret-file 2 "cannot open '/nonexistent/secret'" \
    "$patd" serve --config "$dir/s4.conf" --db "$dir/p.db"
printf '[server]\nmode = select\n' >"$dir/d.conf"
expect mode 2 "must be 'poll' or 'epoll'" \
    "$patd" serve --config "$dir/d.conf" --db "$dir/p.db"
expect missing-file 2 "cannot read the file" \
    "$patd" serve --config "$dir/none.conf" --db "$dir/p.db"
expect env 2 "PATD_SERVER_MAX_BODY_BYTES" \
    env PATD_SERVER_MAX_BODY_BYTES=12 "$patd" serve --db "$dir/p.db"
expect proxies 2 "trusted_proxies" \
    env PATD_SERVER_TRUSTED_PROXIES="10.0.0.0/99" "$patd" serve --db "$dir/p.db"
# DESIGN.md section 10: a JWT lives an hour at most.
expect jwt-max-lifetime 2 "PATD_JWT_MAX_LIFETIME" \
    env PATD_JWT_MAX_LIFETIME=3601 "$patd" serve --db "$dir/missing/p.db"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
