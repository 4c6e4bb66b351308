#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs, from Debian 12's archive, everything patd needs to build and to
# run its tests. Idempotent: packages already present are not fetched again,
# and apt-get runs only when something is missing.
set -eu

PKGS="
build-essential
cmake
pkg-config
clang-format
clang
libclang-rt-14-dev
libssl-dev
zlib1g-dev
libsqlite3-dev
libpq-dev
postgresql
libjansson-dev
libcmocka-dev
libsodium-dev
libmicrohttpd-dev
libinih-dev
libcurl4-openssl-dev
curl
python3
procps
nginx
caddy
chromium
libh2o-evloop-dev
libcjose-dev
libjose-dev
libgnutls28-dev
libsystemd-dev
scdoc
debhelper
lintian
bash-completion
zsh
python3-jwt
python3-aiosmtpd
"

# Node.js and npm run the OpenAPI validator and the browser tests. Some
# machines carry a newer Node.js from elsewhere, which provides npm itself
# and conflicts with Debian's npm package: look for the commands, not the
# package names.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    PKGS="$PKGS nodejs npm"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
        grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "deps.sh: installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
