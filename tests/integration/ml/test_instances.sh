#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two ML instances in one group. Both start before the history streams in; one takes the
# lease (ml_lease: the group's epoch and holder) and writes, the other waits as a standby
# (its log says so, it writes no checkpoint). Mid-stream the owner is killed with SIGKILL:
# the standby takes the lease over (the epoch bumped, itself the holder), loads the
# latest checkpoint and goes on; the killed one is started again and waits in its turn.
# At the end the read models equal those of a single instance that consumed the same
# topics in one pass, and the ml topic holds the same events (check_topic.py).
IT_NAME=mlinst$$
. "$(dirname "$0")/lib.sh"
ml_require
ml_stack
REF_DSN=$(ml_make_db single)
GROUP=$IT_NAME-ml GROUP_REF=$IT_NAME-mlsingle
lease() { it_sql -F' ' -c "select epoch, holder from ml_lease where group_id = '$GROUP'"; }
holder_pid() { lease | sed -n 's/.*[^0-9]\([0-9][0-9]*\)$/\1/p'; }
newest_checkpoint() { it_sql -c "select coalesce(max(id), 0) from ml_checkpoints where group_id = '$GROUP'"; }

ml_start one "$IT_DSN" "$GROUP"
P1=$ML_PID
has_lease() { [ -n "$(holder_pid)" ]; }
it_wait "an instance took the lease" 60 has_lease
ml_start two "$IT_DSN" "$GROUP"
P2=$ML_PID
it_wait "the second instance waits as a standby" 60 ml_is_standby "$IT_TMP/two.log"
read -r epoch1 holder1 <<<"$(lease)"
[ "$(holder_pid)" = "$P1" ] || fail "the lease names $holder1, not the first instance ($P1)"
ok "instance one ($P1) holds the lease (epoch $epoch1), instance two ($P2) waits"

ml_post --progress "$IT_TMP/progress" --pause-ms 100 >"$IT_TMP/post.log" 2>&1 &
POSTER=$!
IT_PIDS+=("$POSTER")
posted_at_least() { [ "$(cat "$IT_TMP/progress" 2>/dev/null || echo -1)" -ge "$1" ]; }
it_wait "half the history posted" 180 posted_at_least $((ML_DAYS / 2))
ckpt_before_kill=$(newest_checkpoint)
[ "$ckpt_before_kill" -gt 0 ] || fail "the owner wrote no checkpoint in half the history"
# Only the owner writes: every checkpoint so far carries its epoch.
[ "$(it_sql -c "select count(*) from ml_checkpoints where group_id = '$GROUP' and epoch <> $epoch1")" = 0 ] ||
    fail "a checkpoint was written under another epoch while instance one held the lease"
! ml_is_owner "$IT_TMP/two.log" || fail "the second instance owned the models while the first held the lease"
! grep -q 'msg="partition assigned"' "$IT_TMP/two.log" || fail "the standby joined the consumer group while it waited"
kill -9 "$P1"
wait "$P1" 2>/dev/null || true
ckpt_at_kill=$(it_sql -c "select coalesce(max(id), 0) from ml_checkpoints where group_id = '$GROUP' and epoch = $epoch1")
ok "killed the owner with SIGKILL (its last checkpoint $ckpt_at_kill, day $(cat "$IT_TMP/progress") of $ML_DAYS posted)"

took_over() { [ "$(holder_pid)" = "$P2" ]; }
it_wait "the standby took the lease over" 60 took_over
read -r epoch2 holder2 <<<"$(lease)"
[ "$epoch2" -gt "$epoch1" ] || fail "the takeover did not bump the epoch ($epoch1 -> $epoch2)"
ml_start one-again "$IT_DSN" "$GROUP"
P1=$ML_PID
it_wait "the restarted instance waits as a standby" 60 ml_is_standby "$IT_TMP/one-again.log"
ok "instance two ($P2) took over (epoch $epoch2); instance one again ($P1) waits"

wait "$POSTER" || { cat "$IT_TMP/post.log"; fail "posting the history"; }
ml_check_inventory
ml_wait_done "$IT_DSN" "$GROUP" "the two instances" "$IT_TMP/two.log"
ml_restored_from "$IT_TMP/two.log" "$ckpt_at_kill" ||
    fail "the standby did not load the checkpoint the owner wrote last ($ckpt_at_kill): $(grep 'checkpoint' "$IT_TMP/two.log" | head -n 3)"
[ "$(it_sql -c "select count(*) from ml_checkpoints where group_id = '$GROUP' and epoch not in ($epoch1, $epoch2)")" = 0 ] ||
    fail "a checkpoint under an epoch neither owner had"
kill -TERM "$P2" "$P1"
wait "$P2" || fail "the owner did not stop cleanly on SIGTERM"
wait "$P1" || fail "the standby did not stop cleanly on SIGTERM"
ml_dump "$IT_DSN" "$IT_TMP/pair" "$GROUP"
ml_topic "$IT_TMP/topic_pair.jsonl"
ml_check_topic "the pair's ml topic" "$IT_TMP/topic_pair.jsonl" "$IT_TMP/pair" --write-ends "$IT_TMP/ends_pair.json"

ml_perturb
ml_start single "$REF_DSN" "$GROUP_REF"
S=$ML_PID
ml_wait_done "$REF_DSN" "$GROUP_REF" "the single instance" "$IT_TMP/single.log"
kill -TERM "$S"
wait "$S" || fail "the single ML worker did not stop cleanly on SIGTERM"
ml_dump "$REF_DSN" "$IT_TMP/single" "$GROUP_REF"
ml_counters "the two instances" "$IT_TMP/two.log"
ml_counters "the single instance" "$IT_TMP/single.log"
ml_compare "$IT_TMP/single" "$IT_TMP/pair" "a single instance and two with a takeover" --content
ml_no_late "the two instances" "$IT_TMP/two.log"
ml_no_late "the single instance" "$IT_TMP/single.log"
ml_topic "$IT_TMP/topic_all.jsonl"
ml_check_topic "the single run's ml topic, or its events are not the pair's" "$IT_TMP/topic_all.jsonl" "$IT_TMP/single" --skip-before "$IT_TMP/ends_pair.json" \
    --same-as "$IT_TMP/topic_all.jsonl" --other-until "$IT_TMP/ends_pair.json"
ml_verdict "instances: one owner at a time, the standby took over from the latest checkpoint, and the models equal a single instance's"
