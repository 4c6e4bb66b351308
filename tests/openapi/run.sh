#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs the OpenAPI checks against a built patd: validates docs/openapi.yaml
# and compares its operations with the routes the server registers
# (`patd routes`). Installs the pinned npm packages from package-lock.json
# first when node_modules is missing or older than the lock file.
#
# Usage: tests/openapi/run.sh PATD_BINARY
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 PATD_BINARY" >&2
    exit 2
fi
patd=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run.sh: '$tool' not found; scripts/deps.sh installs it" >&2
        exit 1
    fi
done

# npm ci replaces node_modules wholesale, so concurrent test scripts must
# not run it at the same time.
install_modules() {
    if [ -f node_modules/.package-lock.json ] &&
        [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
        return 0
    fi
    npm ci --no-audit --no-fund >&2
}
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/patd-npm-ci.lock"
    flock 9
    install_modules
    flock -u 9
else
    install_modules
fi

routes=$(mktemp)
trap 'rm -f "$routes"' EXIT
if ! "$patd" routes >"$routes"; then
    echo "run.sh: '$patd routes' failed" >&2
    exit 1
fi
node tests/openapi/validate.mjs docs/openapi.yaml "$routes"
