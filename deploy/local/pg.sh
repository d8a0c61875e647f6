#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Starts, stops and reports a PostgreSQL cluster of our own (initdb) under
# $SHOPSTREAM_STATE_DIR/pg, listening on 127.0.0.1 and a socket in pg/run.
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# 'postgres' system user that Debian's package creates.
# Usage: pg.sh start|stop|status
set -euo pipefail
. "$(dirname "$0")/env.sh"

dir=$SHOPSTREAM_STATE_DIR/pg
[ -n "$PG_BIN" ] || die "PostgreSQL server not installed: run deploy/local/install.sh"

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    mkdir -p "$dir/run"
    [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        log "initdb in $dir/data"
        as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log"; die "initdb failed"; }
    fi
    if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        log "postgresql already running"
    else
        log "starting postgresql on port $SHOPSTREAM_PG_PORT"
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-p $SHOPSTREAM_PG_PORT -k $dir/run -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" >/dev/null
    fi
    local psql=("$PG_BIN/psql" -h "$dir/run" -p "$SHOPSTREAM_PG_PORT" -U postgres -d postgres -qAtX)
    "${psql[@]}" -c "select 1 from pg_roles where rolname='shopstream'" | grep -q 1 \
        || "${psql[@]}" -c "create role shopstream login superuser"
    "${psql[@]}" -c "select 1 from pg_database where datname='shopstream'" | grep -q 1 \
        || "${psql[@]}" -c "create database shopstream owner shopstream"
    log "postgresql ready"
}

stop() {
    [ -f "$dir/data/PG_VERSION" ] || return 0
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 0
    log "stopping postgresql"
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then echo "postgresql: up"; else echo "postgresql: down"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
