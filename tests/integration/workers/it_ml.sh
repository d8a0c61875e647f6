#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ml worker against the real broker and database (docs/ml.md, "The ML worker"):
# a small shop history posted through the edge by a service on behalf of 30 shoppers
# (views, cart adds and orders spread over 30 days of event time), an inventory worker
# deciding the orders (the ml role's purchases are its inventory.reserved), and one ml
# worker. Then:
#  - ml_user_recs, ml_popular, ml_user_segments, ml_segments and ml_models hold sane
#    rows (lists as long as their scores, best first, nothing a user bought in their
#    own list, segments named by ml_user_segments exist, the models' versions);
#  - <prefix>ml.v1 carries ml.model_published with its CloudEvents ce_id;
#  - an undecodable record on the browse topic goes to the dead-letter topic and a
#    search (no input of the models) is ignored, and consumption goes on past both;
#  - a failed write (the worker's connection terminated) reloads the state from the
#    latest checkpoint and consumption goes on; no ml.* event reaches the topic twice;
#  - a second ml worker of the same group waits as a standby (its log says so), never
#    joins the consumer group and writes nothing (the lease keeps the first one's
#    epoch and holder), and SIGTERM while it waits exits 0;
#  - SIGTERM stops the owner with exit 0 after a last checkpoint (at most two kept; none
#    while a retrain is out, which it logs); a restart takes the next epoch and resumes
#    from the latest checkpoint;
#  - fencing: the owner whose lease session is lost, or whose epoch another instance moved
#    on, stops with exit 3 and writes nothing more.
IT_NAME=itml$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env
TAIL=$IT_BIN/tests/integration/inventory/it-inventory-tail
GEN=$IT_BIN/tests/integration/workers/it-workers-gen
for b in "$TAIL" "$GEN"; do [ -x "$b" ] || fail "missing $b (build first)"; done
N_USERS=30 N_PRODUCTS=8

it_make_db
it_make_topics
it_start_edge

SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS SHOPSTREAM_TOPIC_PREFIX=$IT_PREFIX \
SHOPSTREAM_PG_DSN=$IT_DSN SHOPSTREAM_KAFKA_GROUP_ID=$IT_NAME-inventory SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS=6000 \
    "$IT_BIN/workers/shopstream-worker" --role inventory >>"$IT_TMP/inventory.log" 2>&1 &
IT_PIDS+=("$!")

# ml_start LOGNAME: an ml worker of the test's group; sets ML_PID. Event-time knobs small
# enough for 30 days of history to train and retrain; checkpoints every second. A retrain
# swaps in at its take (swap after 0): the core refuses a checkpoint while one is out, and
# the history ends within an hour of event time of its last take.
ml_start() {
    SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS SHOPSTREAM_TOPIC_PREFIX=$IT_PREFIX \
    SHOPSTREAM_PG_DSN=$IT_DSN SHOPSTREAM_KAFKA_GROUP_ID=$IT_NAME-ml SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS=6000 \
    SHOPSTREAM_STATS_INTERVAL_MS=1000 SHOPSTREAM_ML_LATENESS_MS=3600000 SHOPSTREAM_ML_RETRAIN_EVERY_MS=86400000 \
    SHOPSTREAM_ML_SWAP_AFTER_MS=0 SHOPSTREAM_ML_CHECKPOINT_MS=1000 SHOPSTREAM_ML_IDLE_FLUSH_MS=300 \
        "$IT_BIN/workers/shopstream-worker" --role ml >>"$IT_TMP/$1.log" 2>&1 &
    ML_PID=$!
    IT_PIDS+=("$ML_PID")
}
ml_start ml1
ML1=$ML_PID
owns() { grep -q 'msg="owner of the models"' "$IT_TMP/ml1.log"; }
it_wait "the first ml worker owns the models" 60 owns

admin=$(it_token ops admin)
service=$(it_token importer service)
catalog=""
for p in $(seq 1 $N_PRODUCTS); do
    catalog="$catalog${catalog:+,}{\"type\":\"catalog.product_upserted\",\"product_id\":\"p$p\",\"name\":\"P$p\",\"price\":{\"amount_minor\":$((100 * p)),\"currency\":\"GBP\"},\"stock\":100000}"
