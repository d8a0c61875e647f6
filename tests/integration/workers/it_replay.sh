#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-admin replay against a real group: the dry run prints PostgreSQL's offsets,
# the targets and the lag and changes nothing; a group with a live member is refused,
# naming it; --by N, --to-timestamp and --to-earliest rewrite consumer_offsets (and the
# group's Kafka offsets) and the worker re-applies from there with the read models still
# equal to the generator's independent fold (the dedup window skips what was applied);
# once applied_events no longer holds the ids, a rewind is refused and points to rebuild.
. "$(dirname "$0")/lib.sh"
SEED=41 N=2500
make_topics
DSN=$(new_db replay)
GROUP="it-replay-$RUN_ID"
TOTAL=$("$GEN" count --seed $SEED --n $N)
HALF=$((TOTAL / 2))
replay() { "$ADMIN" replay --brokers "$BROKERS" --prefix "$PREFIX" --dsn "$DSN" --group "$GROUP" --role projector "$@"; }
offsets() { q "$DSN" "select topic || '/' || partition || '=' || next_offset from consumer_offsets where consumer_group = '$GROUP' order by 1"; }
sum_offsets() { q "$DSN" "select coalesce(sum(next_offset), 0) from consumer_offsets where consumer_group = '$GROUP'"; }
# Where the group's committed Kafka offsets put a consumer of the group: the first offset
# it reads per partition (auto.offset.reset=latest: none read without a committed offset).
kafka_starts() {
    local t topics=()
    for t in browse cart order catalog inventory; do topics+=("${PREFIX}$t.v1"); done
    timeout 30 kcat -b "$BROKERS" -G "$GROUP" -X enable.auto.commit=false -X auto.offset.reset=latest -e -q \
        -f '%t/%p %o\n' "${topics[@]}" 2>/dev/null | awk '!($1 in m) || $2 < m[$1] { m[$1] = $2 } END { for (k in m) print k "=" m[k] }' \
        | LC_ALL=C sort
}

"$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N --from 0 --to $HALF
sleep 1.2
MID_MS=$(date +%s%3N)
sleep 1.2
"$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N --from $HALF --to "$TOTAL"
start_worker "$DSN" "$GROUP" first
wait_offsets "$DSN" "$GROUP" "$TOTAL"

# A live member: refused, named; nothing changes.
before=$(offsets)
if replay --to-earliest >"$WORK/live.out" 2>"$WORK/live.err"; then fail "a replay with a live member was accepted"; fi
grep -q 'live member' "$WORK/live.err" && grep -q 'shopstream-worker@' "$WORK/live.err" \
    || fail "the refusal does not name the member: $(cat "$WORK/live.err")"
[ "$(offsets)" = "$before" ] || fail "a refused replay changed offsets"
log "ok: refused while a member is live: $(head -c 200 "$WORK/live.err")"

kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"

# Dry run: one line per partition (5 topics x 4), current = consumer_offsets, target = 0
# (the log start), lag = end - current = 0; nothing changes.
replay --to-earliest --dry-run >"$WORK/dry.out" 2>"$WORK/dry.err" || fail "dry run: $(cat "$WORK/dry.err")"
grep -q 'dry run: nothing changed' "$WORK/dry.out" || fail "no dry-run note"
[ "$(offsets)" = "$before" ] || fail "a dry run changed offsets"
awk -v pfx="$PREFIX" '$1 ~ "^"pfx { print $1 "/" $2 "=" $3 }' "$WORK/dry.out" | LC_ALL=C sort >"$WORK/dry.cur"
q "$DSN" "select topic || '/' || partition || '=' || next_offset from consumer_offsets where consumer_group = '$GROUP'" \
    | LC_ALL=C sort >"$WORK/pg.cur"
# Partitions that got no record have no row: the dry run says 0 for them.
grep -v '=0$' "$WORK/dry.cur" | diff - "$WORK/pg.cur" >/dev/null || fail "dry-run current offsets differ from PostgreSQL's"
[ "$(grep -c "^$PREFIX" "$WORK/dry.out")" = 20 ] || fail "dry run should list 20 partitions"
awk -v pfx="$PREFIX" '$1 ~ "^"pfx && ($4 != 0 || $6 != 0 || $5 != $3) { bad = 1 } END { exit bad }' "$WORK/dry.out" \
    || fail "dry-run targets or lag wrong: $(cat "$WORK/dry.out")"
log "ok: dry run matches PostgreSQL and changes nothing"

# --by N: every partition N back (not before its start), in PostgreSQL and in Kafka.
replay --by 40 >"$WORK/by.out" 2>&1 || fail "replay --by: $(cat "$WORK/by.out")"
want=$(printf '%s\n' "$before" | awk -F= '{ n = $2 - 40; if (n < 0) n = 0; print $1 "=" n }')
[ "$(offsets)" = "$want" ] || fail "--by 40 set $(offsets | tr '\n' ' ') instead of $(echo "$want" | tr '\n' ' ')"
log "ok: --by 40 rewound every partition by 40"
start_worker "$DSN" "$GROUP" by
wait_offsets "$DSN" "$GROUP" "$TOTAL"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
grep -Eq 'duplicates=[1-9]' "$WORK/by.log" || fail "the replayed events were not seen as duplicates"
gen_expect $SEED $N "$WORK/expected"
dump "$DSN" "$WORK/after-by"
expect_equal "$WORK/expected" "$WORK/after-by" "after --by, the read models and the independent fold"
log "ok: re-applied after --by, still equal to the fold"

