#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Starts, stops and reports a PostgreSQL cluster of our own (initdb) under
# $SHOPSTREAM_STATE_DIR/pg, listening on 127.0.0.1 and a socket in pg/run.
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# 'postgres' system user that Debian's package creates.
# `replica` runs a streaming hot standby of it under $SHOPSTREAM_STATE_DIR/pg-replica on
# SHOPSTREAM_PG_REPLICA_PORT: pg_basebackup -R (standby.signal, primary_conninfo) from
# SHOPSTREAM_PG_REPLICA_SOURCE (a libpq conninfo; default this script's primary).
# Usage: pg.sh start|stop|status
#        pg.sh replica start|stop|status
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
        # wal_keep_size: a replica (pg.sh replica, no slot) stopped a while can still catch up.
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-p $SHOPSTREAM_PG_PORT -k $dir/run -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c wal_keep_size=256MB" >/dev/null
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

replica_dir=$SHOPSTREAM_STATE_DIR/pg-replica
replica_source=${SHOPSTREAM_PG_REPLICA_SOURCE:-host=$dir/run port=$SHOPSTREAM_PG_PORT user=postgres}

# The primary must stream WAL to us: wal_level replica (or logical) and a free WAL sender.
# initdb's defaults give both, and its trust pg_hba.conf has local replication lines.
replica_check_source() {
    local psql=("$PG_BIN/psql" -d "$replica_source" -qAtX)
    local level senders
    level=$("${psql[@]}" -c "show wal_level") || die "could not reach the primary ($replica_source)"
    senders=$("${psql[@]}" -c "show max_wal_senders")
    [ "$level" != minimal ] || die "the primary has wal_level=minimal: set wal_level=replica and restart it"
    [ "$senders" -gt 0 ] || die "the primary has max_wal_senders=0: raise it and restart it"
}

replica_start() {
    mkdir -p "$replica_dir/run"
    [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$replica_dir"
    if [ ! -f "$replica_dir/data/PG_VERSION" ]; then
        replica_check_source
        log "pg_basebackup into $replica_dir/data"
        # -R writes standby.signal and primary_conninfo; -X stream copies the WAL the
        # backup needs over a second connection, so the primary need not keep it.
        as_owner "$PG_BIN/pg_basebackup" -d "$replica_source" -D "$replica_dir/data" -R -X stream             -c fast >"$replica_dir/basebackup.log" 2>&1             || { cat "$replica_dir/basebackup.log"; rm -rf "$replica_dir/data"; die "pg_basebackup failed"; }
    fi
    if as_owner "$PG_BIN/pg_ctl" -D "$replica_dir/data" status >/dev/null 2>&1; then
        log "postgresql replica already running"
        return 0
    fi
    log "starting postgresql replica on port $SHOPSTREAM_PG_REPLICA_PORT"
    # A standby needs max_connections at least the primary's (start() passes 200).
    # hot_standby_feedback: the primary's vacuum waits for our snapshots, so long reads
    # here are not cancelled by replay conflicts.
    as_owner "$PG_BIN/pg_ctl" -D "$replica_dir/data" -l "$replica_dir/server.log" -w -t 60 start \
        -o "-p $SHOPSTREAM_PG_REPLICA_PORT -k $replica_dir/run -c listen_addresses=127.0.0.1 -c max_connections=200 -c hot_standby=on -c hot_standby_feedback=on" >/dev/null \
        || { tail -n 20 "$replica_dir/server.log"; die "the replica did not start"; }
    local rec
    rec=$("$PG_BIN/psql" -h "$replica_dir/run" -p "$SHOPSTREAM_PG_REPLICA_PORT" -U postgres -d postgres -qAtX \
        -c "select pg_is_in_recovery()")
    [ "$rec" = t ] || die "the replica is not in recovery (standby.signal missing?)"
    log "postgresql replica ready (hot standby, streaming)"
}

replica_stop() {
    [ -f "$replica_dir/data/PG_VERSION" ] || return 0
    as_owner "$PG_BIN/pg_ctl" -D "$replica_dir/data" status >/dev/null 2>&1 || return 0
    log "stopping postgresql replica"
    as_owner "$PG_BIN/pg_ctl" -D "$replica_dir/data" -m fast -w stop >/dev/null
}

replica_status() {
    if [ -f "$replica_dir/data/PG_VERSION" ] && as_owner "$PG_BIN/pg_ctl" -D "$replica_dir/data" status >/dev/null 2>&1; then
        echo "postgresql replica: up"
    else
        echo "postgresql replica: down"; return 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then echo "postgresql: up"; else echo "postgresql: down"; exit 1; fi ;;
    replica)
        case "${2:-}" in
            start) replica_start ;;
            stop) replica_stop ;;
            status) replica_status ;;
            *) echo "usage: $0 replica start|stop|status" >&2; exit 2 ;;
        esac ;;
    *) echo "usage: $0 start|stop|status|replica start|stop|status" >&2; exit 2 ;;
esac
