#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Per-client rate limits: a bucket per token subject and per client address, per route class.
# Past the quota: 429 with Retry-After, the RateLimit-Policy / RateLimit fields and a problem
# body naming the key, counted in /metrics. X-Forwarded-For names the client only when the
# peer is a trusted proxy. Off by default. Windows are long (one request back per 20-30 s),
# so no check depends on how fast the test runs.
. "$(dirname "$0")/lib.sh"
DB="it_edge_rl_$$"
cleanup() {
    stop_edge || true
    psql "$SHOPSTREAM_IT_PG_DSN" -qc "drop database if exists $DB" >/dev/null 2>&1 || true
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
PREFIX="it-edge-rl-$$."
BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
create_topics "$PREFIX" "$BROKERS"
psql "$SHOPSTREAM_IT_PG_DSN" -qc "create database $DB" >/dev/null
export EDGE_PG_DSN="$SHOPSTREAM_IT_PG_DSN dbname=$DB"
"$ADMIN" migrate --dsn "$EDGE_PG_DSN" >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log"; exit 1; }
metric() { curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
post_from() {   # post_from TOKEN ADDRESS JSON
    req POST /v1/events -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
        -H "X-Forwarded-For: $2" --data-binary "$3"
}
# One token per subject, sent again and again as a browser does: after the first request the
# edge takes it from its verified-token cache, and the subject's limit must still apply.
declare -A TOKENS
read_as() {   # read_as SUB [curl args]
    local sub=$1; shift
    [ -n "${TOKENS[$sub]:-}" ] || TOKENS[$sub]=$("$TOKEN" --sub "$sub")
    req GET /v1/products/p1 -H "Authorization: Bearer ${TOKENS[$sub]}" "$@"
}

# ---- off by default ----------------------------------------------------------------------
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_DRAIN_MS=0
N=0
for _ in $(seq 1 20); do read_as u0; [ "$STATUS" = 429 ] && N=$((N + 1)); done
check "without settings nothing is limited ($N of 20 got 429)" [ "$N" = 0 ]
check "without settings no RateLimit fields" bash -c "! grep -qi '^ratelimit' '$TMP/hdrs'"
stop_edge

# ---- behind a trusted proxy: per subject, per address ------------------------------------
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_DRAIN_MS=0 SHOPSTREAM_EDGE_TRUSTED_PROXIES=127.0.0.0/8 \
    SHOPSTREAM_EDGE_RATELIMIT_READS=3 SHOPSTREAM_EDGE_RATELIMIT_READS_WINDOW_S=60 \
    SHOPSTREAM_EDGE_RATELIMIT_INGEST=2 SHOPSTREAM_EDGE_RATELIMIT_INGEST_WINDOW_S=60
# One subject from three addresses: its own bucket runs out.
for i in 1 2 3; do
    read_as u1 -H "X-Forwarded-For: 198.51.100.$i"
    check "u1 read $i within the quota (404, got $STATUS)" [ "$STATUS" = 404 ]
done
check "an allowed read carries RateLimit-Policy" hdr_has '^ratelimit-policy: "reads-subject";q=3;w=60'
check "an allowed read carries RateLimit with what is left" hdr_has '^ratelimit: "reads-subject";r=0;t='
read_as u1 -H "X-Forwarded-For: 198.51.100.4"
check "u1's fourth read in the window: 429" [ "$STATUS" = 429 ]
check "429 has Retry-After (20 s until one request is back)" hdr_has '^retry-after: 20'
check "429 has RateLimit-Policy" hdr_has '^ratelimit-policy: "reads-subject";q=3;w=60'
check "429 has RateLimit r=0" hdr_has '^ratelimit: "reads-subject";r=0;t=[0-9]'
check "429 is a problem body naming the subject's limit" body_has '"status":429,"detail":"more than 3 reads requests per 60 s for this token subject"'
check "429 is problem+json" hdr_has '^content-type: application/problem+json'
read_as u2 -H "X-Forwarded-For: 198.51.100.5"
check "another subject is not limited by u1's bucket ($STATUS)" [ "$STATUS" = 404 ]

# Many subjects from one address behind the proxy: the address's bucket runs out.
for i in 1 2 3; do
    read_as "a$i" -H "X-Forwarded-For: 203.0.113.7"
    check "address read $i within the quota ($STATUS)" [ "$STATUS" = 404 ]
done
read_as a4 -H "X-Forwarded-For: 203.0.113.7"
check "a fourth subject from the same address: 429" [ "$STATUS" = 429 ]
check "the 429 names the client address" body_has 'for this client address'
# Entries to the left of the proxy's are the client's own word: a forged one changes nothing.
read_as a5 -H "X-Forwarded-For: 192.0.2.99, 203.0.113.7"
check "a forged left-most X-Forwarded-For entry does not escape the limit" [ "$STATUS" = 429 ]

# Ingest has its own class and quota.
U5=$("$TOKEN" --sub u5)
for i in 1 2; do
    post_from "$U5" "198.51.100.20$i" '{"events":[{"type":"product.viewed","product_id":"p1"}]}'
    check "event $i within the ingest quota: 202" [ "$STATUS" = 202 ]
done
post_from "$U5" 198.51.100.209 '{"events":[{"type":"product.viewed","product_id":"rl-'$$'"}]}'
check "third event in the window: 429" [ "$STATUS" = 429 ]
check "the ingest 429 carries its policy" hdr_has '^ratelimit-policy: "ingest-subject";q=2;w=60'
check "the ingest 429 has Retry-After: 30" hdr_has '^retry-after: 30'
req GET /healthz
check "probes are never limited" [ "$STATUS" = 200 ]
check "metrics: reads limited by subject" [ "$(metric 'shopstream_edge_rate_limited_total{class="reads",key="subject"}')" = 1 ]
check "metrics: reads limited by address" [ "$(metric 'shopstream_edge_rate_limited_total{class="reads",key="address"}')" = 2 ]
check "metrics: ingest limited by subject" [ "$(metric 'shopstream_edge_rate_limited_total{class="ingest",key="subject"}')" = 1 ]
check "metrics: 429 by route" [ "$(metric 'shopstream_edge_requests_total{route="product",status="429"}')" = 3 ]
stop_edge
check "the refused event never reached kafka" bash -c "! kcat -b '$BROKERS' -C -t '${PREFIX}browse.v1' -o beginning -e -q -f '%s\n' 2>/dev/null | grep -qa 'rl-$$'"

# ---- X-Forwarded-For from a peer that is not a trusted proxy is ignored -----------------
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_DRAIN_MS=0 SHOPSTREAM_EDGE_TRUSTED_PROXIES=10.0.0.0/8 \
    SHOPSTREAM_EDGE_RATELIMIT_READS=3 SHOPSTREAM_EDGE_RATELIMIT_READS_WINDOW_S=60
for i in 1 2 3 4; do read_as "b$i" -H "X-Forwarded-For: 198.51.100.$i"; done
check "an untrusted peer's X-Forwarded-For does not split its bucket: 4th is 429" [ "$STATUS" = 429 ]
check "it is the address limit" body_has 'for this client address'
stop_edge

rc=0; env SHOPSTREAM_EDGE_TRUSTED_PROXIES=10.0.0.0/99 SHOPSTREAM_KAFKA_BROKERS=x SHOPSTREAM_PG_DSN=x "$EDGE" 2>"$TMP/bad.log" || rc=$?
check "a bad trusted-proxy list exits 2" [ "$rc" = 2 ]
check "and names the setting" grep -q 'SHOPSTREAM_EDGE_TRUSTED_PROXIES' "$TMP/bad.log"

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
