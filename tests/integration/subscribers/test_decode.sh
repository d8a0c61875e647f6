#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The published contract read with tools nobody here wrote: events posted through the
# edge are read back from the topics with kcat and decoded with protoc --decode and the
# descriptor set as `cmake --install` publishes it (share/shopstream/shopstream.desc),
# the message type taken from each record's CloudEvents ce_type header; the events must
# be the ones posted, and shopstream-admin tail must print the same records.
IT_NAME=itdecode$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env
command -v protoc >/dev/null || fail "protoc missing (Debian's protobuf-compiler, deploy/local/install.sh)"
here=$(cd "$(dirname "$0")" && pwd)
admin=$IT_BIN/tools/admin/shopstream-admin
cmake --install "$IT_BIN" --prefix "$IT_TMP/prefix" >/dev/null || fail "cmake --install"
desc=$IT_TMP/prefix/share/shopstream/shopstream.desc
[ -s "$desc" ] && [ -f "$IT_TMP/prefix/share/shopstream/proto/shopstream/v1/events.proto" ] \
    || fail "the descriptor set and the .proto files are not installed"
ok "descriptor set and .proto files installed under share/shopstream"

it_make_db
it_make_topics
it_start_edge
for who in admin alice payments; do
    case $who in admin) tok=$(it_token ops admin) ;; payments) tok=$(it_token payments service) ;; *) tok=$(it_token alice) ;; esac
    body=$(jq -c --arg w "$who" '{events: .[$w]}' "$here/events.json")
    r=$(it_post "$tok" "$body")
    [ "${r%% *}" = 202 ] || fail "post $who's events: $r"
done
n_posted=$(jq '[.[] | length] | add' "$here/events.json")
ok "$n_posted events posted"

dumps=()
n_read=0
for s in browse cart order catalog; do
    kcat -b "$SHOPSTREAM_IT_KAFKA_BROKERS" -C -t "$IT_PREFIX$s.v1" -o beginning -e -q \
        -f '%t\t%p\t%o\t%k\t%S\t%h\n%s' >"$IT_TMP/$s.dump" || fail "kcat $s"
    dumps+=("$IT_TMP/$s.dump")
    "$admin" tail --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$IT_PREFIX" --topic "$s" --from-beginning \
        --exit-at-end --timeout-ms 20000 >>"$IT_TMP/tail.jsonl" 2>>"$IT_TMP/tail.log" || fail "tail $s"
done
/usr/bin/python3 "$here/check_decode.py" "$desc" "$here/events.json" "$IT_TMP/tail.jsonl" "${dumps[@]}"
