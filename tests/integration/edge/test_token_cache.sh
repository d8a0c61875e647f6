#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The edge's verified-token cache keeps every verdict of shop_jwt_verify: a token that was
# accepted (and so is cached) is refused once it expires; one byte changed is another token;
# a token that is not valid yet (nbf) is refused until it is; each token keeps its own
# subject and role. Against the real broker, with the cache on (the default) and off.
. "$(dirname "$0")/lib.sh"

BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
PREFIX="it-edge-tokens-$$-$(date +%s)."
cleanup() {
    stop_edge || true
    rm -rf "$TMP"
}
trap cleanup EXIT
create_topics "$PREFIX" "$BROKERS"

ev() { echo '{"events":[{"type":"product.viewed","product_id":"p1"'"${1:-}"'}]}'; }
got() { check "$1: status $2 (got $STATUS)" [ "$STATUS" = "$2" ]; }

# Waits until the epoch second is past $1 (the bound only keeps a broken clock from hanging).
wait_past() {
    for _ in $(seq 1 100); do [ "$(date +%s)" -gt "$1" ] && return 0; sleep 0.1; done
    fail "clock never passed $1"
}

run_checks() {   # run_checks LABEL
    local l=$1 now exp nbf short late tampered
    # Expiry: accepted twice (the second from the cache, when on), refused once expired.
    now=$(date +%s); exp=$((now + 3))
    short=$("$TOKEN" --sub u-short --exp-s "$exp")
    post "$short" "$(ev)"; got "$l: short-lived token, first use" 202
    post "$short" "$(ev)"; got "$l: short-lived token, again" 202
    wait_past "$exp"
    post "$short" "$(ev)"; got "$l: the same token after its exp" 401
    check "$l: says expired" body_has 'expired'

    # One byte of the signature changed after the token was accepted.
    U1=$("$TOKEN" --sub u1)
    post "$U1" "$(ev)"; got "$l: u1 token" 202
    tampered="${U1%?}$([ "${U1: -1}" = A ] && echo B || echo A)"
    post "$tampered" "$(ev)"; got "$l: u1 token with its last byte changed" 401
    post "${U1}x" "$(ev)"; got "$l: u1 token with a byte appended" 401
    post "$U1" "$(ev)"; got "$l: u1 token still accepted" 202

    # Not valid before nbf: refused (and so never cached) until then, accepted after.
    now=$(date +%s); nbf=$((now + 2))
    late=$("$TOKEN" --sub u-late --nbf-s "$nbf")
    post "$late" "$(ev)"; got "$l: token before its nbf" 401
    wait_past "$nbf"
    post "$late" "$(ev)"; got "$l: token after its nbf" 202

    # Each token keeps its own claims: subject for the user check, role for catalog events.
    U2=$("$TOKEN" --sub u2)
    OPS=$("$TOKEN" --sub ops --role admin)
    local cat='{"events":[{"type":"catalog.stock_adjusted","product_id":"p1","delta":5}]}'
    for _ in 1 2; do
        post "$U1" "$(ev ',"user_id":"u1"')"; got "$l: u1 as u1" 202
        post "$U2" "$(ev ',"user_id":"u1"')"; got "$l: u2 as u1" 403
        post "$OPS" "$cat"; got "$l: admin catalog event" 202
        post "$U1" "$cat"; got "$l: non-admin catalog event" 403
    done
}

start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_JWT_LEEWAY_S=0
run_checks "cache on"
stop_edge || fail "edge exited non-zero"
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_JWT_LEEWAY_S=0 SHOPSTREAM_JWT_CACHE_ENTRIES=0
run_checks "cache off"
stop_edge || fail "edge exited non-zero"

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
