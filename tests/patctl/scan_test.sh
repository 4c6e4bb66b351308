#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# patctl scan and patctl verify against a real patd. scan: a tree with
# planted tokens (issued by patd and made offline, several prefixes),
# near misses that must not be reported, a nested directory, symbolic
# links and a FIFO that must be skipped, 1 MiB lines and a binary file;
# exact findings, hints versus --show, --json, exit statuses, and
# --report revoking exactly the planted tokens, in batches of at most
# 1000. verify: valid, revoked, missing scope, audience, rate limited,
# and the refusals of its input.
#
#     scan_test.sh PATH_TO_PATD PATH_TO_PATCTL
#
# Prints "N passed, M failed" last; exits nonzero if anything failed.
# VERBOSE=1 shows every passing check too.

. "$(dirname "$0")/lib.sh" "$@"

# The hint scan shows for TOKEN: "<prefix>_…<last four>".
hint() {
    printf '%s_\xe2\x80\xa6%s' "${1%%_*}" "${1: -4}"
}

# verify_rc TOKEN ARGS...: runs `patctl verify ARGS` with TOKEN on stdin.
verify_rc() {
    printf '%s\n' "$1" >"$TMPD/verify.in"
    shift
    run_in "$TMPD/verify.in" pc verify "$@"
}

# --- a server and tokens ----------------------------------------------------

start_patd scan
export PATCTL_URL=$URL

# Real tokens: planted ones, and one that stays out of the tree.
PATCTL_TOKEN=$ADMIN run pc token create --name leak1 --scope patd:self
R1=$OUT
PATCTL_TOKEN=$ADMIN run pc token create --name leak2 --scope patd:self \
    --audience api
R2=$OUT
PATCTL_TOKEN=$ADMIN run pc token create --name kept --scope patd:self
KEPT=$OUT
for tok in "$R1" "$R2" "$KEPT"; do
    check "token create made a token" token_ok "$tok"
done

# Offline tokens with other prefixes: shortest, longest, with digits.
O2=$(make_token zz)
O16=$(make_token abcdefghijklmnop)
OD=$(make_token acme2)
OB=$(make_token bin)
OC=$(make_token chunk)
OE=$(make_token end)

# Near misses, each one character or one rule away from a token.
WRONG_SUM=${OD:0:${#OD}-1}$([ "${OD: -1}" == A ] && echo B || echo A)
UPPER=$(make_token PAT) # a prefix with capitals, valid checksum
SHORT=$(make_token pat)
SHORT=${SHORT:0:4}${SHORT:5} # 37-character body
IN_WORD=$(make_token pat)
EMBED=$(make_token pat)

# --- the tree ---------------------------------------------------------------

T=$TMPD/tree
mkdir -p "$T/nested/deeper" "$T/clean"
{
    echo "# config"
    echo "token = $R1"
    echo "wrong checksum: $WRONG_SUM"
    echo "wrong prefix: $UPPER"
    echo "short body: $SHORT"
    echo "inside a word: x$IN_WORD ${EMBED}x foo_$EMBED"
} >"$T/a.txt"
{
    echo "$O2"
    printf 'k="%s"\n' "$O16"
    echo "Authorization: Bearer $R2 and $OD,$R1"
} >"$T/nested/deeper/b.cfg"
# Line 1: a 1 MiB line, a token across the first 64 KiB read boundary.
# Line 2: a 1 MiB word (no token can be in it), then a token at the very
# end of the file, with no newline after it.
py - "$T/big.log" "$OC" "$OE" <<'PY'
import sys
path, oc, oe = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
start = 65536 - 20
line1 = b". " * (start // 2) + oc + b" " * (1048576 - start - len(oc))
line2 = b"a" * 1048576 + b" " + oe
open(path, "wb").write(line1 + b"\n" + line2)
PY
printf '\x00\xff\x01%s\x00\x7f' "$OB" >"$T/bin.dat"
echo "nothing to see here" >"$T/clean/readme"
ln -s a.txt "$T/link-to-file"
ln -s .. "$T/nested/loop"
mkfifo "$T/nested/fifo"

H_R1=$(hint "$R1")
EXPECTED="$T/a.txt:2: $H_R1
$T/big.log:1: $(hint "$OC")
$T/big.log:2: $(hint "$OE")
$T/bin.dat:1: $(hint "$OB")
$T/nested/deeper/b.cfg:1: $(hint "$O2")
$T/nested/deeper/b.cfg:2: $(hint "$O16")
$T/nested/deeper/b.cfg:3: $(hint "$R2")
$T/nested/deeper/b.cfg:3: $(hint "$OD")
$T/nested/deeper/b.cfg:3: $H_R1"

# --- scan: findings ---------------------------------------------------------

expect_exit 1 pc scan "$T"
expect_eq "$EXPECTED" "$OUT" "scan: exactly the planted tokens, file:line"
expect_eq "" "$ERR" "scan: nothing on stderr"
for tok in "$R1" "$R2" "$O2" "$O16" "$OD" "$OB" "$OC" "$OE"; do
    expect_no_secret "$tok"
done
expect_match $'^pat_\xe2\x80\xa6[0-9A-Za-z]{4}$' "$H_R1" "hint shape"
for miss in "$WRONG_SUM" "$UPPER" "$SHORT" "$IN_WORD" "$EMBED"; do
    check "near miss not reported: ${miss:0:8}..." \
        test "$(printf '%s' "$OUT" | grep -c -- "${miss: -4}")" -eq 0
done

expect_exit 1 pc scan --show "$T"
expect_eq "$T/a.txt:2: $R1
$T/big.log:1: $OC
$T/big.log:2: $OE
$T/bin.dat:1: $OB
$T/nested/deeper/b.cfg:1: $O2
$T/nested/deeper/b.cfg:2: $O16
$T/nested/deeper/b.cfg:3: $R2
$T/nested/deeper/b.cfg:3: $OD
$T/nested/deeper/b.cfg:3: $R1" "$OUT" "scan --show prints whole tokens"

expect_exit 1 pc scan --json "$T"
expect_eq "9 false" "$(printf '%s' "$OUT" |
    json '[len(d["items"]), any("token" in i for i in d["items"])]')" \
    "scan --json: nine findings, no token"
expect_eq "$T/nested/deeper/b.cfg 3 $(hint "$OD")" "$(printf '%s' "$OUT" |
    json '[d["items"][7]["file"], d["items"][7]["line"], d["items"][7]["hint"]]')" \
    "scan --json: file, line and hint"
expect_no_secret "$OD"
expect_exit 1 pc scan --json --show "$T/nested"
expect_eq "$O2 $O16 $R2 $OD $R1" "$(printf '%s' "$OUT" |
    json '[i["token"] for i in d["items"]]')" "scan --json --show: tokens"

