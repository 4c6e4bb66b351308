# SPDX-License-Identifier: MIT
# Helpers for the command tests in tests/cli. Source it first thing:
#
#     . "$(dirname "$0")/lib.sh" "$@"
#
# $1 (or the environment variable PATD) is the patd binary under test.
# Gives a fresh temporary directory $TMPD (removed on exit), ok/fail
# counters, run/expect_* assertions, and `finish`, which prints the one
# summary line "N passed, M failed" and exits nonzero if anything failed.
# A script that stops before `finish` counts as a failure.

set -u
# `... | tally` must count in this shell, not in a subshell.
shopt -s lastpipe

PATD=${1:-${PATD:-}}
if [ -z "$PATD" ]; then
    echo "usage: $0 PATH_TO_PATD   (or set PATD)" >&2
    exit 2
fi
case $PATD in
/*) ;;
*) PATD=$PWD/$PATD ;;
esac
if [ ! -x "$PATD" ]; then
    echo "$0: '$PATD' is not an executable file" >&2
    exit 2
fi
export PATD

# Nothing from the caller's environment may pick the store for us.
unset PATD_DB PATD_STORE PATD_CONFIG PATD_LISTEN
export LC_ALL=C
# Sanitizer reports must not hide behind the exit statuses under test
# (ASan exits 1 by default, which is "refused").
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:exitcode=87"

# The interpreter itself (not a version-manager shim), started with -I -S:
# JSON is parsed many times and shims cost a tenth of a second each.
PY=$(python3 -c 'import sys; print(sys.executable)') || {
    echo "$0: python3 is required" >&2
    exit 2
}
py() { "$PY" -I -S "$@"; }

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/patd-cli.XXXXXX") || exit 2
PASSED=0
FAILED=0
FINISHED=0
# Background processes this script started; the exit trap ends them.
BG_PIDS=()

# Output of the last `run`.
OUT=
ERR=
RC=0

_lib_cleanup() {
    local st=$? pid
    trap - EXIT
    for pid in "${BG_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$TMPD"
    if [ "$FINISHED" -eq 0 ]; then
        FAILED=$((FAILED + 1))
        echo "FAIL - $(basename "$0") stopped early (status $st)"
        echo "$PASSED passed, $FAILED failed"
        exit 1
    fi
    exit "$st"
}
trap _lib_cleanup EXIT
trap 'exit 130' INT TERM

# bg_forget PID: PID has been waited for; the exit trap must leave it
# alone (the number may belong to another process by then).
bg_forget() {
    local -a keep=()
    local pid
    for pid in "${BG_PIDS[@]}"; do
        [ "$pid" == "$1" ] || keep+=("$pid")
    done
    BG_PIDS=("${keep[@]}")
}

ok() {
    PASSED=$((PASSED + 1))
    [ -z "${VERBOSE:-}" ] || echo "ok - $*"
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL - $*"
}

# check DESCRIPTION CMD...: ok if CMD succeeds, else fail.
check() {
    local what=$1
    shift
    if "$@"; then
        ok "$what"
    else
        fail "$what"
    fi
}

# _slurp VAR FILE: VAR=$(<FILE) without a subshell.
_slurp() {
    local -n _v=$1
    IFS= read -r -d '' _v <"$2"
    while [[ $_v == *$'\n' ]]; do
        _v=${_v%$'\n'}
    done
}

# run CMD...: runs CMD (stdin /dev/null unless CMD pipes its own), leaving
# its stdout, stderr and status in OUT, ERR and RC. A sanitizer report on
# stderr is a failure whatever the status.
run() {
    "$@" >"$TMPD/.out" 2>"$TMPD/.err" </dev/null
    RC=$?
    _slurp OUT "$TMPD/.out"
    _slurp ERR "$TMPD/.err"
    case $ERR in
    *Sanitizer* | *"runtime error:"*)
        fail "sanitizer report from: $*"
        printf '%s\n' "$ERR" | head -40
        ;;
    esac
    return 0
}

# expect_exit CODE CMD...: runs CMD and checks its exit status.
# Returns 0 if it matched, so callers can chain further checks.
expect_exit() {
    local want=$1
    shift
    run "$@"
    if [ "$RC" -eq "$want" ]; then
        ok "exit $want: $*"
        return 0
    fi
    fail "exit $RC, expected $want: $*"
    [ -z "$ERR" ] || printf '    stderr: %s\n' "$ERR" | head -5
    return 1
}

# expect_err SUBSTRING: the last run's stderr contains SUBSTRING.
expect_err() {
    if [[ $ERR == *"$1"* ]]; then
        ok "stderr has '$1'"
    else
        fail "stderr lacks '$1'; it was: $ERR"
    fi
}

# expect_out SUBSTRING: the last run's stdout contains SUBSTRING.
expect_out() {
    if [[ $OUT == *"$1"* ]]; then
        ok "stdout has '$1'"
    else
        fail "stdout lacks '$1'; it was: $(printf '%s' "$OUT" | head -5)"
    fi
}

# expect_eq WANT GOT DESCRIPTION
expect_eq() {
    if [ "$1" == "$2" ]; then
        ok "$3"
    else
        fail "$3: expected '$1', got '$2'"
    fi
}

# expect_one_line: the last run's stderr is exactly one line (a refusal).
expect_one_line() {
    local n
    n=$(printf '%s\n' "$ERR" | wc -l)
    if [ -n "$ERR" ] && [ "$n" -eq 1 ]; then
        ok "one line on stderr"
    else
        fail "expected one line on stderr, got $n: $ERR"
    fi
}

# tally: reads lines "ok TEXT" / "FAIL TEXT" (from a helper) and counts
# them; any other line is shown as is.
tally() {
    local line
    while IFS= read -r line; do
        case $line in
        "ok "*) ok "${line#ok }" ;;
        "FAIL "*) fail "${line#FAIL }" ;;
        *) printf '%s\n' "$line" ;;
        esac
    done
}

# json EXPR: evaluates the Python expression EXPR with d = the JSON on
# stdin and prints the result (lists joined by spaces, None as "null",
# booleans as true/false). lifetime(o) is o's expires_at - created_at in
# seconds.
json() {
    py -c '
import calendar, json, sys, time
d = json.load(sys.stdin)
def secs(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
def lifetime(o):
    return secs(o["expires_at"]) - secs(o["created_at"])
v = eval(sys.argv[1])
def show(x):
    if x is None: return "null"
    if x is True: return "true"
    if x is False: return "false"
    return str(x)
print(" ".join(show(x) for x in v) if isinstance(v, list) else show(v))
' "$1"
}

# token_ok TOKEN [PREFIX]: TOKEN has the documented format and checksum.
token_ok() {
    py - "$1" "${2:-pat}" <<'EOF'
import re, sys, zlib
tok, prefix = sys.argv[1], sys.argv[2]
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
if not re.fullmatch(re.escape(prefix) + r"_[0-9A-Za-z]{38}", tok):
    sys.exit(1)
c = zlib.crc32(tok[:-6].encode("ascii"))
s = ""
for _ in range(6):
    s = A[c % 62] + s
    c //= 62
sys.exit(0 if c == 0 and s == tok[-6:] else 1)
EOF
}

# now_plus SECONDS: an RFC 3339 UTC time SECONDS from now.
now_plus() {
    date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ
}

finish() {
    FINISHED=1
    echo "$PASSED passed, $FAILED failed"
    if [ "$FAILED" -ne 0 ]; then
        exit 1
    fi
    exit 0
}
