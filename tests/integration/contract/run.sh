#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The contract test: docs/openapi.yaml checked by tools nobody here wrote, from PyPI,
# installed here into a venv of Debian's own Python (requirements.txt pins them).
#  1. openapi-spec-validator validates the document (OpenAPI 3.1).
#  2. An edge, a projector and an inventory worker run against the test broker and
#     database, with CORS and (generous) rate limits on so their headers are checked too;
#     a product, a cart and an order come through the edge, the ML tables get seed.sql.
#  3. The edge must serve the very file at GET /v1/openapi.yaml.
#  4. schemathesis runs against the live edge with that served document, once with a
#     shopper token and once with an admin token, a bounded number of examples per
#     operation: no 5xx, and every status, content type, body (the problem bodies
#     included) and header conforms to the document.
# Usage: run.sh   (the SHOPSTREAM_IT_* variables of deploy/local/test.sh; 77 without them)
# SHOPSTREAM_CONTRACT_EXAMPLES (default 30) bounds the examples per operation and phase.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
IT_NAME=contract$$
. "$here/../e2e/lib.sh"
it_require_env

# ---- the tools: a venv made once per requirements.txt, in the user's cache -------------
venv=${SHOPSTREAM_CONTRACT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/shopstream/venv-contract}
if ! cmp -s "$here/requirements.txt" "$venv/.requirements" 2>/dev/null; then
    echo "creating $venv (PyPI: openapi-spec-validator, schemathesis)"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    /usr/bin/python3 -m venv "$venv" || fail "python3 -m venv (Debian: python3-venv)"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-input -r "$here/requirements.txt" \
        >"$IT_TMP/pip.log" 2>&1 || { cat "$IT_TMP/pip.log"; fail "pip install"; }
    cp "$here/requirements.txt" "$venv/.requirements"
fi
doc=$IT_REPO/docs/openapi.yaml
"$venv/bin/openapi-spec-validator" "$doc" || fail "openapi-spec-validator refused docs/openapi.yaml"
ok "openapi-spec-validator $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("openapi-spec-validator"))'): the document is valid OpenAPI 3.1"

# ---- the system under test ---------------------------------------------------------------
it_make_db
it_make_topics
shopper=contract-shopper
SHOPPER_TOKEN=$(it_token "$shopper" shopper)
ADMIN_TOKEN=$(it_token contract-admin admin)
SHOPSTREAM_EDGE_CORS_ORIGINS=https://shop.example \
SHOPSTREAM_EDGE_RATELIMIT_INGEST=1000000 SHOPSTREAM_EDGE_RATELIMIT_READS=1000000 \
    it_start_edge
it_start_projector
SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS SHOPSTREAM_TOPIC_PREFIX=$IT_PREFIX \
SHOPSTREAM_PG_DSN=$IT_DSN SHOPSTREAM_KAFKA_GROUP_ID=$IT_NAME-inventory \
    "$IT_BIN/workers/shopstream-worker" --role inventory >>"$IT_TMP/inventory.log" 2>&1 &
IT_PIDS+=("$!")
it_sql -v shopper="$shopper" -f "$here/seed.sql" >/dev/null || fail "seed.sql"

# What the documents' examples name (p1, o1) exists, so the examples phase reads real rows.
r=$(it_post "$ADMIN_TOKEN" '{"events":[{"type":"catalog.product_upserted","product_id":"p1","name":"Mug","category":"kitchen","price":{"amount_minor":1250,"currency":"GBP"},"stock":40},{"type":"catalog.product_upserted","product_id":"p2","name":"Cup","price":{"amount_minor":500,"currency":"GBP"},"stock":5}]}')
[ "${r%% *}" = 202 ] || fail "catalog: $r"
it_wait "p1 projected" 60 curl -fsS -o /dev/null -H "Authorization: Bearer $SHOPPER_TOKEN" "$IT_URL/v1/products/p1"
r=$(it_post "$SHOPPER_TOKEN" '{"events":[{"type":"cart.item_added","product_id":"p1","quantity":2,"unit_price":{"amount_minor":1250,"currency":"GBP"}},{"type":"order.placed","order_id":"o1","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":1250,"currency":"GBP"}}]}]}')
[ "${r%% *}" = 202 ] || fail "cart and order: $r"
it_wait "o1 projected" 60 curl -fsS -o /dev/null -H "Authorization: Bearer $SHOPPER_TOKEN" "$IT_URL/v1/orders/o1"
# A paid order of the shopper's, imported by the admin at event time 2023-11-15 (the day
# the analytics examples name), so paid orders and what is summed from them show rows.
r=$(it_post "$ADMIN_TOKEN" '{"events":[{"type":"product.viewed","user_id":"'"$shopper"'","product_id":"p1","at":1700009000000},{"type":"order.placed","user_id":"'"$shopper"'","order_id":"o2","at":1700010000000,"lines":[{"product_id":"p1","quantity":3,"unit_price":{"amount_minor":1250,"currency":"GBP"}}]},{"type":"order.paid","user_id":"'"$shopper"'","order_id":"o2","at":1700010001000,"amount":{"amount_minor":3750,"currency":"GBP"}}]}')
[ "${r%% *}" = 202 ] || fail "paid order: $r"
it_wait "o2 paid" 60 bash -c "curl -fsS -H 'Authorization: Bearer $ADMIN_TOKEN' '$IT_URL/v1/orders/o2' | grep -Eq '\"status\" *: *\"paid\"'"
ok "edge, projector and inventory up; p1, p2, o1, the paid o2 and the ML rows in place"

