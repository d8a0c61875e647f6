#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-admin topics against the real broker, checked with Kafka's own
# kafka-configs (kafka.admin.ConfigCommand from the broker's jars): missing topics are
# created with their policy (proto/core/event_topic_policy.c), --dry-run changes
# nothing and says what would, a topic set by hand is brought back to its policy while
# an operator's unrelated override survives (AlterConfigs resets what it is not sent),
# and create-topics still leaves existing topics alone.
IT_NAME=ittopics$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env
admin=$IT_BIN/tools/admin/shopstream-admin
jars=${SHOPSTREAM_KAFKA_JARS:-}
[ -f "$jars/.complete" ] || { echo "skipped: SHOPSTREAM_KAFKA_JARS (Kafka's tools) not installed"; exit 77; }
B=$SHOPSTREAM_IT_KAFKA_BROKERS
prefix="$IT_NAME-$RANDOM."
kcfg() { java -Xmx128m -cp "$jars/*" kafka.admin.ConfigCommand --bootstrap-server "$B" --entity-type topics "$@" 2>/dev/null; }
# "name=value" of topic $1's dynamic config $2 (empty when not overridden).
dyn() { kcfg --entity-name "$1" --describe | grep -o " $2=[^ ]*" | head -n1 | tr -d ' '; }

"$admin" topics --brokers "$B" --prefix "$prefix" --dry-run >"$IT_TMP/dry.out" || fail "dry-run on missing topics"
grep -c 'missing: would create' "$IT_TMP/dry.out" | grep -qx 7 || fail "dry-run should list 7 missing topics: $(cat "$IT_TMP/dry.out")"
kcat -b "$B" -L 2>/dev/null | grep -q "\"${prefix}" && fail "dry-run created a topic"
ok "dry-run on an empty prefix creates nothing and lists every topic"

"$admin" topics --brokers "$B" --prefix "$prefix" --partitions 2 >/dev/null 2>"$IT_TMP/create.log" || fail "topics"
for s in browse cart order catalog inventory; do
    [ "$(dyn "$prefix$s.v1" retention.ms)" = retention.ms=-1 ] || fail "$s should keep everything"
    [ "$(dyn "$prefix$s.v1" cleanup.policy)" = cleanup.policy=delete ] || fail "$s must not be compacted"
done
[ "$(dyn "${prefix}ml.v1" cleanup.policy)" = cleanup.policy=compact ] || fail "ml should be compacted"
[ "$(dyn "${prefix}ml.v1" min.compaction.lag.ms)" = min.compaction.lag.ms=604800000 ] || fail "ml keeps 7 days uncompacted"
[ "$(dyn "${prefix}dlq.v1" retention.ms)" = retention.ms=2592000000 ] || fail "dlq keeps 30 days"
[ "$(dyn "${prefix}order.v1" min.insync.replicas)" = min.insync.replicas=1 ] || fail "min.insync.replicas 1 for rf 1"
ok "created with their policy"

# An operator shortened the cart's retention and raised its message size by hand.
kcfg --entity-name "${prefix}cart.v1" --alter --add-config retention.ms=3600000,max.message.bytes=2000000 >/dev/null \
    || fail "kafka-configs --alter"
"$admin" topics --brokers "$B" --prefix "$prefix" --dry-run >"$IT_TMP/dry2.out" || fail "dry-run"
grep -A3 "^${prefix}cart.v1 " "$IT_TMP/dry2.out" | grep -Eq 'retention.ms +current 3600000 .* desired -1 +change' \
    || fail "dry-run should show the cart's retention change: $(cat "$IT_TMP/dry2.out")"
[ "$(grep -c ' change$' "$IT_TMP/dry2.out")" = 1 ] || fail "only the cart's retention differs"
[ "$(dyn "${prefix}cart.v1" retention.ms)" = retention.ms=3600000 ] || fail "dry-run changed the topic"
ok "dry-run prints current against desired and changes nothing"

"$admin" topics --brokers "$B" --prefix "$prefix" >/dev/null 2>"$IT_TMP/align.log" || fail "topics again"
grep -c 'set topic config' "$IT_TMP/align.log" | grep -qx 1 || fail "one topic should be altered: $(cat "$IT_TMP/align.log")"
[ "$(dyn "${prefix}cart.v1" retention.ms)" = retention.ms=-1 ] || fail "cart retention not restored"
[ "$(dyn "${prefix}cart.v1" max.message.bytes)" = max.message.bytes=2000000 ] || fail "the operator's override was reset"
"$admin" topics --brokers "$B" --prefix "$prefix" --dry-run | grep -q ' change$' && fail "still differs after topics"
ok "topics restores the policy and keeps unrelated overrides"

kcfg --entity-name "${prefix}dlq.v1" --alter --add-config retention.ms=1000 >/dev/null || fail "kafka-configs --alter dlq"
"$admin" create-topics --brokers "$B" --prefix "$prefix" >/dev/null 2>"$IT_TMP/again.log" || fail "create-topics"
grep -c 'topic exists' "$IT_TMP/again.log" | grep -qx 7 || fail "create-topics should report 7 existing topics"
[ "$(dyn "${prefix}dlq.v1" retention.ms)" = retention.ms=1000 ] || fail "create-topics changed an existing topic"
ok "create-topics leaves existing topics as they are"
