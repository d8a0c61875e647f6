#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-bench-projector: a tiny run creates its database and topics, runs the
# projector and the COPY, then a second projector into a database prefilled with
# applied ids, prints its ratio lines and drops what it created.
# Figures are not checked.
IT_NAME=itbenchproj$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env

bin=$IT_BIN/bench/projector/shopstream-bench-projector
[ -x "$bin" ] || fail "$bin not built"

out=$("$bin" --dsn "$SHOPSTREAM_IT_PG_DSN" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --build-dir "$IT_BIN" \
        --schema-dir "$IT_REPO/schema/migrations" --events 3000 --partitions 2 --timeout-s 120 --prefill 20000 \
        2>"$IT_TMP/bench.log") || { echo "$out"; cat "$IT_TMP/bench.log"; fail "bench-projector exited with $?"; }
echo "$out"
grep -Eq '^read models: 3000 applied events' <<<"$out" || fail "the projector did not apply all 3000 events"
grep -Eq '^postgresql COPY of the same rows +3000 ' <<<"$out" || fail "no COPY row for 3000 events"
grep -Eq '^ratio projector / COPY = [0-9]+\.[0-9]{2} \(aim >= 0\.50\)$' <<<"$out" || fail "no ratio line"
grep -Eq '^projector, 20000 applied before +[0-9]+ ' <<<"$out" || fail "no prefilled projector row"
grep -Eq '^ratio projector 20000 applied / fresh = [0-9]+\.[0-9]{2}; / COPY = [0-9]+\.[0-9]{2}$' <<<"$out" \
    || fail "no prefilled ratio line"
db=$(sed -n 's/.*database \(bench_proj_[0-9_]*\)$/\1/p' <<<"$out" | head -n 1)
[ -n "$db" ] || fail "no database name in the header"
left=$(psql "$SHOPSTREAM_IT_PG_DSN" -XAtc "select count(*) from pg_database where datname in ('$db', '${db}_full')")
[ "$left" = 0 ] || fail "database $db was not dropped"
ok "bench-projector completed, printed its ratio and dropped $db"
