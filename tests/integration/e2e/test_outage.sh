#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The broker stops while shoppers post: the edge answers 503 with Retry-After
# (never 202, never a hung request); after the broker is back, every event that
# got a 202 is in the projections. Uses a private broker so the shared one is
# never disturbed.
IT_NAME=e2eoutage$$
. "$(dirname "$0")/lib.sh"
it_require_env
it_make_db

kdir=$IT_TMP/kafka-state
kport=$(it_free_port); cport=$(it_free_port)
while [ "$cport" = "$kport" ]; do cport=$(it_free_port); done
kafka() { SHOPSTREAM_STATE_DIR=$kdir SHOPSTREAM_KAFKA_PORT=$kport SHOPSTREAM_KAFKA_CONTROLLER_PORT=$cport \
          SHOPSTREAM_KAFKA_BROKERS=127.0.0.1:$kport bash "$IT_REPO/deploy/local/kafka.sh" "$1" >>"$IT_TMP/kafka.log" 2>&1; }
kafka start || fail "private broker did not start"
trap 'rc=$?; kafka stop; (exit $rc); it_cleanup' EXIT
brokers=127.0.0.1:$kport

it_make_topics "$brokers"
export SHOPSTREAM_KAFKA_DELIVERY_TIMEOUT_MS=3000
it_start_edge "$brokers"
it_start_projector "$brokers"
tok=$(it_token carol)

: > "$IT_TMP/accepted"
n=0; got503=0; retry_after=0
post_view() { # posts one product.viewed with a fresh id; sets $code, records the id if 202
    n=$((n + 1))
    local id; id=$(printf '7e0f1d2c-0000-4000-8000-%012d' "$n")
    code=$(curl -sS --max-time 30 -D "$IT_TMP/hdr" -o "$IT_TMP/body" -w '%{http_code}' -X POST "$IT_URL/v1/events" \
        -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary "{\"events\":[{\"id\":\"$id\",\"type\":\"product.viewed\",\"product_id\":\"p1\"}]}") || code=000
    case $code in
        202) echo "$id" >> "$IT_TMP/accepted" ;;
        503) got503=$((got503 + 1)); grep -qi '^retry-after:' "$IT_TMP/hdr" && retry_after=$((retry_after + 1)) ;;
        000) fail "request $n hung or the connection failed (curl gave up after 30 s)" ;;
        *) fail "request $n: unexpected status $code: $(cat "$IT_TMP/body")" ;;
    esac
}

for _ in $(seq 1 15); do post_view; [ "$code" = 202 ] || fail "posts before the outage must be accepted"; done
before=$(wc -l < "$IT_TMP/accepted")
ok "$before events accepted before the outage"

kafka stop
during=0
for _ in $(seq 1 8); do
    post_view
    [ "$code" = 202 ] && during=$((during + 1))
done
[ $got503 -ge 1 ] || fail "no 503 while the broker was down"
[ $retry_after -eq $got503 ] || fail "a 503 came without Retry-After ($retry_after of $got503)"
ok "broker down: $got503 answers were 503 with Retry-After, $during were 202"

kafka start || fail "private broker did not restart"
back=0
for _ in $(seq 1 120); do
    post_view
    [ "$code" = 202 ] && { back=1; break; }
    sleep 0.5
done
[ $back = 1 ] || fail "edge never accepted events again after the broker came back"
for _ in $(seq 1 10); do post_view; [ "$code" = 202 ] || fail "posts after recovery must be accepted"; done
ok "broker back: accepting again"

lag_zero() { [ "$("$IT_BIN/tools/admin/shopstream-admin" lag --quiet --brokers "$brokers" --prefix "$IT_PREFIX" --dsn "$IT_DSN" --group "$IT_NAME-projector")" = 0 ]; }
it_wait "projector caught up" 120 lag_zero
missing=0
while read -r id; do
    [ "$(it_sql -v id="$id" <<<"select count(*) from applied_events where event_id = :'id'")" = 1 ] || missing=$((missing + 1))
done < "$IT_TMP/accepted"
[ $missing -eq 0 ] || fail "$missing events that got 202 are not in the projections"
views=$(it_sql -c "select views from products where product_id = 'p1'")
applied=$(it_sql -c "select count(*) from applied_events")
[ "$views" = "$applied" ] || fail "p1 views ($views) differ from applied events ($applied)"
ok "every one of $(wc -l < "$IT_TMP/accepted") accepted events is in the projections ($views views of p1)"
