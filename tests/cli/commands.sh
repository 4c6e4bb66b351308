#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The local admin commands of patd, run as a user would run them, against
# a store in a temporary directory: exit statuses (0 done, 1 refused with
# one line on stderr, 2 usage), messages, JSON output, the token format,
# the token lifecycle, and that no plaintext token reaches the store files.
#
#     bash tests/cli/commands.sh build/patd
. "$(dirname "$0")/lib.sh" "$@"

DB=$TMPD/store.db
TOKENS=$TMPD/tokens.txt # every plaintext token seen; never inside a store
: >"$TOKENS"

pd() { "$PATD" "$@" --db "$DB"; }
verify() { printf '%s\n' "$1" | "$PATD" token verify --db "$DB" "${@:2}"; }
snapshot() { "$PATD" token list --status all --json --db "$DB"; }
remember() { printf '%s\n' "$1" >>"$TOKENS"; }
unchanged() { # unchanged BEFORE: the token list is still BEFORE
    local now
    now=$(snapshot)
    SNAP=$now
    if [ "$1" == "$now" ]; then
        ok "token list unchanged after a refused command"
    else
        fail "token list changed after a refused command:"
        diff <(printf '%s\n' "$1") <(printf '%s\n' "$now") | grep '^[<>]' | head -8
    fi
}

# ---------------------------------------------------------------- init
expect_exit 0 "$PATD" init --db "$DB"
T0=$OUT
remember "$T0"
expect_eq 1 "$(printf '%s\n' "$OUT" | wc -l)" "init prints one line on stdout"
check "init token '$T0' matches ^pat_[0-9A-Za-z]{38}\$ and its checksum holds" \
    token_ok "$T0"
expect_err "initialised '$DB'"
expect_err "patd:admin patd:self"
check "the init token is not on stderr" test "${ERR/"$T0"/}" == "$ERR"

# Hold the store open for the rest of the test, so that its -wal and -shm
# files stay on disk (the last connection to close removes them) and the
# final search for plaintext tokens covers them.
py - "$DB" "$TMPD/holder.ready" "$TMPD/holder.stop" <<'EOF' &
import os, sqlite3, sys, time
db, ready, stop = sys.argv[1:]
c = sqlite3.connect(db)
c.execute("SELECT count(*) FROM sqlite_master").fetchall()
open(ready, "w").close()
deadline = time.time() + 60
while not os.path.exists(stop) and time.time() < deadline:
    time.sleep(0.05)