curl -fsS -D "$IT_TMP/doc.hdrs" -o "$IT_TMP/served.yaml" "$IT_URL/v1/openapi.yaml" || fail "GET /v1/openapi.yaml"
cmp -s "$doc" "$IT_TMP/served.yaml" || fail "GET /v1/openapi.yaml is not docs/openapi.yaml"
grep -qi '^content-type: application/yaml' "$IT_TMP/doc.hdrs" || fail "GET /v1/openapi.yaml content type"
ok "GET /v1/openapi.yaml serves docs/openapi.yaml as application/yaml, without a token"

# ---- schemathesis ------------------------------------------------------------------------
# The five the contract names, and what a conforming HTTP API also does: 405 with Allow for
# an undocumented method, 401 without the token, schema-invalid input refused.
checks=not_a_server_error,status_code_conformance,content_type_conformance
checks=$checks,response_schema_conformance,response_headers_conformance
checks=$checks,unsupported_method,allow_header_conformance,missing_required_header,ignored_auth
checks=$checks,negative_data_rejection
examples=${SHOPSTREAM_CONTRACT_EXAMPLES:-30}
st_version=$("$venv/bin/schemathesis" --version)
# st NAME TOKEN [schemathesis args...]: one run against the served document. From $IT_TMP:
# schemathesis keeps its cache (.schemathesis/) in the working directory. hooks.py makes it
# send the protobuf body too.
st() {
    local name=$1 token=$2; shift 2
    echo "$st_version, as $name: at most $examples examples per operation and phase"
    (cd "$IT_TMP" && SCHEMATHESIS_HOOKS=$here/hooks.py "$venv/bin/schemathesis" run "$IT_URL/v1/openapi.yaml" --url "$IT_URL" \
        -H "Authorization: Bearer $token" --checks "$checks" --max-examples "$examples" \
        --phases examples,coverage,fuzzing --workers 2 --request-timeout 10 --seed 9 \
        --suppress-health-check too_slow,filter_too_much,data_too_large --no-color \
        --report junit --report-junit-path "$IT_TMP/$name.xml" "$@") \
        >"$IT_TMP/schemathesis-$name.log" 2>&1
    local rc=$?
    cat "$IT_TMP/schemathesis-$name.log"
    return $rc
}
st shopper "$SHOPPER_TOKEN" || fail "schemathesis found responses that break the contract (shopper)"
# The admin's own operations: catalog events, every order, segments, forecasts, analytics,
# the console's data.
st admin "$ADMIN_TOKEN" --include-path-regex '^/v1/(events|orders/|segments|products/|analytics/|admin/)' ||
    fail "schemathesis found responses that break the contract (admin)"
curl -fsS -o /dev/null "$IT_URL/healthz" || fail "the edge died during the run"
ok "schemathesis: no 5xx, every response conforms to docs/openapi.yaml"

# The run reached each operation's success, not only its refusals (the edge's own counters).
curl -fsS "$IT_URL/metrics" >"$IT_TMP/metrics" || fail "GET /metrics"
grep '^shopstream_edge_requests_total' "$IT_TMP/metrics"
for rs in events:202 cart:200 orders:200 order:200 product:200 recommendations:200 similar:200 \
          segment:200 segments:200 forecast:200 openapi:200 events:204 activity:200 \
          revenue:200 top_products:200 funnel:200 overview:200 console:200; do
    grep -Eq "^shopstream_edge_requests_total\{route=\"${rs%%:*}\",status=\"${rs##*:}\"\} [1-9]" \
        "$IT_TMP/metrics" || fail "no ${rs##*:} answered on route ${rs%%:*} during the run"
done
ok "every operation answered its success status at least once"
