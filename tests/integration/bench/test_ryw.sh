#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/ryw through its launcher (its own database, topics, edge and projector): a tiny
# run completes and prints its table (after, plain, write-to-visible, the POST) with
# numbers, p50 <= p99 in each row, both difference/ratio lines and every after-read fresh
# with its write; the database is dropped. Speeds are not checked.
IT_NAME=itbenchryw$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env

before=$(psql "$SHOPSTREAM_IT_PG_DSN" -XAtc "select count(*) from pg_database where datname like 'bench_ryw_%'")
out=$(SHOPSTREAM_BUILD_DIR=$IT_BIN SHOPSTREAM_PG_DSN=$SHOPSTREAM_IT_PG_DSN SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS \
      RYW_HTTP_PORT=$(it_free_port) SHOPSTREAM_EDGE_THREADS=2 \
      bash "$IT_REPO/bench/ryw/run.sh" --pairs 90 --concurrency 6 2>&1) || { echo "$out"; fail "bench/ryw exited with $?"; }
echo "$out"
num='[0-9]+\.[0-9]'
grep -Eq "^ryw: 90 write-then-read pairs at 6 concurrency in $num+ s, errors 0; load [0-9]+ other events" <<<"$out" \
    || fail "no head line (or errors)"
for row in 'with X-Shopstream-After \(waits\)' 'without it \(raw, same run\)' 'write-to-visible \(poll, from 202\)' \
           'the POST itself \(all pairs\)'; do
    line=$(grep -E "^  $row +[0-9]+ +$num+ +$num+$" <<<"$out") || fail "no row $row"
    read -r p50 p99 < <(awk '{ print $(NF-1), $NF }' <<<"$line")
    awk -v a="$p50" -v b="$p99" 'BEGIN { exit !(a <= b) }' || fail "$row: p50 $p50 > p99 $p99"
done
for p in 50 99; do
    grep -Eq "^  p$p: after - plain = -?$num+ ms, after / plain = $num+$" <<<"$out" || fail "no p$p difference line"
done
grep -Eq '^  after-reads fresh and showing the write: 30/30 \(stale 0\); plain reads that showed it anyway: [0-9]+/30$' <<<"$out" \
    || fail "not every after-read was fresh with its write"
after=$(psql "$SHOPSTREAM_IT_PG_DSN" -XAtc "select count(*) from pg_database where datname like 'bench_ryw_%'")
[ "$after" = "$before" ] || fail "bench/ryw left its database"
ok "bench/ryw smoke"
