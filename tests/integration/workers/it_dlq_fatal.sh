#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A dead-letter topic that refuses records for good (here: max.message.bytes below the
# dead letter's size, MSG_SIZE_TOO_LARGE) stops the worker with a fatal log and a nonzero
# exit, instead of retrying the batch forever; nothing of the batch is committed.
. "$(dirname "$0")/lib.sh"
make_topics
JARS=${SHOPSTREAM_KAFKA_JARS:-${XDG_CACHE_HOME:-$HOME/.cache}/shopstream/kafka-3.9.1}
[ -d "$JARS" ] || { echo "skipped: no Kafka jars in $JARS"; exit 77; }
java -Xmx256m -cp "$JARS/*" kafka.admin.ConfigCommand --bootstrap-server "$BROKERS" --alter \
    --entity-type topics --entity-name "${PREFIX}dlq.v1" --add-config max.message.bytes=100 \
    >"$WORK/configs.log" 2>&1 || { cat "$WORK/configs.log" >&2; fail "could not shrink the dead-letter topic"; }
DSN=$(new_db dlqfatal)
GROUP="it-dlqfatal-$RUN_ID"
"$GEN" junk --brokers "$BROKERS" --prefix "$PREFIX" --bytes 500
SHOPSTREAM_DLQ_TIMEOUT_MS=5000 start_worker "$DSN" "$GROUP" worker
for _ in $(seq 1 120); do kill -0 "$WPID" 2>/dev/null || break; sleep 0.5; done
kill -0 "$WPID" 2>/dev/null && fail "the worker kept running with a dead-letter topic that refuses records"
rc=0; wait "$WPID" || rc=$?
[ "$rc" != 0 ] || fail "the worker exited 0"
grep -q 'level=fatal.*msg="the dead-letter topic refuses records; stopping".*MSG_SIZE_TOO_LARGE' "$WORK/worker.log" \
    || fail "no fatal log naming the refusal"
[ "$(q "$DSN" "select count(*) from consumer_offsets")" = 0 ] || fail "offsets past an undelivered dead letter were committed"
log "ok: exit $rc with a fatal log, nothing committed"
