#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-edge's token checks as a running server: key material refused at start
# (exit 2 with a clear message), non-integer nbf, the 1..128 sub on writes and reads, the
# maximum lifetime, and SHOPSTREAM_JWT_JWKS_FILE: RS256 keys chosen by kid, rotated while
# the edge runs, an unknown kid is 401, a broken new file keeps the old keys.
. "$(dirname "$0")/lib.sh"

BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
PREFIX="it-jwt-$$-$(date +%s)."
cleanup() { stop_edge || true; rm -rf "$TMP"; }
trap cleanup EXIT
create_topics "$PREFIX" "$BROKERS"
EV='{"events":[{"type":"product.viewed","product_id":"p1"}]}'

# start_fails NAME PATTERN VAR=VALUE...: the edge must exit 2 and log PATTERN.
start_fails() {
    local name=$1 pattern=$2 rc=0; shift 2
    env -u SHOPSTREAM_JWT_SECRET SHOPSTREAM_HTTP_HOST=127.0.0.1 SHOPSTREAM_HTTP_PORT=0 \
        SHOPSTREAM_KAFKA_BROKERS="$BROKERS" SHOPSTREAM_PG_DSN="$SHOPSTREAM_IT_PG_DSN" "$@" \
        timeout 20 "$EDGE" 2>"$TMP/fail.log" || rc=$?
    check "$name: exits 2 (got $rc)" [ "$rc" = 2 ]
    check "$name: says why" grep -q -- "$pattern" "$TMP/fail.log"
}

# ---- key material checked at start ------------------------------------------------------
printf '0123456789abcdef0123456789abcde\n' >"$TMP/short.secret"   # 31 bytes and a newline
start_fails "31-byte SHOPSTREAM_JWT_SECRET_FILE" "at least 32" SHOPSTREAM_JWT_SECRET_FILE="$TMP/short.secret"
echo "not a key" >"$TMP/garbage.pem"
start_fails "garbage RS256 key file" "not a PEM public key" SHOPSTREAM_JWT_PUBLIC_KEY_FILE="$TMP/garbage.pem"
openssl genrsa -out "$TMP/small.pem" 1024 2>/dev/null
openssl rsa -in "$TMP/small.pem" -pubout -out "$TMP/small.pub" 2>/dev/null
start_fails "1024-bit RS256 key" "at least 2048" SHOPSTREAM_JWT_PUBLIC_KEY_FILE="$TMP/small.pub"
start_fails "private key as the public key file" "not a PEM public key" \
    SHOPSTREAM_JWT_PUBLIC_KEY_FILE="$REPO/tests/fixtures/edge/rs256_private.pem"
echo '{"keys":[]}' >"$TMP/empty.jwks"
start_fails "JWKS without a key" "SHOPSTREAM_JWT_JWKS_FILE" SHOPSTREAM_JWT_JWKS_FILE="$TMP/empty.jwks"

# ---- claims, HS256 with a lifetime bound ---------------------------------------------
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_JWT_MAX_LIFETIME_S=3600
post "$("$TOKEN" --sub u1 --claims '{"nbf":"later"}')" "$EV"
check "non-integer nbf: 401 (got $STATUS)" [ "$STATUS" = 401 ]
check "non-integer nbf: says nbf" body_has 'nbf'
SUB128=$(head -c 128 /dev/zero | tr '\0' 's')
post "$("$TOKEN" --sub "$SUB128")" "$EV"
check "128-character sub: 202 (got $STATUS)" [ "$STATUS" = 202 ]
post "$("$TOKEN" --sub "${SUB128}s")" "$EV"
check "129-character sub: 401 (got $STATUS)" [ "$STATUS" = 401 ]
req GET /v1/me/cart -H "Authorization: Bearer $("$TOKEN" --sub 'u 1')"
check "read with a sub that is no user id: 401 (got $STATUS)" [ "$STATUS" = 401 ]
req GET /v1/me/orders -H "Authorization: Bearer $("$TOKEN" --sub "${SUB128}s")"
check "read with a 129-character sub: 401 (got $STATUS)" [ "$STATUS" = 401 ]
post "$("$TOKEN" --sub u1 --ttl-s 7200)" "$EV"
check "lifetime past SHOPSTREAM_JWT_MAX_LIFETIME_S: 401 (got $STATUS)" [ "$STATUS" = 401 ]
check "lifetime: says lifetime" body_has 'lifetime'
post "$("$TOKEN" --sub u1 --ttl-s 7200 --no-iat)" "$EV"
check "no iat, exp too far from now: 401 (got $STATUS)" [ "$STATUS" = 401 ]
post "$("$TOKEN" --sub u1 --ttl-s 600)" "$EV"
check "lifetime within the bound: 202 (got $STATUS)" [ "$STATUS" = 202 ]
stop_edge

