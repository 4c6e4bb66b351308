#!/bin/sh
# SPDX-License-Identifier: MIT
# `make run-pg`: patd on PostgreSQL, in a throwaway cluster of its own in
# ./var/pg (scripts/pg.sh; PATD_PG_DIR to change), started if it is not
# running. On first run the store is initialised and the admin's web
# password and first token are printed once; then patd serves at
# http://127.0.0.1:8080 (PATD_LISTEN to change). Start more nodes on the
# same store with `patd serve --store URL --listen ...` (docs/scaling.md).
# `scripts/pg.sh stop var/pg` stops the cluster and deletes it.
set -eu
build=${1:-build}
dir=${PATD_PG_DIR:-./var/pg}
listen=${PATD_LISTEN:-127.0.0.1:8080}
patd="$build/patd"

mkdir -p "$(dirname "$dir")"
# The cluster runs as the postgres user, which must pass through here.
chmod o+x "$(dirname "$dir")"
url=$(sh "$(dirname "$0")/pg.sh" start "$dir")
if ! "$patd" user list --store "$url" >/dev/null 2>&1; then
    token=$("$patd" init --store "$url" 2>/dev/null)
    password=$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)
    printf '%s\n' "$password" | "$patd" user passwd admin --store "$url"
    cat >&2 <<TXT

patd: initialised $url. These are shown once; keep them safe.

  admin username:  admin
  admin password:  $password
  admin token:     $token

  Web page:        http://$listen/
  Try:             curl -H "Authorization: Bearer \$TOKEN" http://$listen/v1/me
  Another node:    $patd serve --store $url --listen 127.0.0.1:8081

TXT
else
    echo "patd: using the existing store $url (scripts/pg.sh stop $dir to start afresh)" >&2
fi
exec "$patd" serve --store "$url" --listen "$listen"