done
r=$(it_post "$admin" "{\"events\":[$catalog]}")
[ "${r%% *}" = 202 ] || fail "catalog: $r"
catalog_in() { [ "$(it_sql -c "select count(*) from inventory_stock where price_minor is not null")" = $N_PRODUCTS ]; }
it_wait "the catalog reached the inventory" 60 catalog_in

# The history: user u<i> views three products, carts two and orders them (two orders),
# a few hours apart, starting 40 days ago; users fall in groups by what they like.
# bought.csv is what each user bought (nothing of it may be in their own list).
day=86400000
t0=$(( ($(date +%s) - 40 * 86400) * 1000 ))
: >"$IT_TMP/bought.csv"
post_user() {   # post_user I
    local i=$1 evs="" k p q at
    local a=$(( (i % 4) * 2 + 1 )) b=$(( (i % 4) * 2 + 2 )) c=$(( (i * 5) % N_PRODUCTS + 1 ))
    at=$(( t0 + (i % 10) * 3 * day + i * 3600000 ))
    for p in $a $b $c; do
        evs="$evs${evs:+,}{\"type\":\"product.viewed\",\"user_id\":\"u$i\",\"product_id\":\"p$p\",\"at\":$at}"
        at=$((at + 600000))
    done
    k=0
    for p in $a $c; do
        k=$((k + 1)); q=$(( 1 + i % 3 ))
        evs="$evs,{\"type\":\"cart.item_added\",\"user_id\":\"u$i\",\"product_id\":\"p$p\",\"quantity\":$q,\"unit_price\":{\"amount_minor\":$((100 * p)),\"currency\":\"GBP\"},\"at\":$at}"
        at=$((at + 600000))
        evs="$evs,{\"type\":\"order.placed\",\"user_id\":\"u$i\",\"order_id\":\"o-$i-$k\",\"lines\":[{\"product_id\":\"p$p\",\"quantity\":$q,\"unit_price\":{\"amount_minor\":$((100 * p)),\"currency\":\"GBP\"}}],\"at\":$at}"
        at=$((at + 2 * day))
        echo "u$i,p$p" >>"$IT_TMP/bought.csv"
    done
    r=$(it_post "$service" "{\"events\":[$evs]}")
    [ "${r%% *}" = 202 ] || fail "history of u$i: $r"
}
for i in $(seq 1 $N_USERS); do post_user "$i"; done
# Nothing the models use, and a record nobody can decode, on the browse topic.
r=$(it_post "$service" "{\"events\":[{\"type\":\"search.performed\",\"user_id\":\"u1\",\"query\":\"mug\",\"at\":$((t0 + 36 * day))}]}")
[ "${r%% *}" = 202 ] || fail "search: $r"
"$GEN" junk --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$IT_PREFIX" --bytes 64 >/dev/null
# One more purchase after both, so consumption must have gone past them.
r=$(it_post "$service" "{\"events\":[{\"type\":\"order.placed\",\"user_id\":\"u1\",\"order_id\":\"o-1-last\",\"lines\":[{\"product_id\":\"p8\",\"quantity\":1,\"unit_price\":{\"amount_minor\":800,\"currency\":\"GBP\"}}],\"at\":$((t0 + 36 * day + 60000))}]}")
[ "${r%% *}" = 202 ] || fail "last order: $r"
echo "u1,p8" >>"$IT_TMP/bought.csv"
ok "posted the history of $N_USERS users"

