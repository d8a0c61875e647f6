#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-bench-pipeline through bench/pipeline/run.sh (its own database, topics, edge
# and projector): a tiny run with short steps completes and prints its raw limits, its
# steps, the highest flat rate, the freshness at half of it and its ratio lines, with
# figures that are numbers and agree with each other; the database is dropped.
# Speeds are not checked.
IT_NAME=itbenchpipe$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env

[ -x "$IT_BIN/bench/pipeline/shopstream-bench-pipeline" ] || fail "shopstream-bench-pipeline not built"
before=$(psql "$SHOPSTREAM_IT_PG_DSN" -XAtc "select count(*) from pg_database where datname like 'bench_pipe_%'")
out=$(SHOPSTREAM_BUILD_DIR=$IT_BIN SHOPSTREAM_PG_DSN=$SHOPSTREAM_IT_PG_DSN SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS \
      PIPE_HTTP_PORT=$(it_free_port) SHOPSTREAM_EDGE_THREADS=2 \
      bash "$IT_REPO/bench/pipeline/run.sh" --raw-events 3000 --pool 3000 --start 1000 --max 2000 --step-s 2 \
          --freshness-s 2 --connections 8 2>&1) || { echo "$out"; fail "bench-pipeline exited with $?"; }
echo "$out"
num='[0-9]+(\.[0-9]+)?'
grep -Eq "^raw librdkafka producer \(same topics\) +[0-9]+ +$num +[0-9]+$" <<<"$out" || fail "no raw producer row"
grep -Eq "^projector alone \(backlog after that\) +[0-9]+ +$num +[0-9]+" <<<"$out" || fail "no projector row"
steps=$(grep -Ec "^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +-?[0-9]+ +$num +$num +$num +$num +$num  (flat|lag growing|lag too high|edge behind|503s|failed requests|too few lag samples)$" <<<"$out")
[ "$steps" -ge 1 ] || fail "no step row"
grep -Ec '^   cpu % of a core: edge [0-9]+ projector [0-9]+ postgres-backends [0-9]+ bench [0-9]+ \| machine busy [0-9]+ % of [0-9]+ cores$' <<<"$out" \
    | grep -qx "$steps" || fail "a step row without its cpu line"
flat=$(sed -nE 's/^highest rate with flat lag: ([0-9]+) events\/s \(aim >= 80000; [0-9]+ steps\)$/\1/p' <<<"$out")
[ -n "$flat" ] || fail "no highest-rate line"
if [ "$flat" = 0 ]; then
    # Not even the slowest step was flat (a very busy machine): then there is no half rate.
    echo "note: no flat step on this machine; the freshness line is not checked"
else
    [ "$flat" -ge 1000 ] && [ "$flat" -le 2000 ] || fail "highest flat rate $flat outside the searched 1000..2000"
    [ "$steps" -ge 2 ] || fail "no freshness step row"
    line=$(grep -E '^freshness at [0-9]+ events/s \([0-9]+ probes, [0-9]+ not visible\): p50 [0-9.]+ ms, p99 [0-9.]+ ms \(aim p99 < 100 ms\)$' <<<"$out") \
        || fail "no freshness line"
    read -r probes unseen p50 p99 < <(sed -E 's/.*\(([0-9]+) probes, ([0-9]+) not visible\): p50 ([0-9.]+) ms, p99 ([0-9.]+) ms.*/\1 \2 \3 \4/' <<<"$line")
    [ "$probes" -gt 0 ] || fail "no probe was seen"
    [ "$unseen" = 0 ] || fail "$unseen probes never became visible"
    awk -v a="$p50" -v b="$p99" 'BEGIN { exit !(a <= b) }' || fail "p50 $p50 > p99 $p99"
    grep -Eq '^cpu per event at [0-9]+ events/s: edge [0-9.]+ us, projector [0-9.]+ us, postgres-backends [0-9.]+ us, bench [0-9.]+ us; together without the bench [0-9.]+ us per event = at most [0-9]+ events/s on [0-9]+ cores$' <<<"$out" \
        || fail "no cpu-per-event line"
fi
grep -Eq '^ratio flat-lag-pipeline / projector-alone = [0-9]+\.[0-9]{2}$' <<<"$out" || fail "no projector ratio line"
grep -Eq '^ratio flat-lag-pipeline / raw-producer = [0-9]+\.[0-9]{2}$' <<<"$out" || fail "no raw-producer ratio line"
after=$(psql "$SHOPSTREAM_IT_PG_DSN" -XAtc "select count(*) from pg_database where datname like 'bench_pipe_%'")
[ "$after" = "$before" ] || fail "the benchmark's database was not dropped"
ok "bench-pipeline completed, printed its figures and dropped its database"
