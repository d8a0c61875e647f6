# SPDX-License-Identifier: MIT
# Helpers of the ML integration tests (sourced): the edge, database, topics and the
# inventory worker come from tests/integration/inventory/lib.sh; this adds ML workers,
# the history's posting (history.py), the dumps of the ML read models and checkpoints,
# and their comparison (compare.py, independent of workers/). Everything started is
# stopped on exit; extra databases are dropped.
. "$(dirname "${BASH_SOURCE[0]}")/../inventory/lib.sh"
ML_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ML_DBS=()

# The reorder window the tests run with: the history is posted a simulated day at a time
# and a day's inventory outcomes reach the topic before the next day is posted, so two
# days of event time cover any skew between the topics (docs/ml.md; the default 6 h
# assumes a shop living in real time, where an outcome lags its order by milliseconds).
: "${ML_LATENESS_MS:=172800000}"
# Checkpoints every 2 s of wall clock, so kills land after some and a run writes many.
: "${ML_CHECKPOINT_MS:=2000}"
# The reorder buffer is flushed once the consumer has been idle this long; longer than the
# inventory takes to decide and relay a day's orders, so a flush never overtakes a day's
# outcomes. 4 s was not always enough on a loaded CI machine (one kill9 run counted 2,578
# late events): the poster's wait for the inventory is the ML worker's idle time.
: "${ML_IDLE_FLUSH_MS:=10000}"
: "${ML_SEED:=8}" "${ML_USERS:=300}" "${ML_DAYS:=120}"

ml_require() {
    it_require_env
    trap ml_cleanup EXIT
    ML_TAIL=$IT_BIN/tests/integration/ml/it-ml-tail
    [ -x "$ML_TAIL" ] || fail "missing $ML_TAIL (build first)"
    ml_have_role || { echo "skipped: this build's shopstream-worker has no ml role shell"; exit 77; }
}

# False when the worker's build has the ml row but not its shell yet (it says so at once).
ml_have_role() {
    local out
    out=$(SHOPSTREAM_KAFKA_BROKERS=127.0.0.1:1 SHOPSTREAM_PG_DSN="host=/nonexistent connect_timeout=1" \
          timeout 3 "$IT_BIN/workers/shopstream-worker" --role ml 2>&1 || true)
    ! grep -q 'role has no shell' <<<"$out"
}

ml_cleanup() {
    local rc=$?
    if { [ $rc -ne 0 ] || [ -n "${SHOPSTREAM_IT_KEEP_ALWAYS:-}" ]; } && [ $rc -ne 77 ] && [ -n "${SHOPSTREAM_IT_KEEP_DIR:-}" ]; then
        mkdir -p "$SHOPSTREAM_IT_KEEP_DIR" && cp -r "$IT_TMP" "$SHOPSTREAM_IT_KEEP_DIR/$IT_NAME" 2>/dev/null || true
        local d
        for d in "${IT_DB:-}" "${ML_DBS[@]}"; do   # what a failed wait leaves to look at
            [ -n "$d" ] || continue
            psql "$SHOPSTREAM_IT_PG_DSN dbname=$d" -Xc "select id, group_id, epoch, watermark_ms, state_version, created_at from ml_checkpoints order by id" \
                -c "select * from ml_lease" -c "select * from consumer_offsets order by 1, 2, 3" \
                -c "select application_name, state, wait_event, left(query, 120) from pg_stat_activity where datname = current_database()" \
                >"$SHOPSTREAM_IT_KEEP_DIR/$IT_NAME/db_$d.txt" 2>&1 || true
        done
        echo "kept $SHOPSTREAM_IT_KEEP_DIR/$IT_NAME"
    fi
    for p in "${IT_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for db in "${ML_DBS[@]}"; do
        psql "$SHOPSTREAM_IT_PG_DSN" -qXc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
    done
    (exit $rc)
    it_cleanup
}

