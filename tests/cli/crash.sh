#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Crash safety of the store under SIGKILL. A background loop creates
# tokens and revokes some of them through patd, and logs an operation only
# once patd has exited 0 for it. Meanwhile this script kills whichever
# patd process is running on the test store with SIGKILL, every 20-200 ms,
# for CRASH_SECONDS (default 8). Afterwards every logged creation must
# verify (or be refused as revoked if its revocation was logged), every
# logged revocation must hold, a revocation never attempted must not have
# happened, each token must carry exactly its audit events, and the store
# must open and pass SQLite's integrity check. With PATD_TEST_STORE set
# (tests/unit/with_pg.sh, the cli_crash_pg test) the same runs against
# that PostgreSQL database instead, where every acknowledged change must
# be there after the kills and nothing unacknowledged half-exists.
#
#     bash tests/cli/crash.sh build/patd
. "$(dirname "$0")/lib.sh" "$@"

DB=$TMPD/crash-store.db # unique: pgrep -f finds patd by it
if [ -n "${PATD_TEST_STORE:-}" ]; then
    STORE=(--store "$PATD_TEST_STORE") # unique too: a cluster of its own
    PATTERN="--store $PATD_TEST_STORE"
else
    STORE=(--db "$DB")
    PATTERN="--db $DB"
fi
LOG=$TMPD/ops.log
STOP=$TMPD/stop
LOOP_ERR=$TMPD/loop.err
SECONDS_TO_RUN=${CRASH_SECONDS:-8}
RANDOM=${CRASH_SEED:-20240611} # the kill intervals; the kills still race

expect_exit 0 "$PATD" init "${STORE[@]}"
expect_exit 0 "$PATD" scope add read "${STORE[@]}"
expect_exit 0 "$PATD" user add crash --scope read "${STORE[@]}"
: >"$LOG"
: >"$LOOP_ERR"

