# SPDX-License-Identifier: MIT
# Helpers for the patctl tests. Source it first thing:
#
#     . "$(dirname "$0")/lib.sh" "$@"
#
# $1 is the patd binary, $2 (or the environment variable PATCTL) the
# patctl binary. Adds to tests/cli/lib.sh (which it sources): $PATCTL as
# an absolute path, an environment in which nothing from the caller picks
# the server, the token or a proxy, and helpers to start patd on a free
# loopback port and to make tokens offline.

PATCTL=${2:-${PATCTL:-}}
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh" "$@"

if [ -z "$PATCTL" ] || [ ! -x "$PATCTL" ]; then
    echo "usage: $0 PATH_TO_PATD PATH_TO_PATCTL" >&2
    FINISHED=1
    exit 2
fi
case $PATCTL in
/*) ;;
*) PATCTL=$PWD/$PATCTL ;;
esac

# Nothing from the caller may pick the server, the token or a proxy.
unset PATCTL_URL PATCTL_TOKEN http_proxy HTTP_PROXY https_proxy HTTPS_PROXY \
    all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1 no_proxy=127.0.0.1
export HOME=$TMPD/home XDG_CONFIG_HOME=$TMPD/xdg
mkdir -p "$HOME"
CONFIG=$XDG_CONFIG_HOME/patctl/config

free_port() {
    py -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_http URL PID: polls URL until it answers 200, PID dies, or 20 s pass.
wait_http() {
    py - "$1" "$2" <<'PY'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.02)
sys.exit(1)
PY
}

# start_patd NAME [CONFIG_FILE]: initialises the store $TMPD/NAME.db and
# serves it on a free loopback port. Sets URL, SERVER (the pid) and ADMIN
# (the first admin's token); stops the script if patd does not answer.
start_patd() {
    local name=$1 port
    shift
    expect_exit 0 "$PATD" init --db "$TMPD/$name.db"
    ADMIN=$OUT
    check "init printed a token" token_ok "$ADMIN"
    port=$(free_port)
    URL=http://127.0.0.1:$port
    "$PATD" serve ${1:+--config "$1"} --db "$TMPD/$name.db" \
        --listen "127.0.0.1:$port" >"$TMPD/$name.log" 2>&1 </dev/null &
    SERVER=$!
    BG_PIDS+=("$SERVER")
    if ! wait_http "$URL/healthz" "$SERVER"; then
        fail "patd serve did not answer /healthz"
        sed 's/^/    serve: /' "$TMPD/$name.log" | head -20
        finish
    fi
    ok "patd serve answers /healthz"
}

# pc ARGS...: patctl, as the current environment says.
pc() {
    "$PATCTL" "$@"
}

# run_in FILE CMD...: like `run`, with stdin from FILE.
run_in() {
    local input=$1
    shift
    "$@" >"$TMPD/.out" 2>"$TMPD/.err" <"$input"
    RC=$?
    _slurp OUT "$TMPD/.out"
    _slurp ERR "$TMPD/.err"
    case $ERR in
    *Sanitizer* | *"runtime error:"*)
        fail "sanitizer report from: $*"
        printf '%s\n' "$ERR" | head -40
        ;;
    esac
}

# expect_match REGEX TEXT DESCRIPTION
expect_match() {
    if [[ $2 =~ $1 ]]; then
        ok "$3"
    else
        fail "$3: '$2' does not match $1"
    fi
}

# expect_no_secret SECRET: the last run printed SECRET nowhere.
expect_no_secret() {
    if [[ $OUT == *"$1"* || $ERR == *"$1"* ]]; then
        fail "a token was printed"
    else
        ok "no token printed"
    fi
}

# make_token [PREFIX [N]]: N (default 1) tokens of the right shape and
# checksum for PREFIX (default pat) that patd never issued, one a line.
make_token() {
    py - "${1:-pat}" "${2:-1}" <<'PY'
import secrets, sys, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
prefix, n = sys.argv[1], int(sys.argv[2])
out = []
for _ in range(n):
    body = prefix + "_" + "".join(secrets.choice(A) for _ in range(32))
    c = zlib.crc32(body.encode())
    s = ""
    for _ in range(6):
        s = A[c % 62] + s
        c //= 62
    out.append(body + s)
print("\n".join(out))
PY
}

# unknown_token: a pat_ token of the right shape that patd never issued.
unknown_token() {
    make_token pat
}
