#!/bin/bash
# SPDX-License-Identifier: MIT
# docs/deploy/Caddyfile against a real Caddy, a real patd and an echo
# backend, all on free loopback ports.
#
# usage: caddy_test.sh PATH_TO_PATD        (KEEP_TMP=1 keeps the temp dir)
#
# Needs the Debian package caddy; a missing caddy is a failure, not a skip.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh" "$@"

need_package caddy caddy
CADDY=$(command -v caddy)

start_services

# The recipe as it is: plain http:// on our port (no automatic HTTPS),
# the admin endpoint on a free loopback port, our two upstreams.
recipe "$TMPD/Caddyfile" Caddyfile \
    "s/^\([[:space:]]*\)admin localhost:2019/\1admin $SPARE_ADDR/" \
    "s/^api\.example\.com {/http:\/\/$GW_ADDR {/" \
    "s/forward_auth 127\.0\.0\.1:8080 {/forward_auth $PATD_ADDR {/" \
    "s/reverse_proxy 127\.0\.0\.1:9000/reverse_proxy $BACKEND_ADDR/"

# Caddy's own state (certificates, autosave) stays in the temp dir.
export HOME=$TMPD/home XDG_DATA_HOME=$TMPD/home/data XDG_CONFIG_HOME=$TMPD/home/config
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"

if "$CADDY" adapt --config "$TMPD/Caddyfile" --adapter caddyfile >"$TMPD/caddy.json" 2>"$TMPD/caddy-adapt.log"; then
    ok "caddy adapt accepts the recipe"
else
    cat "$TMPD/caddy-adapt.log"
    die "caddy adapt rejects the recipe"
fi

bg caddy "$CADDY" run --config "$TMPD/Caddyfile" --adapter caddyfile
wait_http "http://$GW_ADDR/" 15 "$BG_PID" || die "caddy did not come up on $GW_ADDR"

common_checks "http://$GW_ADDR"
# With nothing listening forward_auth's proxy answers 502.
outage_checks "http://$GW_ADDR" 502
finish
