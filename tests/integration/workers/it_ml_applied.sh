#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the ml role's consumer_offsets mean (docs/ml.md, "Positions"): applied, not
# consumed. One shopper's views, posted through the edge, all on one browse partition:
#  - two views consumed but held by the reorder buffer (lateness 1 h of event time, no
#    idle flush yet): consumer_offsets has not passed either (lag 2) and ml_user_recs has
#    no row for the shopper;
#  - a third view 2 h later releases the first two: consumer_offsets passes them and stops
#    at the third (lag 1), and the shopper's row is the second view's (its event time);
#  - the checkpoint's offsets still cover the third (a restart resumes after it, from
#    the buffer the checkpoint stores); a clean stop does not move consumer_offsets past
#    it; a restart whose idle flush applies it moves consumer_offsets to the end (lag 0)
#    and the row to the third view.
IT_NAME=itmlap$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env

it_make_db
it_make_topics
it_start_edge
GROUP=$IT_NAME-ml
BROWSE=${IT_PREFIX}browse.v1

# ml_start LOGNAME IDLE_FLUSH_MS: the ml worker; sets ML_PID. Lateness 1 h of event time.
ml_start() {
    SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS SHOPSTREAM_TOPIC_PREFIX=$IT_PREFIX \
    SHOPSTREAM_PG_DSN=$IT_DSN SHOPSTREAM_KAFKA_GROUP_ID=$GROUP SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS=6000 \
    SHOPSTREAM_STATS_INTERVAL_MS=500 SHOPSTREAM_ML_LATENESS_MS=3600000 SHOPSTREAM_ML_CHECKPOINT_MS=500 \
    SHOPSTREAM_ML_IDLE_FLUSH_MS=$2 \
        "$IT_BIN/workers/shopstream-worker" --role ml >>"$IT_TMP/$1.log" 2>&1 &
    ML_PID=$!
    IT_PIDS+=("$ML_PID")
}
stats() { grep 'comp=ml msg="stats"' "$IT_TMP/$1.log" | tail -n 1; }
# pushed_held LOG N B: the last stats line counts N records pushed and B buffered (the
# stats come from the loop after the batch's write committed).
pushed_held() { stats "$1" | grep -q " events=$2 " && stats "$1" | grep -q " buffered=$3 "; }
lag() {
    "$IT_BIN/tools/admin/shopstream-admin" lag --role ml --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" \
        --prefix "$IT_PREFIX" --dsn "$IT_DSN" --group "$GROUP" --quiet
}
next_offset() {
    it_sql -c "select coalesce(sum(next_offset), -1) from consumer_offsets where consumer_group = '$GROUP' and topic = '$BROWSE'"
}
recs_at() { it_sql -c "select coalesce(max(updated_at_ms), -1) from ml_user_recs where user_id = 'u-rw'"; }
ckpt_offset() {
    it_sql -c "select coalesce(sum((e->>'offset')::bigint), -1) from ml_checkpoints c, jsonb_array_elements(c.offsets) e
               where c.id = (select max(id) from ml_checkpoints where group_id = '$GROUP') and e->>'topic' = '$BROWSE'"
}

# The idle flush an hour away: only event time releases anything in the first part.
ml_start ml1 3600000
ML1=$ML_PID
started() { grep -q 'msg="partition assigned"' "$IT_TMP/$1.log"; }
it_wait "the ml worker joined its group" 60 started ml1

service=$(it_token importer service)
t0=$(( ($(date +%s) - 10 * 86400) * 1000 ))
view() {   # view PRODUCT AT
    local r; r=$(it_post "$service" "{\"events\":[{\"type\":\"product.viewed\",\"user_id\":\"u-rw\",\"product_id\":\"$1\",\"at\":$2}]}")
    [ "${r%% *}" = 202 ] || fail "view of $1: $r"
}
view p1 "$t0"
view p2 $((t0 + 60000))
it_wait "both views consumed and held" 60 pushed_held ml1 2 2
[ "$(lag)" = 2 ] || fail "consumer_offsets passed records the reorder buffer still holds: lag $(lag), want 2 (next_offset $(next_offset))"
[ "$(next_offset)" = 0 ] || fail "consumer_offsets for $BROWSE says $(next_offset), want 0 (the first view is held)"
[ "$(recs_at)" = -1 ] || fail "ml_user_recs shows a held view (updated_at_ms $(recs_at))"
ok "two views consumed and held: consumer_offsets has not passed them (lag 2), no row yet"

# Two hours of event time later: the first two are due, the third is held.
view p3 $((t0 + 7200000))
it_wait "the third view consumed, the first two applied" 60 pushed_held ml1 3 1
[ "$(lag)" = 1 ] || fail "lag $(lag) after the first two were applied, want 1 (next_offset $(next_offset))"
[ "$(next_offset)" = 2 ] || fail "consumer_offsets for $BROWSE says $(next_offset), want 2 (applied through the second view)"
[ "$(recs_at)" = $((t0 + 60000)) ] || fail "ml_user_recs.updated_at_ms $(recs_at), want the second view's $((t0 + 60000))"
ckpt_covers() { [ "$(ckpt_offset)" = 3 ]; }
it_wait "a checkpoint whose offsets cover the held view" 60 ckpt_covers
ok "two views applied: consumer_offsets passed them and stops at the held one (lag 1); the checkpoint covers it"

kill -TERM "$ML1"
wait "$ML1" || fail "the ml worker did not exit 0 on SIGTERM (rc $?)"
[ "$(lag)" = 1 ] || fail "a clean stop moved consumer_offsets past the held view: lag $(lag)"
[ "$(ckpt_offset)" = 3 ] || fail "the last checkpoint's offsets do not cover the held view: $(ckpt_offset)"

# Restarted with a short idle flush: the checkpoint's buffer comes back and is flushed.
ml_start ml2 300
it_wait "the restarted worker joined its group" 60 started ml2
grep -q 'msg="checkpoint loaded"' "$IT_TMP/ml2.log" || fail "the restart did not load the checkpoint"
grep 'msg="partition assigned"' "$IT_TMP/ml2.log" | grep -q "topic=$BROWSE .* offset=3" \
    || fail "the restart does not resume $BROWSE after the held view: $(grep 'partition assigned' "$IT_TMP/ml2.log")"
lag_zero() { [ "$(lag)" = 0 ]; }
it_wait "the idle flush applied the held view" 60 lag_zero
[ "$(recs_at)" = $((t0 + 7200000)) ] || fail "ml_user_recs.updated_at_ms $(recs_at) after the flush, want the third view's"
ok "the idle flush applied the held view: consumer_offsets at the end (lag 0), the row is the third view's"