reserved_all() { [ "$(it_sql -c "select count(*) from inventory_orders where outcome = 'reserved'")" = $((2 * N_USERS + 1)) ]; }
it_wait "every order reserved" 120 reserved_all
# Caught up: the ml role's offsets cover every record of its three topics.
caught_up() {
    [ "$("$IT_BIN/tools/admin/shopstream-admin" lag --role ml --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" \
        --prefix "$IT_PREFIX" --dsn "$IT_DSN" --group "$IT_NAME-ml" --quiet 2>/dev/null)" = 0 ]
}
it_wait "the ml worker caught up" 120 caught_up
# ... and idle: the reorder buffer flushed (the last events wait there until then).
flushed() { grep 'comp=ml msg="stats"' "$IT_TMP/ml1.log" | tail -n 1 | grep -q ' buffered=0 waiting=0 '; }
it_wait "the reorder buffer flushed" 60 flushed
recs_in() { [ "$(it_sql -c "select count(*) from ml_user_recs")" -ge $N_USERS ]; }
it_wait "a top list for every user" 120 recs_in
models_in() { [ "$(it_sql -c "select count(*) from ml_models where model in ('recommend', 'segment') and version >= 1")" = 2 ]; }
it_wait "the recommend and segment models published" 120 models_in
ok "ml_user_recs and ml_models written"