# Files, several operands, a trailing slash, "-" and standard input.
expect_exit 1 pc scan "$T/a.txt" "$T/clean/"
expect_eq "$T/a.txt:2: $H_R1" "$OUT" "scan FILE DIR/"
run_in "$T/a.txt" pc scan
expect_eq 1 "$RC" "scan of standard input: found"
expect_eq "(standard input):2: $H_R1" "$OUT" "scan of standard input: output"
run_in "$T/nested/deeper/b.cfg" pc scan - "$T/a.txt"
expect_eq "(standard input):1: $(hint "$O2")" "$(printf '%s' "$OUT" | head -1)" \
    "scan -: standard input first"
expect_eq 6 "$(printf '%s\n' "$OUT" | wc -l)" "scan - FILE: both scanned"
# A symbolic link named on the command line is followed.
expect_exit 1 pc scan "$T/link-to-file"
expect_eq "$T/link-to-file:2: $H_R1" "$OUT" "a named symbolic link is followed"

# Exit statuses.
expect_exit 0 pc scan "$T/clean"
expect_eq "" "$OUT" "clean tree: no output"
run_in /dev/null pc scan
expect_eq 0 "$RC" "empty standard input: exit 0"
expect_exit 2 pc scan "$TMPD/no-such-dir"
expect_err "cannot read"
expect_exit 1 pc scan "$TMPD/no-such-dir" "$T/a.txt"
expect_err "cannot read"
expect_exit 2 pc scan --nosuch "$T"
expect_exit 2 pc scan --report "ftp://example.com" "$T"
expect_err "--report"
expect_exit 2 pc scan --url "$URL" "$T"
expect_err "do not apply"
expect_exit 0 pc scan --help

# --- verify -----------------------------------------------------------------

unset PATCTL_TOKEN
verify_rc "$R1"
expect_eq 0 "$RC" "verify: a live token is valid"
expect_out "username: admin"
expect_no_secret "$R1"
verify_rc "$R1" --json
expect_eq "true 200 admin patd:self null" "$(printf '%s' "$OUT" |
    json '[d["valid"], d["status"], d["username"], " ".join(d["scopes"]), d["error"]]')" \
    "verify --json: valid, status, username, scopes, error"
expect_match '^usr_' "$(printf '%s' "$OUT" | json 'd["user_id"]')" \
    "verify --json: user_id"
expect_match '^tok_' "$(printf '%s' "$OUT" | json 'd["token_id"]')" \
    "verify --json: token_id"
expect_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(printf '%s' "$OUT" |
    json 'd["expires"]')" "verify --json: expires"
verify_rc "$R1" --scope patd:self
expect_eq 0 "$RC" "verify --scope the token holds"
verify_rc "$R1" --scope patd:self --scope patd:admin
expect_eq 1 "$RC" "verify --scope the token lacks: exit 1"
expect_out "insufficient_scope"
verify_rc "$R1" --scope patd:admin --json
expect_eq "false 403 insufficient_scope null" "$(printf '%s' "$OUT" |
    json '[d["valid"], d["status"], d["error"], d["username"]]')" \
    "verify --json: insufficient_scope"
