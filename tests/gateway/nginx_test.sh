#!/bin/bash
# SPDX-License-Identifier: MIT
# docs/deploy/nginx.conf against a real nginx, a real patd and an echo
# backend, all on free loopback ports.
#
# usage: nginx_test.sh PATH_TO_PATD        (KEEP_TMP=1 keeps the temp dir)
#
# Needs the Debian package nginx (with its auth_request module); a missing
# nginx is a failure, not a skip.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh" "$@"

need_package nginx nginx
NGINX=$(command -v nginx)
"$NGINX" -V 2>&1 | grep -q -- '--with-http_auth_request_module' ||
    die "$NGINX lacks the auth_request module: install Debian's package 'nginx'"

start_services

# The recipe as it is, pointed at our ports.
recipe "$TMPD/patd-site.conf" nginx.conf \
    "s/server 127\.0\.0\.1:8080;/server $PATD_ADDR;/" \
    "s/server 127\.0\.0\.1:9000;/server $BACKEND_ADDR;/" \
    "s/listen 80;/listen $GW_ADDR;/"

# A main configuration around it, everything in the temp dir.
mkdir -p "$TMPD/nginx"
USER_LINE=
[ "$(id -u)" -ne 0 ] || USER_LINE="user root;"
cat >"$TMPD/nginx/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
pid $TMPD/nginx.pid;
error_log $TMPD/nginx-error.log info;
events { worker_connections 256; }
http {
    access_log $TMPD/nginx-access.log;
    client_body_temp_path $TMPD/nginx/body;
    proxy_temp_path $TMPD/nginx/proxy;
    fastcgi_temp_path $TMPD/nginx/fastcgi;
    uwsgi_temp_path $TMPD/nginx/uwsgi;
    scgi_temp_path $TMPD/nginx/scgi;
    include $TMPD/patd-site.conf;
}
EOF

NG=("$NGINX" -p "$TMPD/nginx" -e "$TMPD/nginx-error.log" -c "$TMPD/nginx/nginx.conf")
if "${NG[@]}" -t >"$TMPD/nginx-t.log" 2>&1; then
    ok "nginx -t accepts the recipe"
else
    cat "$TMPD/nginx-t.log"
    die "nginx -t rejects the recipe"
fi

bg nginx "${NG[@]}" -g 'daemon off;'
wait_http "http://$GW_ADDR/" 15 "$BG_PID" || die "nginx did not come up on $GW_ADDR"

common_checks "http://$GW_ADDR"
# With nothing listening the subrequest fails; the recipe answers 503.
outage_checks "http://$GW_ADDR" 503
finish
