#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-bench-inventory: a tiny run creates its database and topics, lets the
# inventory worker decide 2000 orders, runs the guarded UPDATE loop over the same orders,
# prints its rows and the ratio, and drops what it created. Figures are not checked.
IT_NAME=itbenchinv$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env

bin=$IT_BIN/bench/inventory/shopstream-bench-inventory
[ -x "$bin" ] || fail "$bin not built"

out=$("$bin" --dsn "$SHOPSTREAM_IT_PG_DSN" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --build-dir "$IT_BIN" \
        --schema-dir "$IT_REPO/schema/migrations" --orders 2000 --products 50 --batch 200 --partitions 2 \
        --timeout-s 120 2>"$IT_TMP/bench.log") || { echo "$out"; cat "$IT_TMP/bench.log"; fail "bench-inventory exited with $?"; }
echo "$out"
grep -Eq '^inventory role: 2000 orders decided \([0-9]+ reserved, [0-9]+ rejected\)' <<<"$out" \
    || fail "the inventory worker did not decide all 2000 orders"
grep -Eq '^postgresql guarded UPDATE loop, same orders: [0-9]+ lines' <<<"$out" || fail "no guarded UPDATE row"
grep -Eq '^ratio inventory / guarded UPDATE = [0-9]+\.[0-9]{2}$' <<<"$out" || fail "no ratio line"
grep -Eq '^cpu per order: inventory role [0-9.]+ us \(worker [0-9.]+ \+ its backend [0-9.]+\), guarded UPDATE loop [0-9.]+ us' \
    <<<"$out" || fail "no cpu row"
grep -Eq '^ratio cpu guarded UPDATE / inventory = [0-9]+\.[0-9]{2}$' <<<"$out" || fail "no cpu ratio line"
db=$(sed -n 's/.*database \(bench_inv_[0-9]*\)$/\1/p' <<<"$out" | head -n 1)
[ -n "$db" ] || fail "no database name in the header"
left=$(psql "$SHOPSTREAM_IT_PG_DSN" -XAtc "select count(*) from pg_database where datname = '$db'")
[ "$left" = 0 ] || fail "database $db was not dropped"
ok "bench-inventory completed, printed its ratio and dropped $db"
