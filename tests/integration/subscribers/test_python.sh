#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The example subscriber (docs/examples/python-subscriber) run once against the local
# stack: in a venv of Debian's /usr/bin/python3 with its pinned PyPI packages (made once
# per requirements.txt, in the user's cache), it reads the order topic the edge wrote,
# decodes with the installed descriptor set, and its summary per currency must match the
# events posted (events.json). The order topic is read twice: the second run of the same
# group must find nothing new, as its offsets were committed.
IT_NAME=itpysub$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env
here=$(cd "$(dirname "$0")" && pwd)
example=$IT_REPO/docs/examples/python-subscriber
venv=${SHOPSTREAM_SUBSCRIBER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/shopstream/venv-subscriber}
if ! cmp -s "$example/requirements.txt" "$venv/.requirements" 2>/dev/null; then
    echo "creating $venv (PyPI: confluent-kafka, protobuf)"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    /usr/bin/python3 -m venv "$venv" || fail "python3 -m venv (Debian: python3-venv)"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-input --only-binary :all: \
        -r "$example/requirements.txt" || fail "pip install the example's requirements"
    cp "$example/requirements.txt" "$venv/.requirements"
fi
cmake --install "$IT_BIN" --prefix "$IT_TMP/prefix" >/dev/null || fail "cmake --install"
desc=$IT_TMP/prefix/share/shopstream/shopstream.desc

it_make_db
it_make_topics
it_start_edge
for who in admin alice payments; do
    case $who in admin) tok=$(it_token ops admin) ;; payments) tok=$(it_token payments service) ;; *) tok=$(it_token alice) ;; esac
    r=$(it_post "$tok" "$(jq -c --arg w "$who" '{events: .[$w]}' "$here/events.json")")
    [ "${r%% *}" = 202 ] || fail "post $who's events: $r"
done
# A retried post (same ids): at-least-once, the subscriber must count each event once.
r=$(it_post "$(it_token alice)" "$(jq -c '{events: [.alice[] | select(.type == "order.placed")]}' "$here/events.json")")
[ "${r%% *}" = 202 ] || fail "retry: $r"

# What the summary must say, computed from the posted events (not from the topics).
want=$(jq -c '[.[][] | select(.type | startswith("order."))] as $o | {
    placed_by_currency: ([$o[] | select(.type == "order.placed") | .total] | group_by(.currency)
        | map({key: .[0].currency, value: {orders: length, amount_minor: (map(.amount_minor) | add)}}) | from_entries),
    paid_by_currency: ([$o[] | select(.type == "order.paid") | .amount] | group_by(.currency)
        | map({key: .[0].currency, value: {payments: length, amount_minor: (map(.amount_minor) | add)}}) | from_entries),
    events_by_type: ($o | group_by(.type) | map({key: .[0].type, value: length}) | from_entries)}' "$here/events.json")
n_order=$(jq '[.[][] | select(.type | startswith("order."))] | length' "$here/events.json")
n_retry=$(jq '[.alice[] | select(.type == "order.placed")] | length' "$here/events.json")

run() {
    "$venv/bin/python" "$example/subscriber.py" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --descriptor-set "$desc" \
        --topic "${IT_PREFIX}order.v1" --group "$IT_NAME-sub" --from-beginning "$@" 2>>"$IT_TMP/subscriber.log"
}
out=$(run --max-messages $((n_order + n_retry)) --idle-timeout-s 30) || fail "subscriber.py failed"
echo "$out" | jq -e --argjson w "$want" --argjson n $((n_order + n_retry)) --argjson d "$n_retry" '
    .placed_by_currency == $w.placed_by_currency and .paid_by_currency == $w.paid_by_currency
    and .events_by_type == $w.events_by_type and .messages == $n and .duplicates == $d and .undecodable == 0' >/dev/null \
    || fail "summary $out, want $want with $n_retry duplicates"
ok "the example subscriber's revenue per currency matches the posted events (duplicates counted once)"

out=$(run --idle-timeout-s 5) || fail "subscriber.py second run"
echo "$out" | jq -e '.messages == 0' >/dev/null || fail "the group's offsets were not committed: $out"
ok "a second run of the same group reads nothing new"
