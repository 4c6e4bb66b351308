#!/bin/sh
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL cluster for tests and benchmarks, built from
# Debian's postgresql binaries in a directory of its own.
#
#   pg.sh start DIR   initialise (once) and start a cluster in DIR on a free
#                     loopback port; print its URL on stdout:
#                     postgres://postgres@127.0.0.1:PORT/patd_test
#   pg.sh stop DIR    stop it and remove DIR
#   pg.sh halt DIR    stop the server at once, as a crash would (pg_ctl -m
#                     immediate: no shutdown checkpoint, connections cut),
#                     keeping DIR and its data
#   pg.sh resume DIR  start a halted cluster again on the same port (the
#                     server replays its WAL: nothing committed is lost)
#
# The server listens only on 127.0.0.1 (trust authentication: anyone on
# this machine may connect, which is why it is throwaway), keeps its unix
# socket in DIR, and runs with fsync=on so that commits are as durable as
# in production. Run as root, it runs the server as the postgres user (the
# server refuses to run as root). The commands are idempotent: starting or
# resuming a running cluster prints its URL again; stopping a missing one
# or halting a halted one succeeds.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
MARK=.patd-pg

usage() {
    echo "usage: pg.sh start|stop|halt|resume DIR" >&2
    exit 2
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/patd_test"
}

running() {
    [ -f "$dir/port" ] && as_owner "$PGBIN/pg_ctl" -D "$dir/data" status \
        >/dev/null 2>&1
}

# A port in 20000-59999 from the kernel's random numbers. A port taken
# between this pick and the server's bind is handled by trying again.
pick_port() {
    r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    echo $((20000 + r % 40000))
}

init_cluster() {
    mkdir -p "$dir"
    touch "$dir/$MARK"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres: "$dir"
    fi
    chmod 700 "$dir"
    # --no-sync only skips flushing initdb's own files: the server below
    # runs with fsync=on.
    as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
        --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 200
CONF
}

start() {
    if [ -d "$dir" ] && [ ! -f "$dir/$MARK" ] &&
        [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "pg.sh: '$dir' is not empty and not a pg.sh cluster" >&2
        exit 1
    fi
    if running; then
        url
        return
    fi
    [ -d "$dir/data" ] || init_cluster
    tries=0
    while :; do
        port=$(pick_port)
        if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
            -o "-p $port" -w -t 30 start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 10 ]; then
            echo "pg.sh: cannot start postgres in '$dir':" >&2
            tail -n 5 "$dir/server.log" >&2
            exit 1
        fi
    done
    echo "$port" >"$dir/port"
    as_owner "$PGBIN/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres \
        -c "CREATE DATABASE patd_test" >/dev/null
    url
}

stop() {
    [ -e "$dir" ] || return 0
    if [ ! -f "$dir/$MARK" ]; then
        echo "pg.sh: '$dir' is not a pg.sh cluster; not removing it" >&2
        exit 1
    fi
    if [ -d "$dir/data" ]; then
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

halt() {
    if [ ! -f "$dir/$MARK" ] || [ ! -d "$dir/data" ]; then
        echo "pg.sh: '$dir' is not a pg.sh cluster" >&2
        exit 1
    fi
    if running; then
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop \
            >/dev/null
    fi
}

# The same port, so that the URL every client holds works again. A port
# taken by another process in the meantime is an error.
resume() {
    if [ ! -f "$dir/$MARK" ] || [ ! -f "$dir/port" ]; then
        echo "pg.sh: '$dir' is not a started pg.sh cluster" >&2
        exit 1
    fi
    if ! running; then
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
            -o "-p $(cat "$dir/port")" -w -t 60 start >/dev/null 2>&1 || {
            echo "pg.sh: cannot resume postgres in '$dir':" >&2
            tail -n 5 "$dir/server.log" >&2
            exit 1
        }
    fi
    url
}

[ $# -eq 2 ] || usage
dir=$2
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac
case $1 in
start) start ;;
stop) stop ;;
halt) halt ;;
resume) resume ;;
*) usage ;;
esac