# --to-timestamp: back to the first record produced after MID_MS, i.e. the second half.
replay --to-timestamp "$MID_MS" >"$WORK/ts.out" 2>&1 || fail "replay --to-timestamp: $(cat "$WORK/ts.out")"
[ "$(sum_offsets)" = "$HALF" ] || fail "--to-timestamp left $(sum_offsets) records applied, want the first $HALF"
log "ok: --to-timestamp rewound to the records after $MID_MS ($HALF before it)"
replay --to-earliest >"$WORK/earliest.out" 2>&1 || fail "replay --to-earliest: $(cat "$WORK/earliest.out")"
[ "$(sum_offsets)" = 0 ] || fail "--to-earliest left $(sum_offsets)"
start_worker "$DSN" "$GROUP" earliest
wait_offsets "$DSN" "$GROUP" "$TOTAL"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
dump "$DSN" "$WORK/after-earliest"
expect_equal "$WORK/expected" "$WORK/after-earliest" "after --to-earliest, the read models and the independent fold"
log "ok: re-applied from the earliest offsets, still equal to the fold"

# The group's Kafka offsets followed (lag monitors and KEDA read them).
replay --to-earliest >/dev/null 2>&1 || fail "second --to-earliest"
kafka_starts >"$WORK/kafka.off"
[ "$(wc -l <"$WORK/kafka.off")" -ge 10 ] && ! grep -qv '=0$' "$WORK/kafka.off" \
    || fail "kafka offsets not rewound: $(tr '\n' ' ' <"$WORK/kafka.off")"
log "ok: the group's kafka offsets were rewound too ($(wc -l <"$WORK/kafka.off") partitions start at 0)"
replay --by 0 >/dev/null 2>&1 || fail "a replay by 0"
start_worker "$DSN" "$GROUP" last
wait_offsets "$DSN" "$GROUP" "$TOTAL"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"

# The ML role's positions are its checkpoints: a rewind drops every checkpoint past the
# targets, and consumer_offsets (applied-through) says what the kept one covers.
MLG="$GROUP-ml"
q "$DSN" "insert into consumer_offsets select '$MLG', topic, partition, next_offset, 0 from consumer_offsets
          where consumer_group = '$GROUP' and topic ~ '(browse|cart|inventory)\.v1\$'" >/dev/null
q "$DSN" "insert into ml_checkpoints (group_id, epoch, watermark_ms, offsets, state)
          select '$MLG', 1, 0, jsonb_agg(jsonb_build_object('topic', topic, 'partition', partition, 'offset', o)), ''::bytea
          from (select topic, partition, 0 as o from consumer_offsets where consumer_group = '$MLG') a
          union all
          select '$MLG', 1, 0, jsonb_agg(jsonb_build_object('topic', topic, 'partition', partition, 'offset', next_offset)), ''::bytea
          from consumer_offsets where consumer_group = '$MLG'" >/dev/null
"$ADMIN" replay --brokers "$BROKERS" --prefix "$PREFIX" --dsn "$DSN" --group "$MLG" --role ml --by 40 \
    >"$WORK/ml.out" 2>&1 || fail "ml replay: $(cat "$WORK/ml.out")"
[ "$(q "$DSN" "select count(*) from ml_checkpoints where group_id = '$MLG'")" = 1 ] || fail "the newer checkpoint was kept"
[ "$(q "$DSN" "select count(*) from ml_checkpoints where group_id = '$MLG' and offsets @> '[{\"offset\": 0}]'")" = 1 ] \
    || fail "the older checkpoint was dropped"
[ "$(q "$DSN" "select sum(next_offset) from consumer_offsets where consumer_group = '$MLG'")" = 0 ] \
    || fail "ml offsets should be the kept checkpoint's (0)"
log "ok: an ml rewind dropped the checkpoint past the targets and points at the kept one"

# Once applied_events no longer holds the ids (its partitions dropped: 8 days later), a
# rewind would apply them twice: refused, pointing to rebuild; nothing changes.
psql "$DSN" -XAtqc "select applied_events_drop_before(2147483647)" >/dev/null
printf '%s\n' "$(offsets)" >"$WORK/before-refuse"
if replay --by 10 >"$WORK/cover.out" 2>"$WORK/cover.err"; then fail "a rewind past the dedup window was accepted"; fi
grep -q 'rebuild --model projector' "$WORK/cover.err" || fail "no pointer to rebuild: $(cat "$WORK/cover.err")"
[ "$(offsets)" = "$(cat "$WORK/before-refuse")" ] || fail "a refused rewind changed offsets"
log "ok: a rewind past what applied_events holds is refused: $(head -n 1 "$WORK/cover.err" | cut -c1-160)"
