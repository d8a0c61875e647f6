# SPDX-License-Identifier: MIT
# Helpers of the inventory integration tests (sourced): the edge, database and
# topics come from tests/integration/e2e/lib.sh; this adds inventory workers, the
# outcome topic's reader and the burst's posting. Everything started is stopped on exit.
. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

# inv_start LOGNAME: an inventory worker in the background (group $IT_NAME-inventory); sets INV_PID.
inv_start() {
    SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS SHOPSTREAM_TOPIC_PREFIX=$IT_PREFIX \
    SHOPSTREAM_PG_DSN=$IT_DSN SHOPSTREAM_KAFKA_GROUP_ID=$IT_NAME-inventory \
    SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS=6000 SHOPSTREAM_STATS_INTERVAL_MS=2000 \
    SHOPSTREAM_BATCH_MAX=${INV_BATCH_MAX:-50} \
        "$IT_BIN/workers/shopstream-worker" --role inventory >>"$IT_TMP/$1.log" 2>&1 &
    INV_PID=$!
    IT_PIDS+=("$INV_PID")
}

# inv_tail FILE: every record of the inventory topic, one line each (it_inv_tail.c).
inv_tail() {
    "$IT_BIN/tests/integration/inventory/it-inventory-tail" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" \
        --topic "${IT_PREFIX}inventory.v1" >"$1"
}

# inv_post_file TOKEN FILE: posts a JSON body until the edge answers 202 (the body
# carries its event ids, so a retry after a 503 is the same event); prints the status.
inv_post_file() {
    local code
    for _ in $(seq 1 50); do
        code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -X POST "$IT_URL/v1/events" \
            -H "Authorization: Bearer $1" -H 'Content-Type: application/json' --data-binary "@$2" || echo 000)
        [ "$code" = 202 ] && break
        case "$code" in 503 | 000) sleep 0.2 ;; *) break ;; esac
    done
    echo "$code"
}
export -f inv_post_file

# inv_sampler FILE STOPFILE: min(available) over every product, as often as psql allows,
# until STOPFILE exists; sets INV_SAMPLER_PID.
inv_sampler() {
    (while [ ! -e "$2" ]; do
        psql "$IT_DSN" -XAtqc "select coalesce(min(available), 0) from inventory_stock" >>"$1" 2>/dev/null || true
        sleep 0.02
    done) &
    INV_SAMPLER_PID=$!
    IT_PIDS+=("$INV_SAMPLER_PID")
}

# inv_uuid N: a fixed event id for the test's Nth event.
inv_uuid() { printf '7a1b0c00-0000-4000-8000-%012d' "$1"; }