# ---- JWKS: keys by kid, rotated while the edge runs -----------------------------------
jwk() {   # jwk KID PRIVATE.pem: the public RSA JWK (e is openssl's default 65537, AQAB)
    local n
    n=$(openssl rsa -in "$2" -noout -modulus 2>/dev/null | cut -d= -f2 |
        perl -ne 'chomp; print pack("H*", $_)' | b64url)
    echo '{"kty":"RSA","use":"sig","alg":"RS256","kid":"'"$1"'","n":"'"$n"'","e":"AQAB"}'
}
openssl genrsa -out "$TMP/k2.pem" 2048 2>/dev/null
K1=$REPO/tests/fixtures/edge/rs256_private.pem
K2=$TMP/k2.pem
write_jwks() { echo "$1" >"$TMP/jwks.new" && mv "$TMP/jwks.new" "$TMP/jwks.json"; }
write_jwks '{"keys":['"$(jwk k1 "$K1")"',{"kty":"EC","crv":"P-256","kid":"ec","x":"AA","y":"AA"}]}'
SECRET=$SHOPSTREAM_JWT_SECRET   # one key source only; the token tool still signs HS256 with it
unset SHOPSTREAM_JWT_SECRET
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_JWT_JWKS_FILE="$TMP/jwks.json"
export SHOPSTREAM_JWT_SECRET=$SECRET
# One token per key for the whole run, as a browser keeps its session's: the edge caches
# verified tokens, and a rotation must drop those verifications too (key generation).
T1=$("$TOKEN" --sub u1 --rs256-key "$K1" --kid k1)
T2=$("$TOKEN" --sub u1 --rs256-key "$K2" --kid k2)
tok1() { echo "$T1"; }
tok2() { echo "$T2"; }
post "$(tok1)" "$EV"
check "RS256 token with a known kid: 202 (got $STATUS)" [ "$STATUS" = 202 ]
post "$(tok2)" "$EV"
check "unknown kid: 401 (got $STATUS)" [ "$STATUS" = 401 ]
check "unknown kid: says kid" body_has 'kid'
post "$("$TOKEN" --sub u1 --rs256-key "$K1")" "$EV"
check "no kid: 401 (got $STATUS)" [ "$STATUS" = 401 ]
post "$("$TOKEN" --sub u1 --rs256-key "$K1" --kid k2)" "$EV"
check "signed by k1, naming k2: 401 (got $STATUS)" [ "$STATUS" = 401 ]
post "$("$TOKEN" --sub u1)" "$EV"
check "HS256 token against a JWKS: 401 (got $STATUS)" [ "$STATUS" = 401 ]

# Rotation: k2 joins, then k1 leaves. Poll (the watcher looks once a second).
wait_status() {   # wait_status TOKEN-FUNCTION WANT: retries for up to 15 s
    for _ in $(seq 1 75); do
        post "$($1)" "$EV"
        [ "$STATUS" = "$2" ] && return 0
        sleep 0.2
    done
    return 1
}
write_jwks '{"keys":['"$(jwk k1 "$K1")"','"$(jwk k2 "$K2")"']}'
check "k2 added while running: its tokens get 202" wait_status tok2 202
post "$(tok1)" "$EV"
check "k1 still there: 202 (got $STATUS)" [ "$STATUS" = 202 ]
post "$(tok1)" "$EV"
check "k1's token again (now from the cache): 202 (got $STATUS)" [ "$STATUS" = 202 ]
write_jwks '{"keys":['"$(jwk k2 "$K2")"']}'
check "k1 removed while running: its token, verified and cached before, gets 401" wait_status tok1 401
post "$(tok2)" "$EV"
check "k2 still works: 202 (got $STATUS)" [ "$STATUS" = 202 ]
check "reloads logged" [ "$(grep -c 'msg="JWKS reloaded"' "$TMP/edge.log")" -ge 2 ]

# A broken new file keeps the keys in use, logged once.
write_jwks '{"keys":[{"kty":"RSA","kid":"k3","n":"!!","e":"AQAB"}]}'
for _ in $(seq 1 50); do grep -q 'not usable' "$TMP/edge.log" && break; sleep 0.1; done
check "broken JWKS logged" grep -q 'JWKS file changed but is not usable' "$TMP/edge.log"
sleep 2.5   # more watcher rounds: the same broken file is not logged again
check "broken JWKS logged once" [ "$(grep -c 'not usable' "$TMP/edge.log")" = 1 ]
post "$(tok2)" "$EV"
check "old keys kept after a broken file: 202 (got $STATUS)" [ "$STATUS" = 202 ]
stop_edge

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
