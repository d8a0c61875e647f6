#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No password reaches a log: the edge, the worker and shopstream-admin run with DSNs
# carrying a password in every form libpq takes (keyword with spaces, quotes, escapes,
# '@' and ':'; URI user info, percent-encoded, ?password=; a dbname that is itself a
# connection string) and malformed ones whose libpq errors quote the conninfo, plus
# Kafka secrets in SHOPSTREAM_KAFKA_PROPERTIES; their logs must hold no part of them.
# Every password holds the markers Zq7Hv and K3pW. The local database trusts its
# clients, so the valid forms connect and the binaries run normally (but for the nested
# dbname, which only PQconnectdbParams expands: the server then quotes it back).
. "$(dirname "$0")/lib.sh"

DB="it_config_$RUN"
psql "$SHOPSTREAM_IT_PG_DSN" -qXc "create database $DB" >/dev/null
DBS+=("$DB")
BASE="$SHOPSTREAM_IT_PG_DSN dbname=$DB"
"$ADMIN" migrate --dsn "$BASE" --dir "$REPO/schema/migrations" >/dev/null 2>&1 || { echo "migrate failed"; exit 1; }
"$ADMIN" create-topics --brokers "$BROKERS" --prefix "$PREFIX" --partitions 1 >/dev/null 2>&1 ||
    { echo "create-topics failed"; exit 1; }
# The URI forms need the server's address: the socket directory (or host) and port of the IT DSN.
HOST=$(sed -n "s/.*host=\([^ ]*\).*/\1/p" <<<"$SHOPSTREAM_IT_PG_DSN")
PGPORT_=$(sed -n "s/.*port=\([0-9]*\).*/\1/p" <<<"$SHOPSTREAM_IT_PG_DSN")
USER_=$(sed -n "s/.*user=\([^ ]*\).*/\1/p" <<<"$SHOPSTREAM_IT_PG_DSN")
Q="host=${HOST:-127.0.0.1}&port=${PGPORT_:-5432}"
U=${USER_:-$(id -un)}

VALID=(
    "$BASE password=Zq7HvK3pW"
    "$BASE password = Zq7Hv@:K3pW"
    "$BASE password='Zq7Hv it\\'s a \\\\ @:K3pW'"
    "$BASE password=Zq7Hv\\ K3pW"
    "$BASE sslpassword=Zq7HvK3pW"
    "postgresql://$U:Zq7Hv%40%3A%20K3pW@/$DB?$Q"
    "postgres://$U:Zq7HvK3pW@/$DB?$Q&application_name=it"
    "postgresql:///$DB?$Q&user=$U&password=Zq7Hv%26K3pW"
    "$SHOPSTREAM_IT_PG_DSN dbname='dbname=$DB password=\\'Zq7Hv K3pW\\''"
)
# libpq refuses these, quoting what it could not parse.
MALFORMED=(
    "postgresql://$U:Zq7Hv%zzK3pW@/$DB?$Q"
    "postgresql://$U:Zq7Hv K3pW@/$DB?$Q"
    "postgresql:///$DB?$Q&password=Zq7Hv%zzK3pW"
)
KAFKA_SECRETS="sasl.username=u;sasl.password=Zq7HvK3pW;ssl.key.password=Zq7Hv-K3pW"

leaks() { grep -l -e Zq7Hv -e K3pW "$@" 2>/dev/null || true; }
TOK=$("$TOKEN" --sub u1)

i=0
for dsn in "${VALID[@]}" "${MALFORMED[@]}"; do
    i=$((i + 1))
    run_edge "$TMP/edge.$i.log" SHOPSTREAM_PG_DSN="$dsn" SHOPSTREAM_KAFKA_PROPERTIES="$KAFKA_SECRETS"
    if [ -n "$PORT" ]; then
        # reads connect to PostgreSQL on first use
        curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT/v1/products/p1" || true
    fi
    stop "$EDGE_PID"
    run_worker "$TMP/worker.$i.log" SHOPSTREAM_PG_DSN="$dsn" SHOPSTREAM_KAFKA_PROPERTIES="$KAFKA_SECRETS"
    wait_log "$TMP/worker.$i.log" 'effective configuration' || true
    wait_log "$TMP/worker.$i.log" 'partition assigned\|postgresql still unavailable' 150 || true
    stop "$WORKER_PID"
    "$ADMIN" migrate --dsn "$dsn" --dir "$REPO/schema/migrations" >"$TMP/admin-migrate.$i.log" 2>&1 || true
    SHOPSTREAM_PG_DSN="$dsn" "$ADMIN" lag --brokers "$BROKERS" --prefix "$PREFIX" --group g \
        >"$TMP/admin-lag.$i.log" 2>&1 || true
    grep -q 'effective configuration' "$TMP/edge.$i.log" || fail "dsn $i: the edge did not describe its configuration"
    grep -q 'effective configuration' "$TMP/worker.$i.log" || fail "dsn $i: the worker did not describe its configuration"
    bad=$(leaks "$TMP"/*."$i".log)
    if [ -n "$bad" ]; then
        fail "dsn $i: a password in $(echo $bad | xargs -n1 basename | tr '\n' ' ')"
        grep -h -e Zq7Hv -e K3pW $bad | head -3 | cut -c1-300
    else
        ok "dsn $i: no password in the edge, worker and admin logs"
    fi
done

# The valid forms really connected (so the binaries ran past configuration).
grep -q 'partition assigned' "$TMP/worker.1.log" && ok "the worker ran with a password-bearing DSN" ||
    fail "the worker did not get going with DSN 1"
grep -q 'could not connect to postgresql\|still unavailable' "$TMP/worker.$((${#VALID[@]} + 1)).log" &&
    ok "the malformed DSNs did reach libpq's error path" || fail "no connection error logged for a malformed DSN"

[ "$FAILS" -eq 0 ] || exit 1