# ml_make_db NAME: another fresh database with the schema (an ML run of its own); prints its DSN.
ml_make_db() {
    local db=${IT_NAME//[^a-z0-9_]/_}_$1
    psql "$SHOPSTREAM_IT_PG_DSN" -qXc "drop database if exists $db with (force)" >/dev/null
    psql "$SHOPSTREAM_IT_PG_DSN" -qXc "create database $db" >/dev/null
    ML_DBS+=("$db")
    "$IT_BIN/tools/admin/shopstream-admin" migrate --dsn "$SHOPSTREAM_IT_PG_DSN dbname=$db" \
        --dir "$IT_REPO/schema/migrations" >/dev/null 2>&1 || fail "migrate $db"
    echo "$SHOPSTREAM_IT_PG_DSN dbname=$db"
}

# ml_start LOGNAME DSN GROUP [VAR=VALUE...]: an ML worker in the background; sets ML_PID.
# Extra settings (e.g. SHOPSTREAM_ML_LATENESS_MS=0 for a broken variant) override the tests'.
ml_start() {
    local name=$1 dsn=$2 group=$3
    shift 3
    env SHOPSTREAM_KAFKA_BROKERS="$SHOPSTREAM_IT_KAFKA_BROKERS" SHOPSTREAM_TOPIC_PREFIX="$IT_PREFIX" \
        SHOPSTREAM_PG_DSN="$dsn" SHOPSTREAM_KAFKA_GROUP_ID="$group" \
        SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS=6000 SHOPSTREAM_STATS_INTERVAL_MS=1000 \
        SHOPSTREAM_ML_LATENESS_MS="$ML_LATENESS_MS" SHOPSTREAM_ML_CHECKPOINT_MS="$ML_CHECKPOINT_MS" \
        SHOPSTREAM_ML_IDLE_FLUSH_MS="$ML_IDLE_FLUSH_MS" ${ML_EXTRA_ENV:-} "$@" \
        "$IT_BIN/workers/shopstream-worker" --role ml >>"$IT_TMP/$name.log" 2>&1 &
    ML_PID=$!
    IT_PIDS+=("$ML_PID")
}

# ml_lag DSN GROUP: the ML group's total lag over browse, cart and inventory (one integer).
ml_lag() {
    "$IT_BIN/tools/admin/shopstream-admin" lag --role ml --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" \
        --prefix "$IT_PREFIX" --dsn "$1" --group "$2" --quiet 2>/dev/null
}

# The inventory group's lag, as history.py's --lag-cmd runs it.
ml_inv_lag_cmd() {
    printf '%q lag --role inventory --brokers %q --prefix %q --dsn %q --group %q --quiet' \
        "$IT_BIN/tools/admin/shopstream-admin" "$SHOPSTREAM_IT_KAFKA_BROKERS" "$IT_PREFIX" "$IT_DSN" "$IT_NAME-inventory"
}

# ml_catalog_and_stack: the main database, topics, edge, one inventory worker; tokens.
ml_stack() {
    it_make_db
    it_make_topics
    it_start_edge
    inv_start inventory
    ML_ADMIN_TOKEN=$(it_token ml-import admin)
    ML_SERVICE_TOKEN=$(it_token ml-import service)
    export ML_ADMIN_TOKEN ML_SERVICE_TOKEN
}

# ml_post [history.py options...]: posts the test's history (seed, users, days) through the
# edge a day at a time, waiting for the inventory after each (see history.py).
ml_post() {
    python3 "$ML_HERE/history.py" post --url "$IT_URL" --seed "$ML_SEED" --users "$ML_USERS" --days "$ML_DAYS" \
        --throttle --lag-cmd "$(ml_inv_lag_cmd)" --dsn "$IT_DSN" --summary "$IT_TMP/history.json" "$@"
}

# ml_check_inventory: the history reached the inventory as intended: every order decided,
# some rejected as out of stock and as unknown products, some released by a cancel.
ml_check_inventory() {
    local orders want
    want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["orders"])' "$IT_TMP/history.json")
    orders=$(it_sql -c "select count(*) from inventory_orders")
    [ "$orders" = "$want" ] || fail "the inventory decided $orders of $want orders"
    local oos unk rel res
    oos=$(it_sql -c "select count(*) from inventory_orders where reason = 'out_of_stock'")
    unk=$(it_sql -c "select count(*) from inventory_orders where reason = 'unknown_product'")
    rel=$(it_sql -c "select count(distinct order_id) from inventory_reservations where state = 'released'")
    res=$(it_sql -c "select count(*) from inventory_orders where outcome = 'reserved'")
    [ "$oos" -gt 0 ] && [ "$unk" -gt 0 ] && [ "$rel" -gt 0 ] ||
        fail "the history should reject some orders and release some: out_of_stock $oos, unknown_product $unk, released $rel"
    ok "history: $orders orders decided by the inventory ($res reserved, $oos out of stock, $unk unknown product, $rel released by a cancel)"
}

