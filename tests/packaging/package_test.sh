#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian packages, end to end (the slow tier, label "package"):
# builds them with dpkg-buildpackage -b from a copy of the tree, runs
# lintian (no errors; warnings printed), installs them on this machine
# (dpkg -i: the test machine is root and disposable), checks the system
# user, the conffile, the unit (systemd-analyze verify on the installed
# one) and the man pages, runs `patd init` and `patd serve` from the
# installed paths as the user patd and checks /healthz and patctl
# against it, builds the example with the installed libpat-dev, then
# purges everything and checks nothing is left.
#   package_test.sh SOURCE_DIR   (PAT_PACKAGE_SKIP=1: skipped, exit 77)
set -u
src=$1
if [ "${PAT_PACKAGE_SKIP:-0}" = 1 ]; then
    echo "skipped: sanitizer build"
    exit 77
fi
pass=0
fail=0
ok() { # name status
    if [ "$2" -eq 0 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $1"
    fi
}
if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL the package test installs packages: it runs as root"
    exit 1
fi
for c in dpkg-buildpackage dh lintian curl; do
    if ! command -v "$c" >/dev/null; then
        echo "FAIL $c is missing (scripts/deps.sh installs it)"
        exit 1
    fi
done
# dpkg, waiting up to two minutes for its lock (apt-get elsewhere on the
# machine, for instance scripts/deps.sh).
dpkg_wait() {
    local i out rc
    for i in $(seq 60); do
        out=$(dpkg "$@" 2>&1)
        rc=$?
        if [ $rc -eq 0 ] || ! grep -q 'lock' <<<"$out"; then
            printf '%s\n' "$out"
            return $rc
        fi
        sleep 2
    done
    printf '%s\n' "$out"
    return $rc
}
# One package test at a time on this machine (dpkg has one database).
exec 9>/tmp/patd-package-test.lock
flock 9
dir=$(mktemp -d)
pid=
pkgs="patctl libpat-dev libpat0 patd"
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    dpkg_wait --purge $pkgs >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
for p in $pkgs; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
        echo "FAIL $p is already installed: not touching it"
        trap - EXIT
        rm -rf "$dir"
        exit 1
    fi
done

# Build from a copy of the tree (no build directories, no .git).
mkdir "$dir/src"
(cd "$src" && tar --exclude=./build --exclude='./build-*' \
    --exclude=./node_modules --exclude=./.git --exclude=./var -cf - .) |
    tar -xf - -C "$dir/src"
(cd "$dir/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
    dpkg-buildpackage -b -us -uc) >"$dir/build.log" 2>&1
rc=$?
[ $rc -ne 0 ] && tail -30 "$dir/build.log"
ok "dpkg-buildpackage -b -us -uc" $rc
for p in $pkgs; do
    [ -f "$dir/${p}_"*.deb ]
    ok "built $p" $?
done
lintian --tag-display-limit 0 "$dir"/patd_*.changes >"$dir/lintian" 2>&1
grep -v '^N:\|running with root' "$dir/lintian" | sed 's/^/lintian: /'
! grep -q '^E:' "$dir/lintian"
ok "lintian: no errors" $?

# Install. A user patd left by an earlier run (purge keeps system
# users, as Debian does) goes first, so that the package is seen making it.
if id patd >/dev/null 2>&1; then
    userdel patd 2>/dev/null
    groupdel patd 2>/dev/null
fi
! id patd >/dev/null 2>&1
ok "no user patd before install" $?
dpkg-deb -I "$dir"/patd_*.deb postinst | grep -q 'systemd-sysusers'
ok "postinst makes the user with systemd-sysusers" $?
debs=$(for p in $pkgs; do ls "$dir/${p}_"*.deb; done)
# shellcheck disable=SC2086
dpkg_wait -i $debs >"$dir/install.log" 2>&1
rc=$?
[ $rc -ne 0 ] && cat "$dir/install.log"
ok "dpkg -i" $rc
id patd >/dev/null 2>&1
ok "system user patd" $?
[ "$(stat -c '%U %a' /var/lib/patd 2>/dev/null)" = "patd 700" ]
ok "/var/lib/patd: patd, 0700 ($(stat -c '%U %a' /var/lib/patd 2>&1))" $?
dpkg-query -W -f='${Conffiles}' patd | grep -q '/etc/patd/patd.conf'
ok "conffile /etc/patd/patd.conf" $?
[ -x /usr/bin/patd ] && [ -x /usr/bin/patctl ]
ok "/usr/bin/patd and /usr/bin/patctl" $?
man -w patd >/dev/null 2>&1 && man -w patctl >/dev/null 2>&1 &&
    man -w 5 patd.conf >/dev/null 2>&1
ok "man pages found by man" $?
systemd-analyze verify /lib/systemd/system/patd.service >"$dir/verify" 2>&1
ok "systemd-analyze verify on the installed unit: $(cat "$dir/verify")" $?

# patd init and serve from the installed paths, as the service would.
runuser -u patd -- /usr/bin/patd init --db /var/lib/patd/patd.db \
    --token-file /var/lib/patd/admin.token >/dev/null 2>"$dir/init.err"
ok "patd init as patd: $(cat "$dir/init.err")" $?
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
setpriv --reuid=patd --regid=patd --init-groups /usr/bin/patd serve --config /etc/patd/patd.conf \
    --listen "127.0.0.1:$port" >/dev/null 2>"$dir/serve.log" &
pid=$!
code=
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
    [ "$code" = 200 ] && break
    sleep 0.1
done
[ "$code" = 200 ]
ok "installed patd serve answers /healthz ($code; $(tail -1 "$dir/serve.log"))" $?
grep -q 'store sqlite:/var/lib/patd/patd.db' "$dir/serve.log"
ok "it uses the packaged config's store" $?
out=$(PATCTL_URL=http://127.0.0.1:$port HOME=$dir \
    /usr/bin/patctl whoami --token-file /var/lib/patd/admin.token 2>&1)
[[ $out == *admin* ]]
ok "installed patctl whoami: $(echo "$out" | head -1)" $?
# shellcheck disable=SC2046
cc -o "$dir/ex" /usr/share/doc/patd/examples/verify_example.c \
    $(pkg-config --cflags --libs libpat) 2>"$dir/cc"
ok "libpat-dev: the example builds with pkg-config: $(head -2 "$dir/cc")" $?
out=$(head -1 /var/lib/patd/admin.token | "$dir/ex" sqlite:/var/lib/patd/patd.db)
[[ $out == "valid admin "* ]]
ok "and verifies the admin token with libpat.so.0 ($out)" $?
kill -TERM "$pid"
wait "$pid"
ok "patd serve stops with 0" $?
pid=

# Purge: nothing left behind.
# shellcheck disable=SC2086
dpkg_wait --purge $pkgs >"$dir/purge.log" 2>&1
rc=$?
[ $rc -ne 0 ] && cat "$dir/purge.log"
ok "dpkg --purge" $rc
for f in /usr/bin/patd /usr/bin/patctl /etc/patd /var/lib/patd \
    /lib/systemd/system/patd.service /usr/include/pat \
    /usr/share/doc/patd; do
    [ ! -e "$f" ]
    ok "purged: $f" $?
done
left=$(dpkg -l $pkgs 2>/dev/null | grep -c '^[ir][ic]')
[ "$left" = 0 ]
ok "no package left" $?
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
