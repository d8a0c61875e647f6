#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Read-your-writes through the real edge, broker, projector, inventory worker and
# PostgreSQL (docs/api.md, X-Shopstream-After):
#  a. 1000 write-then-read pairs at 50 concurrency, each its own user, while a generator
#     keeps the projector busy with other users' batches: every read is fresh AND its
#     body holds that very write (ryw_pairs.py);
#  b. the projector stopped (SIGSTOP): a read with Prefer: wait=1 is 200 stale, names the
#     projector's group and the cart partition the write landed in, Preference-Applied:
#     wait=1; resumed, the same token reads fresh with the write;
#  c. another user's token is eventual (no X-Shopstream-Behind, no Preference-Applied)
#     even with the projector stopped; every one-character change of a token is eventual
#     or 400, never fresh or stale; malformed tokens ("!!!", empty) are 400 problems
#     naming X-Shopstream-After;
#  d. a product read waits for the inventory too: fresh shows the inventory's stock;
#     the inventory worker stopped, stale naming the inventory's group.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
WORKER=$BUILD/workers/shopstream-worker
[ -x "$WORKER" ] || { echo "missing $WORKER"; exit 1; }
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3

PREFIX="it-edge-ryw-$$."
DB="it_edge_ryw_$$"
GPROJ="it-edge-ryw-$$-projector"
GINV="it-edge-ryw-$$-inventory"
PROJ_PID= INV_PID=
stop_worker() {   # stop_worker PID: resumes it first (it may be stopped), then TERM
    [ -n "$1" ] || return 0
    kill -CONT "$1" 2>/dev/null || true
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    stop_edge || true
    stop_worker "$PROJ_PID"
    stop_worker "$INV_PID"
    psql "$SHOPSTREAM_IT_PG_DSN" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

"$ADMIN" create-topics --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$PREFIX" --partitions 3 \
    >"$TMP/admin.log" 2>&1 || { cat "$TMP/admin.log"; exit 1; }
make_edge_db "$DB"
start_worker() {   # start_worker ROLE GROUP: its pid in WORKER_PID
    env SHOPSTREAM_KAFKA_BROKERS="$SHOPSTREAM_IT_KAFKA_BROKERS" SHOPSTREAM_TOPIC_PREFIX="$PREFIX" \
        SHOPSTREAM_PG_DSN="$EDGE_PG_DSN" SHOPSTREAM_KAFKA_GROUP_ID="$2" \
        "$WORKER" --role "$1" >>"$TMP/$1.log" 2>&1 &
    WORKER_PID=$!
}
start_worker projector "$GPROJ"; PROJ_PID=$WORKER_PID
start_worker inventory "$GINV"; INV_PID=$WORKER_PID
start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS" SHOPSTREAM_EDGE_GROUP_PROJECTOR="$GPROJ" \
    SHOPSTREAM_EDGE_GROUP_INVENTORY="$GINV" SHOPSTREAM_EDGE_POSITION_KEY=it-edge-ryw-key-0123456789abcdef \
    ${RYW_EDGE_ENV:-}

# hdr NAME: the answer's first header NAME, empty when absent
hdr() { { grep -i "^$1:" "$TMP/hdrs" || true; } | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
cart_event() {   # cart_event PRODUCT QTY
    printf '{"events":[{"type":"cart.item_added","product_id":"%s","quantity":%d}]}' "$1" "$2"
}
# read_cart TOKEN POSITION [PREFER]
read_cart() {
    local args=(-H "Authorization: Bearer $1" -H "X-Shopstream-After: $2")
    [ -z "${3:-}" ] || args+=(-H "Prefer: $3")
    req GET /v1/me/cart "${args[@]}"
}
cart_has() { jq -e --arg p "$1" --argjson q "$2" 'any(.items[]; .product_id == $p and .quantity == $q)' "$TMP/body" >/dev/null; }
# partition_of TOPIC KEY: the partition the record keyed KEY landed in
partition_of() {
    kcat -b "$SHOPSTREAM_IT_KAFKA_BROKERS" -C -t "$PREFIX$1" -o beginning -e -q -f '%k %p\n' 2>/dev/null |
        awk -v k="$2" '$1 == k && !seen++ { print $2 }'
}

# Both workers have joined and consumed once: a first write of each reads fresh.
W0=$("$TOKEN" --sub warm)
post "$W0" "$(cart_event warm-p 1)"
read_cart "$W0" "$(hdr x-shopstream-position)" "wait=10"
check "warm-up: the projector answers (fresh)" [ "$(hdr x-shopstream-consistency)" = fresh ]

# ---- a. 1000 pairs at 50 concurrency, the projector under load ------------------------
if "$PY" "$HERE/ryw_pairs.py" --url "http://127.0.0.1:$PORT" --pairs "${RYW_PAIRS:-1000}" \
        --concurrency 50 --run "ryw$$" >"$TMP/pairs.out" 2>&1; then
    ok "a: every pair fresh and showing its write: $(tail -n 1 "$TMP/pairs.out")"
else
    cat "$TMP/pairs.out"
    fail "a: pairs not all fresh and right: $(tail -n 1 "$TMP/pairs.out")"
fi

# ---- b. projector stopped: stale after the wait, names what is behind ------------------
UB=$("$TOKEN" --sub ub)
kill -STOP "$PROJ_PID"
post "$UB" "$(cart_event b-p 7)"
check "b: the write is accepted with a position (202)" [ "$STATUS" = 202 ]
POS_B=$(hdr x-shopstream-position)
check "b: the body's position is the header's" [ "$(jq -r .position "$TMP/body")" = "$POS_B" ]
read_cart "$UB" "$POS_B" "wait=1"
PART_B=$(partition_of cart.v1 ub)
check "b: projector stopped: 200 stale (got $STATUS $(hdr x-shopstream-consistency))" \
    [ "$STATUS:$(hdr x-shopstream-consistency)" = "200:stale" ]
check "b: X-Shopstream-Behind is the projector's group and the write's partition (got '$(hdr x-shopstream-behind)')" \
    [ "$(hdr x-shopstream-behind)" = "$GPROJ:${PREFIX}cart.v1:$PART_B" ]
check "b: Preference-Applied: wait=1" [ "$(hdr preference-applied)" = "wait=1" ]
check "b: the stale answer is what it has: not the write" bash -c "! jq -e 'any(.items[]; .product_id == \"b-p\")' '$TMP/body' >/dev/null"
read_cart "$UB" "$POS_B"
check "b: without Prefer: stale after the default wait, no Preference-Applied" \
    [ "$(hdr x-shopstream-consistency):$(hdr preference-applied)" = "stale:" ]

# ---- c. tokens that grant nothing, with the projector still stopped --------------------
UA=$("$TOKEN" --sub ua)
post "$UA" "$(cart_event c-p 3)"
POS_A=$(hdr x-shopstream-position)
read_cart "$UA" "$POS_B" "wait=1"
check "c: another user's token: 200 eventual (got $STATUS $(hdr x-shopstream-consistency))" \
    [ "$STATUS:$(hdr x-shopstream-consistency)" = "200:eventual" ]
check "c: ... no X-Shopstream-Behind, no Preference-Applied" \
    [ "$(hdr x-shopstream-behind)$(hdr preference-applied)" = "" ]
flips=0 flip_bad=0 flip_400=0
for k in $(seq 0 $((${#POS_A} - 1))); do
    c=${POS_A:$k:1}
    if [ "$c" = A ]; then d=B; else d=A; fi
    t="${POS_A:0:$k}$d${POS_A:$((k + 1))}"
    read_cart "$UA" "$t" "wait=1"
    flips=$((flips + 1))
    cons=$(hdr x-shopstream-consistency)
    if [ "$STATUS" = 400 ] && [ "$(jq -r .field "$TMP/body" 2>/dev/null)" = X-Shopstream-After ]; then
        flip_400=$((flip_400 + 1))
    elif [ "$STATUS" != 200 ] || [ "$cons" != eventual ] || [ -n "$(hdr x-shopstream-behind)" ]; then
        flip_bad=$((flip_bad + 1))
        echo "  flip at $k ($c->$d): $STATUS consistency=$cons behind=$(hdr x-shopstream-behind)"
    fi
done
check "c: each of $flips one-character changes is eventual or 400 ($flip_400 were 400), never fresh or stale" \
    [ "$flip_bad" = 0 ]
read_cart "$UA" "$POS_A" "wait=1"
check "c: ... while the token itself, unchanged, waits (stale)" [ "$(hdr x-shopstream-consistency)" = stale ]
for bad in '!!!' ''; do
    req GET /v1/me/cart -H "Authorization: Bearer $UA" -H "X-Shopstream-After: $bad"
    [ -n "$bad" ] || req GET /v1/me/cart -H "Authorization: Bearer $UA" -H "X-Shopstream-After;"
    check "c: malformed token '$bad': 400 naming X-Shopstream-After (got $STATUS $(cat "$TMP/body"))" \
        [ "$STATUS:$(jq -r .field "$TMP/body" 2>/dev/null)" = "400:X-Shopstream-After" ]
    check "c: ... as application/problem+json" hdr_has '^content-type: application/problem+json'
done

# ---- b (end). the projector resumed: the same token reads fresh -----------------------
kill -CONT "$PROJ_PID"
read_cart "$UB" "$POS_B" "wait=10"
check "b: projector resumed: the same token reads fresh (got $(hdr x-shopstream-consistency))" \
    [ "$STATUS:$(hdr x-shopstream-consistency)" = "200:fresh" ]
check "b: ... with the write" cart_has b-p 7
check "b: ... and no X-Shopstream-Behind" [ -z "$(hdr x-shopstream-behind)" ]

# ---- d. a product read waits for the inventory too -------------------------------------
ADM=$("$TOKEN" --sub ops --role admin)
upsert() {   # upsert STOCK
    post "$ADM" "{\"events\":[{\"type\":\"catalog.product_upserted\",\"product_id\":\"d-p1\",\"name\":\"Mug\",\"category\":\"kitchen\",\"price\":{\"amount_minor\":500,\"currency\":\"GBP\"},\"stock\":$1}]}"
}
upsert 40
check "d: the catalog event is accepted (202)" [ "$STATUS" = 202 ]
POS_D=$(hdr x-shopstream-position)
req GET /v1/products/d-p1 -H "Authorization: Bearer $ADM" -H "X-Shopstream-After: $POS_D" -H "Prefer: wait=10"
check "d: the product read is fresh (got $STATUS $(hdr x-shopstream-consistency))" \
    [ "$STATUS:$(hdr x-shopstream-consistency)" = "200:fresh" ]
check "d: ... and shows the inventory's stock (got $(jq -c '[.name, .on_hand, .available]' "$TMP/body"))" \
    [ "$(jq -c '[.name, .on_hand, .available]' "$TMP/body")" = '["Mug",40,40]' ]
kill -STOP "$INV_PID"
upsert 41
POS_D2=$(hdr x-shopstream-position)
PART_D=$(partition_of catalog.v1 d-p1)
req GET /v1/products/d-p1 -H "Authorization: Bearer $ADM" -H "X-Shopstream-After: $POS_D2" -H "Prefer: wait=1"
check "d: inventory stopped: 200 stale (got $STATUS $(hdr x-shopstream-consistency))" \
    [ "$STATUS:$(hdr x-shopstream-consistency)" = "200:stale" ]
check "d: ... X-Shopstream-Behind names the inventory's group on the catalog partition (got '$(hdr x-shopstream-behind)')" \
    bash -c "tr ',' '\n' <<<'$(hdr x-shopstream-behind)' | sed 's/^ *//' | grep -qx '$GINV:${PREFIX}catalog.v1:$PART_D'"
check "d: ... and the stock it has: still 40" [ "$(jq -c '.on_hand' "$TMP/body")" = 40 ]
kill -CONT "$INV_PID"
req GET /v1/products/d-p1 -H "Authorization: Bearer $ADM" -H "X-Shopstream-After: $POS_D2" -H "Prefer: wait=10"
check "d: inventory resumed: fresh with 41 (got $(hdr x-shopstream-consistency) $(jq -c .on_hand "$TMP/body"))" \
    [ "$(hdr x-shopstream-consistency):$(jq -c .on_hand "$TMP/body")" = "fresh:41" ]

# ---- the counts on /metrics --------------------------------------------------------------
req GET /metrics
metric() { awk -v m="shopstream_edge_reads_consistency_total{consistency=\"$1\"}" '$1 == m { print $2 }' "$TMP/body"; }
check "metrics: fresh counted at least ${RYW_PAIRS:-1000} + 3 times (got $(metric fresh))" \
    [ "$(metric fresh)" -ge $((${RYW_PAIRS:-1000} + 3)) ]
check "metrics: stale counted at least 4 times (got $(metric stale))" [ "$(metric stale)" -ge 4 ]
check "metrics: eventual counted (got $(metric eventual))" [ "$(metric eventual)" -ge 1 ]

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
