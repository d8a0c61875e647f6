#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replaying history fast gives the same models as living through it. One history of
# several months (a few hundred users browsing, filling carts, ordering, some orders
# cancelled, some rejected by the inventory) is posted through the edge a simulated day at
# a time while an inventory worker decides the orders and ML worker A consumes live (run
# A: the days interleave across partitions as they come). Then ML worker B, with a fresh
# database and its own group, consumes the same topics all at once (run B: the backlog of
# every partition at full speed). Every user's recommendations, the segments, the similar
# lists, the forecasts, the model versions and the last checkpoints' offsets and versions
# must be equal (compare.py), and both runs must have published the same ml.* events.
# ML_LATENESS_MS=0 (no reorder window) is the broken variant this test must catch.
IT_NAME=mlspeeds$$
. "$(dirname "$0")/lib.sh"
ml_require
ml_stack
REF_DSN=$(ml_make_db replay)
GROUP_A=$IT_NAME-ml GROUP_B=$IT_NAME-mlreplay

ml_start live "$IT_DSN" "$GROUP_A"
A=$ML_PID
ml_post
ml_check_inventory
ml_wait_done "$IT_DSN" "$GROUP_A" "run A (live)" "$IT_TMP/live.log"
kill -TERM "$A"
wait "$A" || fail "ML worker A did not stop cleanly on SIGTERM"
ml_dump "$IT_DSN" "$IT_TMP/a" "$GROUP_A"
ml_topic "$IT_TMP/topic_a.jsonl"
ml_check_topic "run A's ml topic" "$IT_TMP/topic_a.jsonl" "$IT_TMP/a" --write-ends "$IT_TMP/ends_a.json"

ml_perturb
ml_start replay "$REF_DSN" "$GROUP_B"
B=$ML_PID
ml_wait_done "$REF_DSN" "$GROUP_B" "run B (all at once)" "$IT_TMP/replay.log"
kill -TERM "$B"
wait "$B" || fail "ML worker B did not stop cleanly on SIGTERM"
ml_dump "$REF_DSN" "$IT_TMP/b" "$GROUP_B"
ml_counters "run A (live)" "$IT_TMP/live.log"
ml_counters "run B (all at once)" "$IT_TMP/replay.log"
ml_compare "$IT_TMP/a" "$IT_TMP/b" "live (A) and all at once (B)" --content
ml_no_late "run A (live)" "$IT_TMP/live.log"
ml_no_late "run B (all at once)" "$IT_TMP/replay.log"
ml_topic "$IT_TMP/topic_ab.jsonl"
ml_check_topic "run B's ml topic, or B's events are not A's" "$IT_TMP/topic_ab.jsonl" "$IT_TMP/b" --skip-before "$IT_TMP/ends_a.json" \
    --same-as "$IT_TMP/topic_ab.jsonl" --other-until "$IT_TMP/ends_a.json"
ml_verdict "speeds: the live run and the replay at full speed end with the same models and published the same events"
