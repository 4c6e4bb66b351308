#!/bin/sh
# SPDX-License-Identifier: MIT
# `make run`: bootstrap ./var/patd.db on first run (the admin's first
# token is printed once), then show how to use it.
set -eu
build=${1:-build}
db=${PATD_DB:-./var/patd.db}
patd="$build/patd"

if [ ! -f "$db" ]; then
    mkdir -p "$(dirname "$db")"
    echo "Creating $db. The admin's first token follows; it is shown once:" >&2
    "$patd" init --db "$db"
else
    echo "Using the existing store $db (remove it to start afresh)." >&2
fi
cat >&2 <<TXT

Try:
  $patd user add alice --db $db
  $patd token create --db $db --user alice --name laptop --scope patd:self
  echo "\$TOKEN" | $patd token verify --db $db
  $patd token list --db $db --status all
TXT