# ml_records DSN GROUP: how many records browse, cart and inventory hold (their end offsets).
ml_records() {
    "$IT_BIN/tools/admin/shopstream-admin" lag --role ml --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" \
        --prefix "$IT_PREFIX" --dsn "$1" --group "$2" 2>/dev/null |
        awk '$3 == "end" { n += $4 } END { print n + 0 }'
}

# ml_stats LOG: the ML worker's last stats line ("" before the first).
ml_stats() { grep 'comp=ml msg="stats"' "$1" 2>/dev/null | tail -n 1; }
# ml_stat LOG NAME: one field of that line.
ml_stat() { ml_stats "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

# ml_wait_done DSN GROUP WHAT LOG: until the owner (logging to LOG) has pushed every record
# (lag 0, its stats count them all), the idle flush has emptied its reorder buffer, no
# release waits on a retrain, and a checkpoint was written after that (the role writes
# none while a retrain is out, so the models are final). Safety bounds only.
ml_wait_done() {
    local dsn=$1 group=$2 what=$3 log=$4 total
    total=$(ml_records "$dsn" "$group")
    it_wait "$what: the ML group consumed all $total records" 240 ml_lag_zero "$dsn" "$group"
    it_wait "$what: every record pushed and the reorder buffer flushed" 120 ml_flushed "$log" "$total"
    local ck
    ck=$(psql "$dsn" -XAtqc "select coalesce(max(id), 0) from ml_checkpoints where group_id = '$group'")
    it_wait "$what: a checkpoint after the flush (none is cut while a retrain is out)" 120 \
        ml_checkpoint_after "$dsn" "$group" "$ck"
    ML_DONE_STATS=$(ml_stats "$log")
}

ml_lag_zero() { [ "$(ml_lag "$1" "$2")" = 0 ]; }
ml_flushed() {
    [ "$(ml_stat "$1" events)" = "$2" ] && [ "$(ml_stat "$1" buffered)" = 0 ] && [ "$(ml_stat "$1" waiting)" = 0 ]
}
ml_checkpoint_after() {
    [ "$(psql "$1" -XAtqc "select coalesce(max(id), 0) from ml_checkpoints where group_id = '$2'")" -gt "$3" ]
}

# ml_counters WHAT LOG: the run's counters from its last stats line.
ml_counters() {
    ok "$1: events=$(ml_stat "$2" events) applied=$(ml_stat "$2" applied) late=$(ml_stat "$2" late) purchases=$(ml_stat "$2" purchases) retracted=$(ml_stat "$2" retracted) jobs=$(ml_stat "$2" jobs) versions $(ml_stat "$2" version_recommend)/$(ml_stat "$2" version_segment)/$(ml_stat "$2" version_forecast)"
}

# ml_no_late WHAT LOG: the run applied no event behind what it had applied already (the
# only case where arrival order may show, mlw.h).
ml_no_late() {
    local late
    late=$(ml_stat "$2" late)
    [ "$late" = 0 ] || ml_problem "$1: $late events arrived behind what was already applied (stats late=$late)"
}

# Log lines of the role (workers/roles/ml.c).
ml_consumed() { [ "$(ml_stat "$1" events)" -gt 0 ] 2>/dev/null; }
ml_is_standby() { grep -q 'msg="standby: another instance owns the models; waiting for the lease"' "$1"; }
ml_is_owner() { grep -q 'msg="owner of the models"' "$1"; }
ml_restored_from() { grep -q "msg=\"checkpoint loaded\" id=$2 " "$1"; }

# ml_dump DSN DIR: the ML read models and the group's latest checkpoint as JSON, for compare.py.
ml_dump() {
    local dsn=$1 dir=$2 group=${3:-}
    mkdir -p "$dir"
    j() { psql "$dsn" -XAtq -c "select coalesce(json_agg(t), '[]') from ($2) t" >"$dir/$1.json"; }
    j models "select model, version, trained_at_ms, watermark_ms, metrics from ml_models order by model"
    j user_recs "select user_id, model_version, items, scores, fallback, updated_at_ms from ml_user_recs order by user_id"
    j popular "select model_version, items, scores, updated_at_ms from ml_popular"
    j similar "select product_id, model_version, items, scores, updated_at_ms from ml_similar order by product_id"
    j user_segments "select user_id, segment, model_version, features, updated_at_ms from ml_user_segments order by user_id"
    j segments "select segment, model_version, size, centre, label, profile from ml_segments order by segment"
    j forecasts "select product_id, model_version, method, start_date, daily, updated_at_ms from ml_forecasts order by product_id"
    j checkpoint "select c.id, c.epoch, c.watermark_ms, c.offsets, c.state_version, md5(c.state) as state_md5, length(c.state) as state_len,
                         (select json_agg(json_build_object('model', s.model, 'version', s.version, 'format', s.format,
                                 'md5', md5(s.payload), 'len', length(s.payload), 'metrics', s.metrics,
                                 'trained_at_ms', s.trained_at_ms) order by s.model)
                            from ml_snapshots s where s.checkpoint_id = c.id) as snapshots
                    from ml_checkpoints c ${group:+where c.group_id = '$group'} order by c.id desc limit 1"
    j lease "select group_id, epoch, holder from ml_lease order by group_id"
    unset -f j
}

# The equality checks note what they find and the test goes on, so one run reports every
# difference (models, late events, the topic); ml_verdict fails the test at its end.
ML_PROBLEMS=()
ml_problem() { echo "PROBLEM: $*"; ML_PROBLEMS+=("$*"); }

ml_verdict() {
    [ ${#ML_PROBLEMS[@]} = 0 ] || fail "${#ML_PROBLEMS[@]} checks failed: $(printf '%s; ' "${ML_PROBLEMS[@]}")"
    ok "$1"
}

# ml_compare DIR_A DIR_B WHAT [compare.py options]: the models of two runs must be equal.
ml_compare() {
    local a=$1 b=$2 what=$3
    shift 3
    if python3 "$ML_HERE/compare.py" "$a" "$b" "$@"; then
        ok "$what: the ML read models are equal"
    else
        ml_problem "$what: the ML read models differ"
    fi
}

# ml_check_topic WHAT check_topic.py-arguments...: the ml topic's events of one run.
ml_check_topic() {
    local what=$1
    shift
    python3 "$ML_HERE/check_topic.py" "$@" || ml_problem "$what"
}

# ml_topic FILE: every record of the ml topic, one JSON object a line (it_ml_tail.c).
ml_topic() {
    "$ML_TAIL" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --topic "${IT_PREFIX}ml.v1" >"$1" ||
        fail "could not read ${IT_PREFIX}ml.v1"
}

# ml_perturb: with ML_TEST_PERTURB=1, one more view is posted before the second run, so
# the runs no longer see the same records: every test must then fail (how to check that
# its comparison can fail at all).
ml_perturb() {
    [ -n "${ML_TEST_PERTURB:-}" ] || return 0
    local at r
    at=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_ms"])' "$IT_TMP/history.json")
    r=$(it_post "$ML_SERVICE_TOKEN" "{\"events\":[{\"type\":\"product.viewed\",\"user_id\":\"u0001\",\"product_id\":\"p-mugs-0\",\"at\":$at}]}")
    [ "${r%% *}" = 202 ] || fail "the perturbing view: $r"
    ok "ML_TEST_PERTURB: one more view posted before the second run (this test must now fail)"
}
