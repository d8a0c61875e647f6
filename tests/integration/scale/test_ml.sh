#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scaling the ML role from one process to three and back to one while the history
# streams in. The ML role has one owner (its models are global, docs/ml.md): three
# processes are one owner, the only member of the consumer group, and two ready
# standbys waiting for the lease before they join. SIGTERM to the owner (Kubernetes
# scaling down, or a rollout) hands over: one standby takes the lease (epoch bumped),
# loads the owner's last checkpoint and joins the group, the other keeps waiting; the
# last standby then goes with SIGTERM too. At the end the read models equal those of a
# single instance that consumed the same topics in one pass (compare.py, as
# integration.ml.instances uses it). Reuses tests/integration/ml/lib.sh.
IT_NAME=mlscale$$
: "${ML_DAYS:=40}"
. "$(dirname "$0")/../ml/lib.sh"
ml_require
ml_stack
REF_DSN=$(ml_make_db single)
GROUP=$IT_NAME-ml GROUP_REF=$IT_NAME-mlsingle
lease() { it_sql -F' ' -c "select epoch, holder from ml_lease where group_id = '$GROUP'"; }
holder_pid() { lease | sed -n 's/.*[^0-9]\([0-9][0-9]*\)$/\1/p'; }
joined() { grep -q 'msg="partition assigned"' "$IT_TMP/$1.log"; }

ml_start one "$IT_DSN" "$GROUP"
P1=$ML_PID
has_lease() { [ -n "$(holder_pid)" ]; }
it_wait "the first instance took the lease" 60 has_lease
ml_post --progress "$IT_TMP/progress" --pause-ms 100 >"$IT_TMP/post.log" 2>&1 &
POSTER=$!
IT_PIDS+=("$POSTER")
posted_at_least() { [ "$(cat "$IT_TMP/progress" 2>/dev/null || echo -1)" -ge "$1" ]; }
it_wait "a quarter of the history posted" 180 posted_at_least $((ML_DAYS / 4))

ml_start two "$IT_DSN" "$GROUP"
P2=$ML_PID
ml_start three "$IT_DSN" "$GROUP"
P3=$ML_PID
it_wait "instance two waits as a standby" 60 ml_is_standby "$IT_TMP/two.log"
it_wait "instance three waits as a standby" 60 ml_is_standby "$IT_TMP/three.log"
read -r epoch1 _ <<<"$(lease)"
[ "$(holder_pid)" = "$P1" ] || fail "the lease names $(lease), not the first instance ($P1)"
for s in two three; do
    ! ml_is_owner "$IT_TMP/$s.log" || fail "standby $s owned the models while instance one held the lease"
    ! joined "$s" || fail "standby $s joined the consumer group while it waited"
done
ok "three processes: instance one ($P1) owns the models (epoch $epoch1), two ($P2) and three ($P3) wait as standbys"

it_wait "half the history posted" 180 posted_at_least $((ML_DAYS / 2))
kill -TERM "$P1"
wait "$P1" || fail "the owner did not stop cleanly on SIGTERM"
ok "SIGTERM to the owner (day $(cat "$IT_TMP/progress") of $ML_DAYS posted)"
new_owner() { local h; h=$(holder_pid); [ "$h" = "$P2" ] || [ "$h" = "$P3" ]; }
it_wait "a standby took the lease over" 60 new_owner
read -r epoch2 _ <<<"$(lease)"
[ "$epoch2" -gt "$epoch1" ] || fail "the takeover did not bump the epoch ($epoch1 -> $epoch2)"
if [ "$(holder_pid)" = "$P2" ]; then OWNER=$P2 OWNER_LOG=two STANDBY=$P3 STANDBY_LOG=three
else OWNER=$P3 OWNER_LOG=three STANDBY=$P2 STANDBY_LOG=two; fi
it_wait "the new owner joined the consumer group" 60 joined "$OWNER_LOG"
! ml_is_owner "$IT_TMP/$STANDBY_LOG.log" || fail "both standbys became owners"
! joined "$STANDBY_LOG" || fail "the remaining standby joined the consumer group"
ok "instance $OWNER_LOG took over (epoch $epoch2); $STANDBY_LOG still waits"
kill -TERM "$STANDBY"
wait "$STANDBY" || fail "the waiting standby did not stop cleanly on SIGTERM"
grep -q 'msg="stopped while waiting for the lease"' "$IT_TMP/$STANDBY_LOG.log" || fail "the standby did not stop while waiting"
ok "back to one process: the standby left with SIGTERM"

wait "$POSTER" || { cat "$IT_TMP/post.log"; fail "posting the history"; }
ml_check_inventory
ml_wait_done "$IT_DSN" "$GROUP" "the scaled group" "$IT_TMP/$OWNER_LOG.log"
kill -TERM "$OWNER"
wait "$OWNER" || fail "the last owner did not stop cleanly on SIGTERM"
ml_dump "$IT_DSN" "$IT_TMP/scaled" "$GROUP"

ml_perturb
ml_start single "$REF_DSN" "$GROUP_REF"
S=$ML_PID
ml_wait_done "$REF_DSN" "$GROUP_REF" "the single instance" "$IT_TMP/single.log"
kill -TERM "$S"
wait "$S" || fail "the single ML worker did not stop cleanly on SIGTERM"
ml_dump "$REF_DSN" "$IT_TMP/single" "$GROUP_REF"
ml_compare "$IT_TMP/single" "$IT_TMP/scaled" "a single instance and one scaled 1-3-1 with a handover" --content
ml_verdict "ML scaled 1 -> 3 -> 1: one owner at a time, the handover on SIGTERM, models equal to one pass"
