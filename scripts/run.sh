#!/bin/sh
# SPDX-License-Identifier: MIT
# `make run`: on first run, create ./var/patd.db with an admin whose web
# password and first token are printed once; then serve on the embedded
# SQLite store at http://127.0.0.1:8080 (PATD_LISTEN to change).
set -eu
build=${1:-build}
db=${PATD_DB:-./var/patd.db}
listen=${PATD_LISTEN:-127.0.0.1:8080}
patd="$build/patd"

# Token exchange needs a key-encryption key for the JWT signing keys
# (docs/tokens-and-jwts.md): a development one beside the store, made
# once, unless the environment names one already.
kek="$(dirname "$db")/jwt.kek"
if [ -z "${PATD_JWT_KEK:-}" ] && [ -z "${PATD_JWT_KEK_FILE:-}" ]; then
    mkdir -p "$(dirname "$db")"
    if [ ! -f "$kek" ]; then
        (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$kek")
    fi
    export PATD_JWT_KEK_FILE="$kek"
fi

if [ ! -f "$db" ]; then
    mkdir -p "$(dirname "$db")"
    # Others may pass through (make run-pg's cluster runs as the postgres
    # user under ./var/pg) but not list it; the store itself is 0600.
    chmod 711 "$(dirname "$db")"
    token=$("$patd" init --db "$db" 2>/dev/null)
    # A generated password for the web page: 24 base62-ish characters.
    password=$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
    printf '%s\n' "$password" | "$patd" user passwd admin --db "$db"
    cat >&2 <<TXT

patd: created $db. These are shown once; keep them safe.

  admin username:  admin
  admin password:  $password
  admin token:     $token

  Web page:        http://$listen/
  Try:             curl -H "Authorization: Bearer \$TOKEN" http://$listen/v1/me

TXT
else
    echo "patd: using the existing store $db (remove it to start afresh)" >&2
fi
exec "$patd" serve --db "$db" --listen "$listen"
