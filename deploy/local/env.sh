# SPDX-License-Identifier: MIT
# Shared settings for the local stack scripts. Sourced, never run.
# Everything the stack writes (jars cache aside) lives under SHOPSTREAM_STATE_DIR.
SHOPSTREAM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${SHOPSTREAM_STATE_DIR:=$SHOPSTREAM_REPO/.stack}"
: "${SHOPSTREAM_BUILD_DIR:=$SHOPSTREAM_REPO/build}"
: "${SHOPSTREAM_KAFKA_PORT:=19092}"
: "${SHOPSTREAM_KAFKA_CONTROLLER_PORT:=19093}"
: "${SHOPSTREAM_PG_PORT:=55432}"
: "${SHOPSTREAM_PG_REPLICA_PORT:=$((SHOPSTREAM_PG_PORT + 1))}"   # pg.sh replica
: "${SHOPSTREAM_HTTP_PORT:=8080}"
: "${SHOPSTREAM_KAFKA_JARS:=${XDG_CACHE_HOME:-$HOME/.cache}/shopstream/kafka-3.9.1}"
: "${SHOPSTREAM_KAFKA_HEAP:=-Xms256m -Xmx768m}"
: "${SHOPSTREAM_KAFKA_PARTITIONS:=4}"
# Empty until PostgreSQL is installed: install.sh sources this file first, under pipefail.
PG_BIN=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1 || true)
export SHOPSTREAM_REPO SHOPSTREAM_STATE_DIR SHOPSTREAM_BUILD_DIR SHOPSTREAM_KAFKA_PORT \
       SHOPSTREAM_KAFKA_CONTROLLER_PORT SHOPSTREAM_PG_PORT SHOPSTREAM_PG_REPLICA_PORT SHOPSTREAM_HTTP_PORT \
       SHOPSTREAM_KAFKA_JARS SHOPSTREAM_KAFKA_PARTITIONS PG_BIN
: "${SHOPSTREAM_KAFKA_BROKERS:=127.0.0.1:$SHOPSTREAM_KAFKA_PORT}"
: "${SHOPSTREAM_PG_DSN:=host=$SHOPSTREAM_STATE_DIR/pg/run port=$SHOPSTREAM_PG_PORT dbname=shopstream user=shopstream}"
# The local replica's DSN, for SHOPSTREAM_PG_READ_DSN (stack.sh with SHOPSTREAM_STACK_REPLICA=1).
: "${SHOPSTREAM_PG_REPLICA_DSN:=host=$SHOPSTREAM_STATE_DIR/pg-replica/run port=$SHOPSTREAM_PG_REPLICA_PORT dbname=shopstream user=shopstream}"
export SHOPSTREAM_KAFKA_BROKERS SHOPSTREAM_PG_DSN SHOPSTREAM_PG_REPLICA_DSN

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