EOF
HOLDER=$!
BG_PIDS+=("$HOLDER")
deadline=$((SECONDS + 10))
while [ ! -e "$TMPD/holder.ready" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.02
done
check "a second connection holds the store open" test -e "$TMPD/holder.ready"

expect_exit 0 verify "$T0"
expect_out "of admin"
expect_out "scopes: patd:admin patd:self"

users0=$(pd user list --json)
tokens0=$(snapshot)
audit0=$(pd audit list --json)
expect_exit 1 "$PATD" init --db "$DB" && expect_one_line
expect_err "store is already initialised"
expect_eq "" "$OUT" "a refused init prints no token"
expect_eq "$users0" "$(pd user list --json)" "users unchanged by a second init"
expect_eq "$tokens0" "$(snapshot)" "tokens unchanged by a second init"
expect_eq "$audit0" "$(pd audit list --json)" "audit unchanged by a second init"
expect_exit 1 "$PATD" init --db "$DB" --token-file "$TMPD/again.tok"
check "a refused init leaves no token file" test ! -e "$TMPD/again.tok"

# --token-file, --admin, --prefix, --json on a second store.
DB2=$TMPD/second/store.db
TF=$TMPD/admin.tok
expect_exit 0 "$PATD" init --db "$DB2" --admin root --prefix acme \
    --token-file "$TF" --json
T2=$(cat "$TF")
remember "$T2"
check "--prefix acme: '$T2' has the format and checksum" token_ok "$T2" acme
expect_eq 600 "$(stat -c %a "$TF")" "token file mode"
# A token written to a file is not also printed (issue #11.2).
check "init --token-file --json does not print the token" \
    eval '[[ -n $T2 && $OUT != *"$T2"* ]]'
expect_eq "$TF" "$(printf '%s' "$OUT" | json 'd["token_file"]')" \
    "init --json names the token file"
expect_eq "false" "$(printf '%s' "$OUT" | json '"token" in d')" \
    "init --token-file --json has no token field"
expect_eq "root admin patd:admin patd:self bootstrap" \
    "$(printf '%s' "$OUT" | json '[d["user"]["username"], d["user"]["role"]] + d["token_object"]["scopes"] + [d["token_object"]["name"]]')" \
    "init --json: user and token object"
TF4=$TMPD/fourth.tok
expect_exit 0 "$PATD" init --db "$TMPD/fourth.db" --token-file "$TF4"
T4=$(cat "$TF4")
remember "$T4"
check "the token file holds a token" token_ok "$T4" pat
expect_eq "" "$OUT" "init --token-file prints nothing on stdout"
expect_err "is in '$TF4'"
check "init --token-file does not print the token on stderr either" \
    eval '[[ -n $T4 && $ERR != *"$T4"* ]]'
expect_exit 0 bash -c 'printf "%s\n" "$1" | "$PATD" token verify --db "$2"' _ "$T2" "$DB2"
expect_out "of root"
expect_exit 1 bash -c 'printf "%s\n" "$1" | "$PATD" token verify --db "$2"' _ "$T0" "$DB2"
expect_err "malformed token"
expect_exit 1 "$PATD" init --db "$TMPD/third.db" --token-file "$TF" && expect_one_line
expect_err "cannot create '$TF'"
check "init refusing an existing token file creates no store" \
    test ! -e "$TMPD/third.db"
expect_eq "$T2" "$(cat "$TF")" "an existing token file is left alone"
expect_exit 1 "$PATD" init --db "$TMPD/fourth.db" --prefix Bad
expect_err "invalid token prefix 'Bad'"
expect_exit 1 "$PATD" user list --db "$TMPD/none.db" && expect_one_line
expect_err "run 'patd init' first"
check "a command on a missing store does not create it" test ! -e "$TMPD/none.db"

# Where the store is: --db, else PATD_DB.
expect_exit 0 env PATD_DB="$DB" "$PATD" user list
expect_out "admin"
expect_exit 0 env PATD_DB="$TMPD/none.db" "$PATD" user list --db "$DB"

# ------------------------------------------------------ usage, version
expect_exit 2 "$PATD"
expect_exit 2 "$PATD" frobnicate
expect_err "unknown command 'frobnicate'"
expect_exit 2 pd token frobnicate
expect_exit 0 "$PATD" --help
expect_exit 0 "$PATD" token --help
expect_out "usage: patd token create"
expect_exit 2 pd token create --user admin --name u --scope patd:self --bogus
expect_err "unrecognized option '--bogus'"
expect_exit 2 pd token create --name u --scope patd:self
expect_err "--user and --name are required"
expect_exit 2 pd token create --user admin --name u --scope patd:self --expires-in-days abc
expect_err "invalid value 'abc'"
expect_exit 2 pd token create --user admin --name u --scope patd:self --expires-in-days 0
expect_exit 2 pd token create --user admin --name u --scope patd:self --expires-at tomorrow
expect_exit 2 pd token regenerate tok_0000000000000000 --grace -1
expect_exit 2 pd token regenerate tok_0000000000000000 --grace 5x
expect_exit 2 pd token list --status bogus
expect_exit 2 pd token list --scope a --scope b
expect_exit 2 pd token revoke
expect_err "give a token id, or --user alone"
expect_exit 2 pd token revoke tok_0000000000000000 --user admin
expect_exit 2 pd token show
expect_exit 2 pd user show
expect_exit 2 pd scope add
expect_exit 2 pd audit list extra
expect_exit 0 "$PATD" version
check "version output '$OUT'" eval '[[ $OUT =~ ^patd\ [0-9]+\.[0-9]+\.[0-9]+\ \(schema\ [0-9]+\)$ ]]'
SCHEMA=${OUT##*schema }
SCHEMA=${SCHEMA%)}

# ------------------------------------------------------------- scopes
expect_exit 0 pd scope add read --description "Read things"
expect_exit 0 pd scope add write
expect_exit 0 pd scope list --json
expect_eq "patd:admin patd:introspect patd:scim patd:self read write" \
    "$(printf '%s' "$OUT" | json 'sorted(s["name"] for s in d["items"])')" \
    "scope list names"
expect_eq "Read things false true" \
    "$(printf '%s' "$OUT" | json '[s["description"] for s in d["items"] if s["name"] == "read"] + [s["builtin"] for n in ("read", "patd:self") for s in d["items"] if s["name"] == n]')" \
    "scope description and builtin flags"
expect_exit 0 pd scope list
expect_out "Read things"
expect_exit 1 pd scope add 'Bad!' && expect_one_line
expect_err "invalid scope name 'Bad!'"
expect_exit 1 pd scope add patd:admin --description mine
expect_err "scope 'patd:admin' is built in"

# -------------------------------------------------------------- users
expect_exit 0 pd user add alice --scope patd:self --scope read --email alice@example.com --json
ALICE=$(printf '%s' "$OUT" | json 'd["id"]')
check "user id '$ALICE' looks like usr_ + 16 base62" \
    eval '[[ $ALICE =~ ^usr_[0-9A-Za-z]{16}$ ]]'
expect_eq "alice user alice@example.com false patd:self read" \
    "$(printf '%s' "$OUT" | json '[d["username"], d["role"], d["email"], d["disabled"]] + d["scopes"]')" \
    "user add --json"
expect_exit 0 pd user add bob
expect_exit 0 pd user show bob --json
expect_eq "user patd:self" "$(printf '%s' "$OUT" | json '[d["role"]] + d["scopes"]')" \
    "a new user gets patd:self"
expect_exit 0 pd user add carol --admin --json
expect_eq admin "$(printf '%s' "$OUT" | json 'd["role"]')" "user add --admin"
expect_exit 1 pd user add alice && expect_one_line
expect_err "username 'alice' is taken"
expect_exit 1 pd user add dave --scope nope
expect_err "unknown scope 'nope'"
expect_exit 1 pd user add 'Bad Name'
expect_err "invalid username 'Bad Name'"
expect_exit 0 pd user list --json
expect_eq "admin alice bob carol" \
    "$(printf '%s' "$OUT" | json '[u["username"] for u in d["items"]]')" "user list --json"
expect_exit 0 pd user list
expect_out "alice"
expect_exit 0 pd user show alice
expect_out "email:        alice@example.com"
expect_exit 0 pd user show "$ALICE" --json
expect_eq alice "$(printf '%s' "$OUT" | json 'd["username"]')" "user show by id"
expect_exit 1 pd user show nobody && expect_one_line
expect_err "no user 'nobody'"
expect_exit 0 pd user set-scopes bob patd:self read --json
expect_eq "patd:self read" "$(printf '%s' "$OUT" | json 'd["scopes"]')" "set-scopes --json"
expect_exit 1 pd user set-scopes bob nope
expect_err "unknown scope 'nope'"
expect_eq "patd:self read" "$(pd user show bob --json | json 'd["scopes"]')" \
    "a refused set-scopes changes nothing"
expect_exit 0 pd user disable carol --json
expect_eq true "$(printf '%s' "$OUT" | json 'd["disabled"]')" "user disable"
expect_exit 0 pd user disable carol
expect_exit 0 pd user enable carol --json
expect_eq false "$(printf '%s' "$OUT" | json 'd["disabled"]')" "user enable"

# ------------------------------------------------------- token create
expect_exit 0 pd token create --user alice --name ci-1 --scope read \
    --description "first token" --expires-in-days 10 --json
T1=$(printf '%s' "$OUT" | json 'd["token"]')
ID1=$(printf '%s' "$OUT" | json 'd["id"]')
remember "$T1"
check "created token '$T1' has the format and checksum" token_ok "$T1"
check "token id '$ID1' looks like tok_ + 16 base62" \
    eval '[[ $ID1 =~ ^tok_[0-9A-Za-z]{16}$ ]]'
# (created_at and expires_at come from two readings of the clock, which
# may straddle a second.)
expect_eq "ci-1|first token|read|active|${T1: -4}|$ALICE|True" \
    "$(printf '%s' "$OUT" | json '"|".join([d["name"], d["description"], " ".join(d["scopes"]), d["status"], d["hint"], d["user_id"], str(lifetime(d) in (863999, 864000))])')" \
    "token create --json: fields, hint and a 10-day lifetime"

expect_exit 0 pd token create --user alice --name ci-2 --scope read --scope patd:self
T3=$OUT
remember "$T3"
expect_eq 1 "$(printf '%s\n' "$OUT" | wc -l)" "token create prints the token alone"
check "token '$T3' has the format and checksum" token_ok "$T3"
check "two tokens differ" test "$T1" != "$T3"
expect_exit 0 verify "$T3" --json
ID3=$(printf '%s' "$OUT" | json 'd["token_id"]')
expect_exit 0 pd token show "$ID3" --json
expect_eq "true patd:self read" \
    "$(printf '%s' "$OUT" | json '[lifetime(d) in (2591999, 2592000)] + d["scopes"]')" \
    "default lifetime 30 days; scopes sorted"

AT=$(now_plus $((2 * 86400)))
expect_exit 0 pd token create --user alice --name ci-3 --scope read --expires-at "$AT" \
    --audience https://api.example.com --audience billing --cidr 10.0.0.0/8 \
    --cidr 2001:db8::/32 --json
T4=$(printf '%s' "$OUT" | json 'd["token"]')
remember "$T4"
expect_eq "$AT|billing https://api.example.com|10.0.0.0/8 2001:db8::/32" \
    "$(printf '%s' "$OUT" | json '"|".join([d["expires_at"], " ".join(d["audiences"]), " ".join(d["allowed_cidrs"])])')" \
    "--expires-at, --audience and --cidr"

NAME100=$(printf 'n%.0s' {1..100})
NAME101=${NAME100}x

# Each refusal: exit 1, one line on stderr saying why, nothing created.
# SNAP is the token list before the next refusal (refusals and user
# changes leave it alone, so each refusal's "after" is the next "before").
SNAP=$(snapshot)
refuse() { # refuse MESSAGE ARGS...: token create ARGS is refused with MESSAGE
    local msg=$1
    shift
    expect_exit 1 pd token create "$@" && expect_one_line
    expect_err "$msg"
    expect_eq "" "$OUT" "a refused create prints no token"
    [ -z "$OUT" ] || remember "$OUT"
    unchanged "$SNAP" # sets SNAP to the list now
}
refuse "unknown scope 'nope'" --user alice --name r1 --scope nope
refuse "scope 'write' is not allowed for user 'alice'" --user alice --name r1 --scope write
refuse "scope 'patd:admin' is not allowed for user 'alice'" --user alice --name r1 --scope read --scope patd:admin
refuse "a token named 'ci-1' already exists for user 'alice'" --user alice --name ci-1 --scope read
refuse "name is longer than 100 characters" --user alice --name "$NAME101" --scope read
refuse "name must not be empty" --user alice --name "" --scope read
refuse "expires_in_days must be from 1 to 366" --user alice --name r1 --scope read --expires-in-days 400
refuse "expires_in_days must be from 1 to 366" --user alice --name r1 --scope read --expires-in-days 367
refuse "expires_at is beyond the policy's maximum lifetime of 366 days" --user alice --name r1 --scope read --expires-at "$(now_plus $((400 * 86400)))"
refuse "the policy does not allow tokens without expiry" --user alice --name r1 --scope read --no-expiry
refuse "expires_at is in the past" --user alice --name r1 --scope read --expires-at 2020-01-01T00:00:00Z
refuse "expires_at is in the past" --user alice --name r1 --scope read --expires-at "$(now_plus -60)"
# The Unix epoch is in the past too: it must not read as "no expiry
# given". (Its own user, so that a wrongly created token upsets no other
# check.)
expect_exit 0 pd user add erin --scope read
# patd user passwd: at most 256 bytes, refused beyond, never cut
# (issue #11.7).
PW256=$(printf 'p%.0s' $(seq 256))
passwd() { printf '%s\n' "$1" | "$PATD" user passwd erin --db "$DB"; }
expect_exit 1 passwd "${PW256}JUNK" && expect_one_line
expect_err "longer than 256 bytes"
expect_exit 0 passwd "$PW256"
# A carriage return inside the line is part of the password, not its
# end: "short\rJUNK" has 10 bytes (cut at the \r it had 5, too few).
expect_exit 0 bash -c 'printf "short\rJUNK\n" | "$1" user passwd erin --db "$2"' _ "$PATD" "$DB"
expect_exit 0 bash -c 'printf "abcdefgh\r\n" | "$1" user passwd erin --db "$2"' _ "$PATD" "$DB"
expect_exit 1 bash -c 'printf "short\r\n" | "$1" user passwd erin --db "$2"' _ "$PATD" "$DB"
refuse "expires_at is in the past" --user erin --name r1 --scope read --expires-at 1970-01-01T00:00:00Z
refuse "give at most one of expires_at, expires_in_days and no expiry" --user alice --name r1 --scope read --expires-in-days 5 --no-expiry
refuse "invalid entry '10.0.0.0/33' in allowed_cidrs" --user alice --name r1 --scope read --cidr 10.0.0.0/33
refuse "invalid entry 'bogus' in allowed_cidrs" --user alice --name r1 --scope read --cidr bogus
refuse "at least one scope is required" --user alice --name r1
refuse "no user 'nobody'" --user nobody --name r1 --scope read
expect_exit 0 pd user disable alice
refuse "user 'alice' is disabled" --user alice --name r1 --scope read
expect_exit 0 pd user enable alice

expect_exit 0 pd token create --user alice --name "$NAME100" --scope read
remember "$OUT"
check "a 100-character name is accepted" token_ok "$OUT"

# ------------------------------------------------------------- verify
expect_exit 0 verify "$T1"
expect_out "valid: token $ID1 of alice ($ALICE); scopes: read"
expect_exit 0 verify "$T1" --json
expect_eq "true valid $ID1 alice read" \
    "$(printf '%s' "$OUT" | json '[d["valid"], d["result"], d["token_id"], d["username"], d["scopes"]]')" \
    "verify --json"
expect_exit 0 bash -c 'printf "  \n%s" "$1" | "$PATD" token verify --db "$2"' _ "$T1" "$DB"
expect_exit 1 bash -c 'printf "\n" | "$PATD" token verify --db "$1"' _ "$DB" && expect_one_line
expect_err "no token on standard input"
last=${T1: -1}
[ "$last" == A ] && other=B || other=A
expect_exit 1 verify "${T1%?}$other" && expect_one_line
expect_err "token is not valid: malformed token"
expect_exit 1 verify "${T1%??????}"
expect_err "malformed token"
expect_exit 1 verify "acme_${T1#pat_}"
expect_err "malformed token"
UNKNOWN=$(py -c '
import zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
b = "pat_" + "0123456789abcdef" * 2
c = zlib.crc32(b.encode()); s = ""
for _ in range(6):
    s = A[c % 62] + s; c //= 62
print(b + s)')
check "a hand-made token '$UNKNOWN' passes our own checksum" token_ok "$UNKNOWN"
expect_exit 1 verify "$UNKNOWN"
expect_err "token is not valid: unknown token"
expect_exit 1 verify "$UNKNOWN" --json
expect_eq "false EUNKNOWN" "$(printf '%s' "$OUT" | json '[d["valid"], d["result"]]')" \
    "verify --json of an unknown token"
# Effective scopes are the token's scopes that the owner still has.
expect_exit 0 pd user set-scopes alice patd:self
expect_exit 0 verify "$T3" --json
expect_eq "patd:self" "$(printf '%s' "$OUT" | json 'd["scopes"]')" \
    "a scope taken from the user leaves the token"
expect_exit 0 pd user set-scopes alice patd:self read
expect_exit 0 verify "$T3" --json
expect_eq "patd:self read" "$(printf '%s' "$OUT" | json 'd["scopes"]')" \
    "a scope given back returns"

# ------------------------------------------------------- show, rename
expect_exit 0 pd token show "$ID1"
expect_out "name:          ci-1"
expect_out "hint:          ...${T1: -4}"
check "token show does not print the token" test "${OUT/"$T1"/}" == "$OUT"
expect_exit 0 pd token rename "$ID1" ci-renamed --json
expect_eq ci-renamed "$(printf '%s' "$OUT" | json 'd["name"]')" "rename --json"
expect_eq ci-renamed "$(pd token show "$ID1" --json | json 'd["name"]')" "rename is stored"
expect_exit 1 pd token rename "$ID1" ci-2 && expect_one_line
expect_err "a token named 'ci-2' already exists"
expect_exit 1 pd token show tok_nope && expect_one_line
expect_err "no token 'tok_nope'"
expect_exit 1 pd token rename tok_0000000000000000 x
expect_err "no token 'tok_0000000000000000'"
expect_exit 0 verify "$T1"

# ---------------------------------------------------------- regenerate
expect_exit 0 pd token regenerate "$ID1"
N1=$OUT
remember "$N1"
check "regenerated token '$N1' has the format and checksum" token_ok "$N1"
check "regeneration gives a new token" test "$N1" != "$T1"
expect_exit 1 verify "$T1" && expect_one_line
expect_err "token is not valid: retired token secret presented again"
expect_exit 1 verify "$T1" --json
expect_eq "false EREUSED $ID1" "$(printf '%s' "$OUT" | json '[d["valid"], d["result"], d["token_id"]]')" \
    "verify --json of a retired secret"
expect_exit 0 verify "$N1"
expect_out "valid: token $ID1 of alice"
expect_eq "${N1: -4} ci-renamed active" \
    "$(pd token show "$ID1" --json | json '[d["hint"], d["name"], d["status"]]')" \
    "the hint follows the new secret"

# With a grace period the old secret keeps working, then is refused. The
# end of the grace is checked further down, after the other commands.
expect_exit 0 pd token create --user alice --name graceful --scope read
G0=$OUT
remember "$G0"
expect_exit 0 verify "$G0" --json
IDG=$(printf '%s' "$OUT" | json 'd["token_id"]')
t_start=$(date +%s%N)
expect_exit 0 pd token regenerate "$IDG" --grace 2
G1=$OUT
remember "$G1"
check "regenerated token '$G1' has the format and checksum" token_ok "$G1"
expect_exit 0 verify "$G0"
expect_out "valid: token $IDG"
expect_exit 0 verify "$G1"
expect_out "valid: token $IDG"
expect_exit 2 pd token regenerate "$IDG" --grace 604801

# -------------------------------------------------------------- revoke
expect_exit 0 pd token revoke "$ID1" --reason leaked
expect_exit 1 verify "$N1" && expect_one_line
expect_err "token is not valid: token revoked"
expect_exit 1 verify "$T1"
expect_err "token revoked"
expect_eq "revoked leaked" "$(pd token show "$ID1" --json | json '[d["status"], d["revoked_reason"]]')" \
    "token show after revoke"
expect_exit 0 pd token revoke "$ID1"
expect_eq "revoked leaked" "$(pd token show "$ID1" --json | json '[d["status"], d["revoked_reason"]]')" \
    "revoking again keeps the first revocation"
expect_exit 1 pd token regenerate "$ID1" && expect_one_line
expect_err "token '$ID1' is revoked"
expect_exit 1 pd token rename "$ID1" again
expect_err "token '$ID1' is revoked"
expect_exit 1 pd token revoke tok_nope && expect_one_line
expect_err "no token 'tok_nope'"
expect_exit 1 pd token revoke "$ID3" --reason "Not Valid"
expect_err "reason must be"
expect_exit 0 verify "$T3"
expect_exit 0 pd token list --json
check "token list (active) leaves out the revoked token" \
    eval '[[ $(printf "%s" "$OUT" | json "[t[\"id\"] for t in d[\"items\"]]") != *"$ID1"* ]]'
expect_exit 0 pd token list --status revoked --json
expect_eq "$ID1" "$(printf '%s' "$OUT" | json '[t["id"] for t in d["items"]]')" "token list --status revoked"
expect_exit 0 pd token list --user alice --status all --json
expect_eq "ci-renamed ci-2 ci-3 $NAME100 graceful" \
    "$(printf '%s' "$OUT" | json '[t["name"] for t in d["items"]]')" "token list --user alice --status all"
expect_exit 0 pd token list --status all
expect_out "$ID1"
# A revoked token's name is free again.
expect_exit 0 pd token create --user alice --name ci-renamed --scope read
remember "$OUT"

# revoke --user
expect_exit 0 pd token create --user bob --name b1 --scope read
B1=$OUT
remember "$B1"
expect_exit 0 pd token create --user bob --name b2 --scope patd:self
B2=$OUT
remember "$B2"
expect_exit 0 pd token revoke --user bob --reason offboarded
expect_eq "revoked 2 tokens" "$OUT" "revoke --user counts the tokens"
expect_exit 1 verify "$B1"
expect_err "token revoked"
expect_exit 1 verify "$B2"
expect_err "token revoked"
expect_exit 0 pd token revoke --user bob
expect_eq "revoked 0 tokens" "$OUT" "revoke --user again revokes nothing"
expect_exit 1 pd token revoke --user nobody && expect_one_line
expect_err "no user 'nobody'"
expect_exit 0 verify "$T3"

# -------------------------------------------------------- disabled user
expect_exit 0 pd user disable alice
expect_exit 1 verify "$T3" && expect_one_line
expect_err "token is not valid: user disabled"
expect_exit 1 pd token regenerate "$ID3"
expect_err "user 'alice' is disabled"
expect_exit 0 pd user enable alice
expect_exit 0 verify "$T3"
expect_out "valid: token $ID3 of alice"

# ------------------------------------------------------ end of grace
deadline=$((SECONDS + 10))
while :; do
    run verify "$G0"
    [ "$RC" -eq 0 ] || break
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.05
done
elapsed_ms=$((($(date +%s%N) - t_start) / 1000000))
expect_eq 1 "$RC" "the old secret is refused once the 2 s grace is over (after ${elapsed_ms} ms)"
expect_err "token is not valid: retired token secret presented again"
check "the grace period was honoured (${elapsed_ms} ms >= 1000 ms)" test "$elapsed_ms" -ge 1000
expect_exit 0 verify "$G1"
expect_out "valid: token $IDG"

# --------------------------------------------------------------- audit
expect_exit 0 pd audit list
expect_out "token.created"
expect_exit 0 pd audit list --json
printf '%s' "$OUT" | py -c '
import json, sys
ev = json.load(sys.stdin)["items"]
id1, idg, alice = sys.argv[1], sys.argv[2], sys.argv[3]
def check(cond, what):
    print(("ok " if cond else "FAIL ") + what)
mine = [e for e in ev if e["target_token_id"] == id1]
acts = [e["action"] for e in mine]
check(acts.count("token.created") == 1, "one token.created event for %s" % id1)
check(acts.count("token.regenerated") == 1, "one token.regenerated event for %s" % id1)
check(acts.count("token.revoked") == 1, "one token.revoked event for %s (a second revoke is a no-op)" % id1)
check(acts.count("token.updated") == 1, "one token.updated event (the rename) for %s" % id1)
check(acts.count("token.reuse_detected") >= 1, "token.reuse_detected for %s" % id1)
check([e["detail"].get("grace_seconds") for e in ev if e["action"] == "token.regenerated" and e["target_token_id"] in (id1, idg)] == [0, 2],
      "regeneration events record the grace")
check([e["action"] for e in ev if e["target_token_id"] == idg].count("token.reuse_detected") == 1,
      "one token.reuse_detected for %s (its old secret, after the grace)" % idg)
check([e["detail"].get("reason") for e in mine if e["action"] == "token.revoked"] == ["leaked"],
      "the revoke event records the reason")
check(all(e["target_user_id"] == alice for e in mine), "events name the owner")
check(any(e["action"] == "token.revoked_all" and e["detail"].get("count") == 2 for e in ev),
      "token.revoked_all for bob counts 2")
for a in ("store.initialised", "user.created", "user.disabled", "user.enabled",
          "user.scopes_changed", "scope.updated"):
    check(a in (e["action"] for e in ev), "audit has %s" % a)
seqs = [e["id"] for e in ev]
check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "audit ids increase")
' "$ID1" "$IDG" "$ALICE" | tally
expect_exit 0 pd audit list --action token.revoked --json
expect_eq "token.revoked" "$(printf '%s' "$OUT" | json 'sorted(set(e["action"] for e in d["items"]))')" \
    "audit list --action filters"
expect_exit 0 pd audit list --json
check "the audit trail holds no plaintext token" \
    eval '! printf "%s" "$OUT" | grep -q -F -f "$TOKENS"'

# ------------------------------------------------------------- migrate
expect_exit 0 pd migrate
expect_eq "schema version $SCHEMA (0 migrations applied now)" "$OUT" "migrate on a current store"
expect_exit 0 pd migrate --json
expect_eq "$SCHEMA 0" "$(printf '%s' "$OUT" | json '[d["schema_version"], d["applied"]]')" "migrate --json"

# ---------------------------------------------- no plaintext on disk
# Every plaintext token this test saw, searched for in the raw bytes of
# both stores, their write-ahead logs and shared-memory files.
ntok=$(wc -l <"$TOKENS")
check "collected $ntok tokens to search for" test "$ntok" -ge 12
check "the write-ahead log of the held store exists" test -s "$DB-wal"
for f in "$DB" "$DB-wal" "$DB-shm" "$DB2" "$DB2-wal" "$DB2-shm"; do
    [ -e "$f" ] || continue
    n=$(grep -c -F -a -f "$TOKENS" "$f")
    expect_eq 0 "$n" "no plaintext token in $(basename "$(dirname "$f")")/$(basename "$f")"
done
# The search can see what is there: the store does hold SHA-256 of the
# tokens, and the user names.
py - "$TOKENS" "$DB" "$DB-wal" <<'EOF' | tally
import hashlib, os, sys
toks = open(sys.argv[1]).read().split()
blob = b"".join(open(f, "rb").read() for f in sys.argv[2:] if os.path.exists(f))
found = [t for t in toks if t.startswith("pat_") and hashlib.sha256(t.encode()).digest() in blob]
print(("ok " if found else "FAIL ") + "the store holds SHA-256 digests of tokens (%d found)" % len(found))
print(("ok " if b"alice" in blob else "FAIL ") + "the search reads the store's content")
EOF

touch "$TMPD/holder.stop"
wait "$HOLDER"
bg_forget "$HOLDER"
finish