verify_rc "$R2" --audience api
expect_eq 0 "$RC" "verify --audience the token is for"
verify_rc "$R2" --audience web
expect_eq 1 "$RC" "verify --audience the token is not for"
verify_rc "$R2"
expect_eq 1 "$RC" "verify without the audience a token requires"
verify_rc "$(make_token pat)"
expect_eq 1 "$RC" "verify: an unknown token is not valid"
expect_out "invalid_token"
# verify runs with the config file's URL and no token of the caller's.
unset PATCTL_URL
verify_rc "$R1"
expect_eq 1 "$RC" "verify without a server URL"
expect_err "no server URL"
verify_rc "$R1" --url "$URL"
expect_eq 0 "$RC" "verify --url"
printf '%s\n' "$R1" >"$TMPD/r1.token"
expect_exit 0 pc verify --url "$URL" --token-file "$TMPD/r1.token"
export PATCTL_URL=$URL
# The token is never an argument, and is not echoed if given as one.
expect_exit 2 pc verify "$R1"
expect_no_secret "$R1"
expect_exit 2 pc verify --token "$R1"
expect_no_secret "$R1"
expect_exit 2 pc verify --scope "two words"
run_in /dev/null pc verify
expect_eq 1 "$RC" "verify with nothing on standard input"
expect_err "cannot read the token"
verify_rc "not a token"
expect_eq 1 "$RC" "verify of text that is not a token"

# --- scan --report ----------------------------------------------------------

verify_rc "$R2" --audience api
expect_eq 0 "$RC" "before the report: R2 valid"
expect_exit 1 pc scan --report "$URL" "$T"
expect_eq "$EXPECTED" "$OUT" "scan --report: the same findings"
expect_eq "patctl: reported 8 tokens to $URL" "$ERR" \
    "scan --report: eight tokens (R1 twice) reported"
verify_rc "$R1"
expect_eq 1 "$RC" "after the report: R1 is revoked"
# The answer does not say why (issue #11): only that the token is dead.
expect_out "the token is not valid"
verify_rc "$R2" --audience api
expect_eq 1 "$RC" "after the report: R2 is revoked"
expect_out "the token is not valid"
verify_rc "$KEPT"
expect_eq 0 "$RC" "after the report: a token not in the tree still works"
verify_rc "$ADMIN"
expect_eq 0 "$RC" "after the report: the admin token still works"
PATCTL_TOKEN=$ADMIN run pc tokens list --status revoked --json
expect_eq "leak1 leak2" "$(printf '%s' "$OUT" |
    json 'sorted(t["name"] for t in d["items"])')" \
    "exactly the planted real tokens are revoked"

# 2500 tokens: three reports (1000, 1000, 500), each within patd's limit.
make_token pat 2500 >"$TMPD/many.txt"
expect_exit 1 pc scan --report "$URL" "$TMPD/many.txt"
expect_eq 2500 "$(printf '%s\n' "$OUT" | wc -l)" "2500 findings"
expect_eq "patctl: reported 2500 tokens to $URL" "$ERR" \
    "2500 tokens reported in batches"
expect_exit 0 pc scan --report "$URL" "$T/clean"
expect_eq "patctl: reported 0 tokens to $URL" "$ERR" "nothing to report"
expect_exit 0 curl -sf "$URL/healthz"

# A report that cannot be delivered: the findings stand, stderr says so.
DOWN=http://127.0.0.1:$(free_port)
expect_exit 1 pc scan --report "$DOWN" "$T/a.txt"
expect_eq "$T/a.txt:2: $H_R1" "$OUT" "report to a server that is down: findings"
expect_err "cannot reach"
expect_err "reported 0 of 1 tokens"

# --- limits: a server with tight rate limits --------------------------------

cat >"$TMPD/tight.ini" <<'EOF'
[auth]
max_failures_per_ip = 2
max_leak_reports_per_ip = 1
EOF
kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
bg_forget "$SERVER"
start_patd tight "$TMPD/tight.ini"
export PATCTL_URL=$URL
BAD=$(make_token pat)
verify_rc "$BAD"
verify_rc "$BAD"
verify_rc "$BAD" --json
expect_eq 1 "$RC" "verify when rate limited: exit 1"
expect_eq "false 429 rate_limited" "$(printf '%s' "$OUT" |
    json '[d["valid"], d["status"], d["error"]]')" "verify --json: 429"
verify_rc "$ADMIN"
expect_eq 1 "$RC" "verify when rate limited: even a valid token gets no verdict"
expect_eq "" "$OUT" "verify when rate limited: no verdict on stdout"
expect_match '^patctl: .*\(rate_limited, HTTP 429\); retry after [0-9]+ s$' \
    "$ERR" "verify when rate limited: the reason on stderr"
make_token pat 1001 >"$TMPD/1001.txt"
expect_exit 1 pc scan --report "$URL" "$TMPD/1001.txt"
expect_err "rate_limited, HTTP 429"
expect_err "reported 1000 of 1001 tokens"
expect_exit 0 curl -sf "$URL/healthz"

finish