# The writer: one create per round, and every third round a revocation of
# a random live token. "revoking ID" is written before the attempt, so a
# token without it must still be active at the end.
writer() {
    local i=0 rc out id tok n
    local -a live=()
    RANDOM=$1
    while [ ! -e "$STOP" ]; do
        i=$((i + 1))
        out=$("$PATD" token create "${STORE[@]}" --user crash --name "c$i" \
            --scope read --json 2>>"$LOOP_ERR")
        rc=$?
        if [ "$rc" -eq 0 ]; then
            id='' tok=''
            [[ $out =~ \"id\":\ \"(tok_[0-9A-Za-z]{16})\" ]] && id=${BASH_REMATCH[1]}
            [[ $out =~ \"token\":\ \"(pat_[0-9A-Za-z]{38})\" ]] && tok=${BASH_REMATCH[1]}
            if [ -n "$id" ] && [ -n "$tok" ]; then
                echo "created $id $tok" >>"$LOG"
                live+=("$id")
            else
                echo "error create c$i exited 0 without an id and a token" >>"$LOG"
            fi
        elif [ "$rc" -ne 137 ]; then
            echo "error create c$i exited $rc" >>"$LOG"
        fi
        if [ $((i % 3)) -eq 0 ] && [ "${#live[@]}" -gt 0 ]; then
            n=$((RANDOM % ${#live[@]}))
            id=${live[n]}
            live=("${live[@]:0:n}" "${live[@]:n+1}")
            echo "revoking $id" >>"$LOG"
            "$PATD" token revoke "$id" "${STORE[@]}" --reason crash_test \
                >/dev/null 2>>"$LOOP_ERR"
            rc=$?
            if [ "$rc" -eq 0 ]; then
                echo "revoked $id" >>"$LOG"
            elif [ "$rc" -ne 137 ]; then
                echo "error revoke $id exited $rc" >>"$LOG"
            fi
        fi
    done
}

writer "$RANDOM" 2>>"$TMPD/writer.err" &
WRITER=$!
BG_PIDS+=("$WRITER")

# The killer: SIGKILL to the patd child of the writer (never the writer
# shell itself), found by the unique store path on its command line.
kills=0
attempts=0
t_end=$((SECONDS + SECONDS_TO_RUN))
# On a slow machine (ASan, a loaded CI) run on, up to three times as long,
# until enough creations were logged for the checks below to mean much.
t_cap=$((SECONDS + 3 * SECONDS_TO_RUN))
logged() { grep -c '^created ' "$LOG" 2>/dev/null || true; }
while [ "$SECONDS" -lt "$t_end" ] ||
    { [ "$SECONDS" -lt "$t_cap" ] && [ "$(logged)" -lt 10 ]; }; do
    sleep "0.$(printf %03d $((20 + RANDOM % 181)))"
    attempts=$((attempts + 1))
    # patd lives a few milliseconds at a time: look again (a bounded number
    # of times) until one is caught.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        hit=0
        for pid in $(pgrep -f -- "$PATTERN"); do
            [ "$pid" != "$WRITER" ] || continue
            if kill -9 "$pid" 2>/dev/null; then
                kills=$((kills + 1))
                hit=1
            fi
        done
        [ "$hit" -eq 0 ] || break
    done
done

# Stop the writer after its current round; give it a deadline.
touch "$STOP"
deadline=$((SECONDS + 15))
while kill -0 "$WRITER" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.05
done
if kill -0 "$WRITER" 2>/dev/null; then
    fail "the writer loop did not stop within 15 s"
    kill -9 "$WRITER"
else
    ok "the writer loop stopped"
fi
wait "$WRITER" 2>/dev/null
bg_forget "$WRITER"

created=$(grep -c '^created ' "$LOG")
revoking=$(grep -c '^revoking ' "$LOG")
revoked=$(grep -c '^revoked ' "$LOG")
echo "crash: $kills patd processes killed in $attempts tries over ${SECONDS_TO_RUN} s;" \
    "logged $created creations, $revoked revocations ($((revoking - revoked)) more attempted and killed)"
check "some patd processes were killed ($kills)" test "$kills" -ge 5
check "enough creations were logged ($created)" test "$created" -ge 10
check "some revocations were logged ($revoked)" test "$revoked" -ge 2
if grep -q '^error ' "$LOG"; then
    fail "a patd command failed other than by being killed:"
    grep '^error ' "$LOG" | head -5
    head -5 "$LOOP_ERR"
else
    ok "every patd command exited 0 or was killed"
fi

# What each logged token must be now: revoked (its revocation was logged),
# either (a revocation was attempted and killed), or valid (never touched).
awk '
$1 == "created"  { tok[$2] = $3; order[++n] = $2 }
$1 == "revoking" { attempted[$2] = 1 }
$1 == "revoked"  { done[$2] = 1 }
END {
    for (i = 1; i <= n; i++) {
        id = order[i]
        print id, tok[id], (id in done) ? "revoked" : (id in attempted) ? "either" : "valid"
    }
}' "$LOG" >"$TMPD/expect.txt"

# Verify them all with patd, in two workers.
verify_worker() { # verify_worker IN OUT
    local id tok want rc err
    while read -r id tok want; do
        err=$(printf '%s\n' "$tok" | "$PATD" token verify "${STORE[@]}" 2>&1 >/dev/null)
        rc=$?
        case $want/$rc in
        valid/0 | either/0) echo "ok $id verifies" ;;
        revoked/1 | either/1)
            if [[ $err == *"token is not valid: token revoked"* ]]; then
                echo "ok $id is refused as revoked"
            else
                echo "FAIL $id ($want): refused with: $err"
            fi
            ;;
        *) echo "FAIL $id ($want): verify exited $rc: $err" ;;
        esac
    done <"$1" >"$2"
}
awk 'NR % 2 == 1' "$TMPD/expect.txt" >"$TMPD/expect.1"
awk 'NR % 2 == 0' "$TMPD/expect.txt" >"$TMPD/expect.2"
verify_worker "$TMPD/expect.1" "$TMPD/verified.1" &
W1=$!
verify_worker "$TMPD/expect.2" "$TMPD/verified.2" &
W2=$!
BG_PIDS+=("$W1" "$W2")
wait "$W1" "$W2"
bg_forget "$W1"
bg_forget "$W2"
cat "$TMPD/verified.1" "$TMPD/verified.2" | tally
expect_eq "$created" "$(cat "$TMPD/verified.1" "$TMPD/verified.2" | wc -l)" \
    "every logged creation was verified"

# The store opens and lists; the list, the audit trail and the log agree.
expect_exit 0 "$PATD" token list --status all --json "${STORE[@]}"
printf '%s' "$OUT" >"$TMPD/tokens.json"
expect_exit 0 "$PATD" audit list --json "${STORE[@]}"
printf '%s' "$OUT" >"$TMPD/audit.json"
py - "$TMPD/expect.txt" "$TMPD/tokens.json" "$TMPD/audit.json" "$DB" "${PATD_TEST_STORE:-}" <<'EOF' | tally
import collections, json, os, sqlite3, sys
exp_file, tokens_file, audit_file, db, pg = sys.argv[1:]
def check(cond, what):
    print(("ok " if cond else "FAIL ") + what)
expect = [l.split() for l in open(exp_file)]
toks = {t["id"]: t for t in json.load(open(tokens_file))["items"]}
events = json.load(open(audit_file))["items"]
mine = {i: t for i, t in toks.items() if t["name"].startswith("c")}
bad = []
for tid, tok, want in expect:
    t = toks.get(tid)
    if t is None:
        bad.append("%s missing from the list" % tid)
    elif want in ("valid", "revoked") and t["status"] != ("active" if want == "valid" else "revoked"):
        bad.append("%s is %s, expected %s" % (tid, t["status"], want))
    elif t["hint"] != tok[-4:]:
        bad.append("%s has hint %s for a token ending %s" % (tid, t["hint"], tok[-4:]))
check(not bad, "token list agrees with the log for %d tokens %s" % (len(expect), bad[:3]))
names = collections.Counter(t["name"] for t in mine.values())
check(all(n == 1 for n in names.values()), "no name was created twice")
created = collections.Counter(e["target_token_id"] for e in events if e["action"] == "token.created")
revoked = collections.Counter(e["target_token_id"] for e in events if e["action"] == "token.revoked")
check(all(created[i] == 1 for i in toks) and set(created) <= set(toks),
      "exactly one token.created event per stored token, none for a token not stored (%d tokens, %d events)"
      % (len(toks), sum(created.values())))
check(all(revoked[i] == (1 if t["status"] == "revoked" else 0) for i, t in toks.items())
      and set(revoked) <= set(toks),
      "exactly one token.revoked event per revoked token, none for a live one (%d events)"
      % sum(revoked.values()))
if not pg:
    blob = b"".join(open(f, "rb").read() for f in (db, db + "-wal", db + "-shm") if os.path.exists(f))
    leaked = [tid for tid, tok, _ in expect if tok.encode() in blob]
    check(not leaked, "no plaintext token in the store files %s" % leaked[:3])
    c = sqlite3.connect(db)
    r = c.execute("PRAGMA integrity_check").fetchall()
    check(r == [("ok",)], "SQLite integrity_check: %s" % r[:3])
    c.close()
EOF
expect_exit 0 "$PATD" migrate "${STORE[@]}"
expect_out "(0 migrations applied now)"
echo "crash: checked $created logged creations and $revoked logged revocations after $kills kills"
finish
