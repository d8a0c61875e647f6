#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kill -9 restart equality. The history of test_speeds.sh is posted a day at a time while
# one ML worker consumes it and is killed with SIGKILL again and again: once before it
# wrote its first checkpoint (that instance checkpoints only every 10 minutes), then
# several times at varying moments after it checkpointed progress of its own, and twice
# within a second of a restart (a crash loop), each time started again at once (it loads
# the latest checkpoint and replays what came after it). At the end its
# read models must equal those of a run without kills (a fresh database and group that
# consumes the same topics in one pass), and the ml topic must hold every ml.* event of
# that run once: the same ids with the same payloads, and an id twice only as a byte-equal
# republication (check_topic.py). ML_KILL9_CRASH_LOOP=0 leaves the crash loop out.
IT_NAME=mlkill$$
. "$(dirname "$0")/lib.sh"
ml_require
ml_stack
REF_DSN=$(ml_make_db ref)
GROUP=$IT_NAME-ml GROUP_REF=$IT_NAME-mlref
KILLS=${ML_KILLS:-4}
N_KILLS=$((KILLS + 1 + ($([ "${ML_KILL9_CRASH_LOOP:-1}" = 1 ] && echo 2 || echo 0))))

ml_post --progress "$IT_TMP/progress" --pause-ms 200 >"$IT_TMP/post.log" 2>&1 &
POSTER=$!
IT_PIDS+=("$POSTER")
posted_day() { cat "$IT_TMP/progress" 2>/dev/null || echo -1; }
posted_at_least() { [ "$(posted_day)" -ge "$1" ]; }
# The newest checkpoint's id (the role keeps the latest two: ids, not counts, tell progress).
checkpoints() { it_sql -c "select coalesce(max(id), 0) from ml_checkpoints where group_id = '$GROUP'"; }

# 1: killed before its first checkpoint, once it has taken some days in.
ml_start kill0 "$IT_DSN" "$GROUP" SHOPSTREAM_ML_CHECKPOINT_MS=600000
it_wait "a few days posted" 120 posted_at_least 5
it_wait "the first instance consumed something" 60 ml_consumed "$IT_TMP/kill0.log"
kill -9 "$ML_PID"
wait "$ML_PID" 2>/dev/null || true
[ "$(checkpoints)" = 0 ] || fail "the first instance wrote a checkpoint before it was killed"
ok "killed the first instance (day $(posted_day) posted) before any checkpoint"

# 2..KILLS: killed after it checkpointed progress of its own (a checkpoint further on in
# event time than any before it started), at a varying moment after that checkpoint.
watermark() { it_sql -c "select coalesce(max(watermark_ms), 0) from ml_checkpoints where group_id = '$GROUP'"; }
for i in $(seq 1 "$KILLS"); do
    before=$(watermark) ck_before=$(checkpoints)
    ml_start "kill$i" "$IT_DSN" "$GROUP"
    # Once the whole history is posted, the checkpoint before this instance may already
    # hold the stream's last event: then a checkpoint of its own is all it can write.
    progressed() {
        [ "$(watermark)" -gt "$before" ] ||
            { ! kill -0 "$POSTER" 2>/dev/null && [ "$(checkpoints)" -gt "$ck_before" ]; }
    }
    it_wait "instance $i checkpointed progress" 120 progressed
    sleep "0.$((RANDOM % 10))"
    kill -9 "$ML_PID"
    wait "$ML_PID" 2>/dev/null || true
    ok "killed instance $i with SIGKILL after checkpoint $(checkpoints) (day $(posted_day) of $ML_DAYS posted)"
    if [ "$i" = 2 ] && [ "${ML_KILL9_CRASH_LOOP:-1}" = 1 ]; then
        # A crash loop: two restarts killed again within a second, before they consumed
        # anything (their group memberships linger until the session times out).
        for j in a b; do
            ml_start "kill$i$j" "$IT_DSN" "$GROUP"
            sleep 1
            kill -9 "$ML_PID"
            wait "$ML_PID" 2>/dev/null || true
        done
        ok "two more restarts killed within a second of their start (day $(posted_day) posted)"
    fi
done
ml_start last "$IT_DSN" "$GROUP"
LAST=$ML_PID
wait "$POSTER" || { cat "$IT_TMP/post.log"; fail "posting the history"; }
ml_check_inventory
ml_wait_done "$IT_DSN" "$GROUP" "the killed run" "$IT_TMP/last.log"
kill -TERM "$LAST"
wait "$LAST" || fail "the last ML worker did not stop cleanly on SIGTERM"
ml_dump "$IT_DSN" "$IT_TMP/killed" "$GROUP"
ml_topic "$IT_TMP/topic_killed.jsonl"
ml_check_topic "the killed run's ml topic" "$IT_TMP/topic_killed.jsonl" "$IT_TMP/killed" --write-ends "$IT_TMP/ends_killed.json"

ml_perturb
ml_start ref "$REF_DSN" "$GROUP_REF"
REF=$ML_PID
ml_wait_done "$REF_DSN" "$GROUP_REF" "the run without kills" "$IT_TMP/ref.log"
kill -TERM "$REF"
wait "$REF" || fail "the reference ML worker did not stop cleanly on SIGTERM"
ml_dump "$REF_DSN" "$IT_TMP/ref" "$GROUP_REF"
ml_counters "the killed run" "$IT_TMP/last.log"
ml_counters "the run without kills" "$IT_TMP/ref.log"
ml_compare "$IT_TMP/ref" "$IT_TMP/killed" "a run without kills and one killed $N_KILLS times" --content
ml_no_late "the killed run" "$IT_TMP/last.log"
ml_no_late "the run without kills" "$IT_TMP/ref.log"
ml_topic "$IT_TMP/topic_all.jsonl"
ml_check_topic "the reference run's ml topic, or its events are not the killed run's" "$IT_TMP/topic_all.jsonl" "$IT_TMP/ref" --skip-before "$IT_TMP/ends_killed.json" \
    --same-as "$IT_TMP/topic_all.jsonl" --other-until "$IT_TMP/ends_killed.json"
ml_verdict "kill9: $N_KILLS SIGKILLs mid-stream, the models and the published events equal a run without kills"