# Sane rows.
bad=$(it_sql -c "select count(*) from ml_user_recs where cardinality(items) <> cardinality(scores)
                 or exists (select 1 from generate_subscripts(scores, 1) i where i > 1 and scores[i] > scores[i - 1])")
[ "$bad" = 0 ] || fail "$bad top lists are not best first or not as long as their scores"
it_sql -c "create temp table bought (user_id text, product_id text)" -c "\\copy bought from '$IT_TMP/bought.csv' csv" \
    -c "select count(*) from ml_user_recs r join bought b using (user_id) where b.product_id = any (r.items)" \
    | tail -n 1 >"$IT_TMP/leaks"
[ "$(cat "$IT_TMP/leaks")" = 0 ] || fail "$(cat "$IT_TMP/leaks") bought products appear in their buyer's own list"
[ "$(it_sql -c "select count(*) from ml_user_recs where not fallback and model_version < 1")" = 0 ] \
    || fail "a model's list names no version"
[ "$(it_sql -c "select count(*) from ml_popular where cardinality(items) between 1 and $N_PRODUCTS")" = 1 ] \
    || fail "no popularity list"
n_seg=$(it_sql -c "select count(*) from ml_segments where size >= 0 and label <> '' and cardinality(centre) > 0 and jsonb_typeof(profile) = 'object'")
[ "$n_seg" -ge 1 ] && [ "$n_seg" -le 4 ] || fail "$n_seg sane segments, want 1..4 (SHOPSTREAM_ML_SEGMENTS 4)"
[ "$(it_sql -c "select count(*) from ml_user_segments u left join ml_segments s using (segment) where s.segment is null")" = 0 ] \
    || fail "a user's segment is not in ml_segments"
[ "$(it_sql -c "select count(*) from ml_user_segments")" -ge 20 ] || fail "fewer than 20 users have a segment"
ok "the read tables are sane: $(it_sql -c "select count(*) from ml_user_recs") lists, $n_seg segments, models $(it_sql -c "select string_agg(model || '=' || version, ' ' order by model) from ml_models")"

# The ml topic: ml.model_published with its CloudEvents id.
published() {
    "$TAIL" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --topic "${IT_PREFIX}ml.v1" >"$IT_TMP/ml_topic.txt" 2>/dev/null
    awk '$2 == "ml.model_published" && $6 == $1 { n++ } END { exit n > 0 ? 0 : 1 }' "$IT_TMP/ml_topic.txt"
}
it_wait "ml.model_published on ${IT_PREFIX}ml.v1" 60 published
[ "$(awk '$2 != "ml.model_published" && $2 != "ml.segment_changed"' "$IT_TMP/ml_topic.txt" | wc -l)" = 0 ] \
    || fail "the ml topic carries other records: $(head -n 3 "$IT_TMP/ml_topic.txt")"
ok "the ml topic carries $(wc -l <"$IT_TMP/ml_topic.txt") ml.* events with their ce_id"

# The junk record went to the dead-letter topic; the search counts as ignored.
grep -q 'msg="dead-lettering record" topic='"${IT_PREFIX//./\\.}"'browse\.v1' "$IT_TMP/ml1.log" \
    || fail "the undecodable browse record was not dead-lettered by the ml worker"
dlq_has() {
    "$TAIL" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --topic "${IT_PREFIX}dlq.v1" >"$IT_TMP/dlq.txt" 2>/dev/null
    [ "$(wc -l <"$IT_TMP/dlq.txt")" -ge 1 ]
}
it_wait "the dead-letter topic has the junk" 30 dlq_has
ignored() { grep 'comp=ml msg="stats"' "$IT_TMP/ml1.log" | tail -n 1 | grep -qE ' ignored=[1-9]'; }
it_wait "the search counted as ignored" 30 ignored
ok "junk dead-lettered, the search ignored, consumption went past both"

# A failed write: the worker's own connection (not the lease's) terminated, the next
# write fails; the state, ahead of PostgreSQL, is reloaded from the latest checkpoint and
# consumed again from its offsets (the outbox mark keeps replayed events from being
# queued twice: checked on the topic at the end). With no checkpoint yet (the core cuts
# none while a retrain is out, and one taken by the last release stays out until events
# past its swap point arrive) the reload starts from an empty state at offset 0.
it_sql -c "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'shopstream-worker/ml'" >/dev/null
r=$(it_post "$service" "{\"events\":[{\"type\":\"product.viewed\",\"user_id\":\"u-reload\",\"product_id\":\"p2\",\"at\":$((t0 + 36 * day + 120000))}]}")
[ "${r%% *}" = 202 ] || fail "a view after the termination: $r"
reloaded() { grep -q 'msg="state reloaded from the checkpoint after a failed write"' "$IT_TMP/ml1.log"; }
it_wait "the state reloaded after the failed write" 60 reloaded
it_wait "the ml worker caught up again" 120 caught_up
kill -0 "$ML1" 2>/dev/null || fail "the ml worker exited after a failed write"
ok "a failed write reloaded the state from its checkpoint and consumption went on"

# A standby: same group, same database.
lease_before=$(it_sql -c "select epoch || ' ' || holder from ml_lease")
ml_start ml2
ML2=$ML_PID
waits() { grep -q 'msg="standby: another instance owns the models; waiting for the lease"' "$IT_TMP/ml2.log"; }
it_wait "the second ml worker waits as a standby" 60 waits
# More events while it waits: the owner keeps consuming them (its offsets move), the
# standby does nothing.
offsets() { it_sql -c "select coalesce(sum(next_offset), 0) from consumer_offsets where consumer_group = '$IT_NAME-ml'"; }
off_before=$(offsets)
r=$(it_post "$service" "{\"events\":[{\"type\":\"product.viewed\",\"user_id\":\"u-new\",\"product_id\":\"p3\",\"at\":$((t0 + 37 * day))}]}")
[ "${r%% *}" = 202 ] || fail "a new user's view: $r"
moved() { [ "$(offsets)" -gt "$off_before" ]; }
it_wait "the owner consumes while the standby waits" 60 moved
sleep 2
kill -0 "$ML2" 2>/dev/null || fail "the standby exited while it waited"
[ "$(grep -c 'msg="standby: another instance' "$IT_TMP/ml2.log")" = 1 ] || fail "the standby logs its wait more than once"
! grep -q 'msg="partition assigned"' "$IT_TMP/ml2.log" || fail "the standby joined the consumer group"
! grep -q 'msg="owner of the models"' "$IT_TMP/ml2.log" || fail "the standby took the lease"
[ "$(it_sql -c "select epoch || ' ' || holder from ml_lease")" = "$lease_before" ] || fail "the lease moved to the standby"
kill -TERM "$ML2"
wait "$ML2" || fail "the standby did not exit 0 on SIGTERM while it waited (rc $?)"
ok "the standby waited, wrote nothing, and SIGTERM stopped it with 0"

# The owner stops cleanly after a last checkpoint; at most two kept.
ckpt_before=$(it_sql -c "select coalesce(max(id), 0) from ml_checkpoints")
kill -TERM "$ML1"
wait "$ML1" || fail "the owner did not exit 0 on SIGTERM (rc $?)"
if ! grep -q 'msg="no last checkpoint: a retrain is out' "$IT_TMP/ml1.log"; then
    [ "$(it_sql -c "select count(*) from ml_checkpoints where id > $ckpt_before")" = 1 ] || fail "no checkpoint at shutdown"
fi
[ "$(it_sql -c "select count(*) from ml_checkpoints")" -le 2 ] || fail "more than two checkpoints kept"
[ "$(it_sql -c "select count(*) from ml_snapshots s join ml_checkpoints c on c.id = s.checkpoint_id where c.id = (select max(id) from ml_checkpoints)")" -ge 1 ] \
    || fail "the last checkpoint has no model snapshots"
[ "$(it_sql -c "select count(*) from ml_checkpoints where jsonb_array_length(offsets) = 0")" = 0 ] || fail "a checkpoint covers no offsets"
ok "the owner stopped with 0 after a last checkpoint"

# Started again, it takes the lease with the next epoch and resumes from that checkpoint.
ml_start ml3
ML3=$ML_PID
started3() { grep -q 'msg="partition assigned"' "$IT_TMP/ml3.log"; }
it_wait "a restarted worker" 60 started3
[ "$(it_sql -c "select epoch from ml_lease")" = "$(( ${lease_before%% *} + 1 ))" ] || fail "the restart did not bump the epoch"
if [ "$(it_sql -c "select count(*) from ml_checkpoints")" -ge 1 ]; then
    grep -q 'msg="checkpoint loaded"' "$IT_TMP/ml3.log" || fail "a checkpoint exists and the restart did not load it"
    grep 'msg="partition assigned"' "$IT_TMP/ml3.log" | grep -qv ' offset=0$' || fail "every partition restarted from 0"
fi
ok "a restart took the next epoch and resumed from the latest checkpoint ($(it_sql -c "select count(*) from ml_checkpoints") kept)"

# Fencing. The lease's session lost (its backend terminated: the advisory lock goes with
# it): the owner stops owning, exit 3.
it_sql -c "select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())" >/dev/null
rc=0; wait "$ML3" || rc=$?
[ "$rc" = 3 ] || fail "the owner whose lease session was lost exited $rc, want 3"
grep -q 'msg="no longer the owner of the models; stopping to restart as a standby"' "$IT_TMP/ml3.log" || fail "no fencing log line"
# Another instance's epoch (as a takeover writes it): the next write finds it and fails
# instead of writing, exit 3, and the offsets stay where they were.
ml_start ml4
ML4=$ML_PID
owns4() { grep -q 'msg="owner of the models"' "$IT_TMP/ml4.log" && grep -q 'msg="partition assigned"' "$IT_TMP/ml4.log"; }
it_wait "a new owner" 60 owns4
it_sql -c "update ml_lease set epoch = epoch + 1, holder = 'someone-else'" >/dev/null
off_fenced=$(offsets)
r=$(it_post "$service" "{\"events\":[{\"type\":\"product.viewed\",\"user_id\":\"u2\",\"product_id\":\"p5\",\"at\":$((t0 + 38 * day))}]}")
[ "${r%% *}" = 202 ] || fail "a view for the fenced owner: $r"
rc=0; wait "$ML4" || rc=$?
[ "$rc" = 3 ] || fail "the fenced owner exited $rc, want 3"
[ "$(offsets)" = "$off_fenced" ] || fail "the fenced owner wrote its batch's offsets"
[ "$(it_sql -c "select holder from ml_lease")" = someone-else ] || fail "the fenced owner wrote the lease"
ok "a lost lease session and a moved epoch both stop the owner (exit 3) before it writes"

# Every ml.* event once on the topic, whatever was replayed (the reload, the restarts).
"$TAIL" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --topic "${IT_PREFIX}ml.v1" >"$IT_TMP/ml_topic.txt" 2>/dev/null
dups=$(awk '{print $1}' "$IT_TMP/ml_topic.txt" | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups ml.* events reached the topic more than once"
ok "$(wc -l <"$IT_TMP/ml_topic.txt") ml.* events on the topic, each once"
