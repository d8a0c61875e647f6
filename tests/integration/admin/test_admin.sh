#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-admin against the real database and broker: migrations apply once
# and are safe to run twice, an edited migration is refused, topics are created
# with the requested partitions and creating them again is harmless, and lag
# counts what a group has not committed in PostgreSQL.
IT_NAME=itadmin$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env
it_make_db
admin=$IT_BIN/tools/admin/shopstream-admin

n_files=$(ls "$IT_REPO"/schema/migrations/[0-9][0-9][0-9][0-9]_*.sql | wc -l)
[ "$(it_sql -c 'select count(*) from schema_migrations')" = "$n_files" ] || fail "every migration recorded once"
"$admin" migrate --dsn "$IT_DSN" --dir "$IT_REPO/schema/migrations" 2>"$IT_TMP/second.log" || fail "second migrate"
grep -q 'applied=0' "$IT_TMP/second.log" || fail "second migrate applied something: $(cat "$IT_TMP/second.log")"
[ "$(it_sql -c 'select count(*) from schema_migrations')" = "$n_files" ] || fail "second run added rows"
ok "migrate is idempotent ($n_files migrations)"

cp -r "$IT_REPO/schema/migrations" "$IT_TMP/edited"
echo "-- edited after release" >> "$IT_TMP/edited/0001_projections.sql"
if "$admin" migrate --dsn "$IT_DSN" --dir "$IT_TMP/edited" 2>"$IT_TMP/edited.log"; then
    fail "an edited migration was accepted"
fi
grep -q 'was edited after it was applied' "$IT_TMP/edited.log" || fail "no clear error: $(cat "$IT_TMP/edited.log")"
ok "an edited migration is refused"

printf 'create table it_extra (x int);\n' > "$IT_TMP/edited/9999_it_extra.sql"
cp "$IT_REPO/schema/migrations/0001_projections.sql" "$IT_TMP/edited/0001_projections.sql"
"$admin" migrate --dsn "$IT_DSN" --dir "$IT_TMP/edited" 2>/dev/null || fail "a new migration did not apply"
[ "$(it_sql -c "select name from schema_migrations where version = 9999")" = 9999_it_extra.sql ] || fail "9999 not recorded"
ok "a new migration applies on top"

prefix="$IT_NAME-$RANDOM."
"$admin" create-topics --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$prefix" --partitions 5 2>/dev/null || fail "create-topics"
"$admin" create-topics --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$prefix" --partitions 5 2>"$IT_TMP/again.log" \
    || fail "create-topics twice"
grep -c 'topic exists' "$IT_TMP/again.log" | grep -qx 7 || fail "second create-topics should report 7 existing topics"
for s in browse cart order catalog inventory ml dlq; do
    kcat -b "$SHOPSTREAM_IT_KAFKA_BROKERS" -L -t "$prefix$s.v1" | grep -q "with 5 partitions" || fail "$s topic lacks 5 partitions"
done
ok "topics created with 5 partitions; again is harmless"

printf 'a\nb\nc\n' | kcat -b "$SHOPSTREAM_IT_KAFKA_BROKERS" -P -t "${prefix}cart.v1" -p 2
it_sql -c "insert into consumer_offsets values ('g', '${prefix}cart.v1', 2, 1, 0)" >/dev/null
lag=$("$admin" lag --quiet --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$prefix" --dsn "$IT_DSN" --group g)
[ "$lag" = 2 ] || fail "lag should be 2 (3 records, next offset 1), got $lag"
ok "lag counts from the offsets stored in PostgreSQL"

# A role's lag covers the streams that role consumes: the inventory reads order and
# catalog, never cart, so the cart records above are not its lag.
printf 'x\ny\n' | kcat -b "$SHOPSTREAM_IT_KAFKA_BROKERS" -P -t "${prefix}order.v1" -p 1
lag=$("$admin" lag --quiet --role inventory --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$prefix" --dsn "$IT_DSN" --group g)
[ "$lag" = 2 ] || fail "the inventory's lag should be its 2 order records, got $lag"
lag=$("$admin" lag --quiet --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$prefix" --dsn "$IT_DSN" --group g)
[ "$lag" = 4 ] || fail "the projector's lag should be 2 cart + 2 order records, got $lag"
"$admin" lag --role warehouse --prefix "$prefix" --dsn "$IT_DSN" 2>"$IT_TMP/role.log" && fail "an unknown role was taken"
grep -q 'known: projector, inventory' "$IT_TMP/role.log" || fail "no clear error: $(cat "$IT_TMP/role.log")"
ok "lag per role: only the streams the role consumes"
