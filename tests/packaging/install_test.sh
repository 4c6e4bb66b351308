#!/bin/bash
# SPDX-License-Identifier: MIT
# cmake --install into a temporary DESTDIR, then, from what was installed:
# - every file of DESIGN.md section 14 is there;
# - libpat.so has its soname and exports pat_ names only;
# - docs/examples/verify_example.c builds with
#   cc $(pkg-config --cflags --libs libpat) against the shared libpat,
#   and with --static against libpat.a, and both check a real token;
# - the bash completion loads from the installed directory and completes;
# - systemd-analyze verify accepts patd.service (its man: links resolve
#   to the installed man pages) and systemd-analyze security --offline
#   rates its exposure 2.0 or better (the score is printed).
#   install_test.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
if grep -q '^PAT_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    echo "skipped: a sanitizer build (its libpat.so needs the ASan runtime)"
    exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
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
dest=$dir/root
DESTDIR=$dest cmake --install "$build" >"$dir/install.log" 2>&1
ok cmake-install $?
prefix=$(sed -n 's/^prefix=//p' "$build/libpat.pc")
libdir=$(sed -n 's/^libdir=//p' "$build/libpat.pc")
etc=$(sed -n 's|^ExecStart=.* --config \(.*\)/patd/patd.conf$|\1|p' \
    "$build/patd.service")
unitdir=$(grep -l -r --include=patd.service '^ExecStart=' "$dest" | head -1)
for f in "$prefix/bin/patd" "$prefix/bin/patctl" "$libdir/libpat.a" \
    "$libdir/libpat.so" "$libdir/libpat.so.0" "$libdir/pkgconfig/libpat.pc" \
    "$prefix/include/pat/pat.h" "$prefix/include/pat/verify.h" \
    "$prefix/share/man/man8/patd.8" "$prefix/share/man/man1/patctl.1" \
    "$prefix/share/man/man5/patd.conf.5" "$etc/patd/patd.conf" \
    "$prefix/share/doc/patd/patd.conf.example" \
    "$prefix/share/doc/patd/examples/verify_example.c" \
    "$prefix/share/bash-completion/completions/patctl" \
    "$prefix/share/bash-completion/completions/patd" \
    "$prefix/share/zsh/vendor-completions/_patctl" \
    "$prefix/share/zsh/vendor-completions/_patd"; do
    [ -e "$dest$f" ]
    ok "installed $f" $?
done
[ -n "$unitdir" ]
ok "installed patd.service" $?
grep -q '^url = sqlite:/var/lib/patd/patd.db$' "$dest$etc/patd/patd.conf"
ok "packaged patd.conf keeps the store in /var/lib/patd" $?

# The shared library: soname, and nothing exported but the public API.
objdump -p "$dest$libdir/libpat.so.0" | grep -q 'SONAME *libpat.so.0$'
ok soname $?
bash "$src/tests/check_symbols.sh" "$dest$libdir/libpat.so.0" >"$dir/sym" 2>&1
ok "exports pat_ only: $(tail -2 "$dir/sym" | head -1)" $?

# pkg-config against the installed tree (the sysroot prefixes its paths).
export PKG_CONFIG_PATH=$dest$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
pkg-config --exists libpat
ok pkg-config-exists $?
ex=$dest$prefix/share/doc/patd/examples/verify_example.c
# shellcheck disable=SC2046 # word splitting is the point
cc -o "$dir/ex_shared" "$ex" $(pkg-config --cflags --libs libpat) 2>"$dir/cc1"
ok "cc \$(pkg-config --cflags --libs libpat): $(head -3 "$dir/cc1")" $?
# Static: libpat.a, then what libpat.pc lists as its private needs
# (Requires.private, Libs.private), from the system.
priv=$(pkg-config --print-requires-private libpat | awk '{print $1}')
# shellcheck disable=SC2046,SC2086
cc -o "$dir/ex_static" "$ex" $(pkg-config --cflags libpat) \
    "$dest$libdir/libpat.a" $(PKG_CONFIG_SYSROOT_DIR= pkg-config --libs $priv) \
    $(pkg-config --static --libs-only-other libpat) 2>"$dir/cc2"
ok "static link: $(head -3 "$dir/cc2")" $?
LD_LIBRARY_PATH=$dest$libdir ldd "$dir/ex_shared" | grep -q "$dest$libdir/libpat.so.0"
ok "the example uses the installed libpat.so.0" $?
! ldd "$dir/ex_static" | grep -q libpat
ok "the static example does not" $?
patd=$dest$prefix/bin/patd
"$patd" init --db "$dir/p.db" >/dev/null 2>&1
ok "installed patd init" $?
tok=$("$patd" token create --db "$dir/p.db" --user admin --name ex --scope patd:self)
for ex in ex_shared ex_static; do
    out=$(printf '%s\n' "$tok" | LD_LIBRARY_PATH=$dest$libdir \
        "$dir/$ex" "sqlite:$dir/p.db" patd:self)
    [[ $out == "valid admin tok_"* ]]
    ok "$ex verifies a token ($out)" $?
    out=$(printf 'pat_nope\n' | LD_LIBRARY_PATH=$dest$libdir \
        "$dir/$ex" "sqlite:$dir/p.db")
    [ "$out" = "invalid: malformed token" ]
    ok "$ex refuses a malformed one ($out)" $?
done

bash "$here/completion_test.sh" "$dest$prefix/bin" \
    "$dest$prefix/share/bash-completion/completions" \
    "$dest$prefix/share/zsh/vendor-completions/_patd" >"$dir/comp" 2>&1
ok "completion: $(tail -1 "$dir/comp")" $?

# systemd: the unit as installed, with ExecStart pointing into DESTDIR.
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$dir/unit"
    sed "s|^ExecStart=$prefix|ExecStart=$dest$prefix|" "$unitdir" \
        >"$dir/unit/patd.service"
    MANPATH=$dest$prefix/share/man systemd-analyze verify \
        "$dir/unit/patd.service" >"$dir/verify" 2>&1
    ok "systemd-analyze verify: $(cat "$dir/verify")" $?
    systemd-analyze security --offline=true --threshold=20 \
        "$dir/unit/patd.service" >"$dir/security" 2>&1
    ok "systemd-analyze security: exposure above 2.0" $?
    grep 'Overall exposure level' "$dir/security"
else
    echo "systemd-analyze not installed"
    ok systemd-analyze 1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
