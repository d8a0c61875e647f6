#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-bench-ingest against a test edge: a tiny run completes, prints its table
# and its ratio line. Figures are not checked.
IT_NAME=itbenchingest$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env

bin=$IT_BIN/bench/ingest/shopstream-bench-ingest
[ -x "$bin" ] || fail "$bin not built"
it_make_db
it_make_topics
it_start_edge

out=$("$bin" --url "$IT_URL" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --topic-prefix "$IT_PREFIX" \
        --single 40 --batches 4 --concurrency 4 2>"$IT_TMP/bench.log") || { echo "$out"; fail "bench-ingest exited with $?"; }
echo "$out"
grep -Eq '^http single-event +40 ' <<<"$out" || fail "no single-event row for 40 events"
grep -Eq '^http 100-event batches +400 ' <<<"$out" || fail "no batch row for 400 events"
grep -Eq '^raw librdkafka producer +399 ' <<<"$out" || fail "no raw producer row (400 records less the warm-up)"
grep -Eq '^ratio batched-ingest / raw-producer = [0-9]+\.[0-9]{2} \(aim >= 0\.50\)$' <<<"$out" || fail "no ratio line"
ok "bench-ingest completed and printed its ratio"
