#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-bench-ingest against a test edge: a tiny run completes, prints its table,
# its ratio line and, given the edge's pid, the edge's CPU per request and per event beside
# the raw producer's. Speed is not checked; only that the CPU figures are sane numbers
# that agree with each other.
IT_NAME=itbenchingest$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env

bin=$IT_BIN/bench/ingest/shopstream-bench-ingest
[ -x "$bin" ] || fail "$bin not built"
it_make_db
it_make_topics
it_start_edge

out=$("$bin" --url "$IT_URL" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --topic-prefix "$IT_PREFIX" \
        --single 40 --batches 4 --concurrency 4 --edge-pid "$IT_EDGE_PID" 2>"$IT_TMP/bench.log") || { echo "$out"; fail "bench-ingest exited with $?"; }
echo "$out"
grep -Eq '^http single-event +40 ' <<<"$out" || fail "no single-event row for 40 events"
grep -Eq '^http 100-event batches +400 ' <<<"$out" || fail "no batch row for 400 events"
grep -Eq '^raw librdkafka producer +399 ' <<<"$out" || fail "no raw producer row (400 records less the warm-up)"
grep -Eq '^ratio batched-ingest / raw-producer = [0-9]+\.[0-9]{2} \(aim >= 0\.50\)$' <<<"$out" || fail "no ratio line"
ok "bench-ingest completed and printed its ratio"

# CPU rows: "<mode> <cpu s> <requests> <us/request> <us/event>". The edge's figures come in
# clock ticks (10 ms), so a tiny run may read 0; they must still be non-negative, agree with
# each other (us/request = us/event x events per request) and stay below a second per event.
num='[0-9]+\.[0-9]+'
grep -Eq "^cpu: edge pid $IT_EDGE_PID \(utime\+stime from /proc/$IT_EDGE_PID/stat" <<<"$out" || fail "no cpu header naming the edge pid"
check_cpu_row() { # mode requests events-per-request
    local row; row=$(grep -E "^$1 +$num +$2 +$num +$num\$" <<<"$out") || fail "no cpu row for '$1' with $2 requests"
    awk -v epr="$3" '{ n = NF; cpu = $(n-3); req = $(n-1); ev = $n;
        if (cpu < 0 || cpu > 600 || ev > 1e6 || req < 0) exit 1;
        d = req - ev * epr; if (d < 0) d = -d; if (d > 0.05 * req + 0.2 * epr) exit 1 }' <<<"$row" \
        || fail "cpu row for '$1' is not sane: $row"
}
check_cpu_row "edge, single-event" 40 1
check_cpu_row "edge, 100-event batches" 4 100
raw=$(grep -E "^raw librdkafka producer +$num +- +- +$num\$" <<<"$out") || fail "no cpu row for the raw producer"
awk '{ if ($4 <= 0 || $4 > 60 || $NF <= 0 || $NF > 1e6) exit 1 }' <<<"$raw" || fail "raw producer cpu not sane: $raw"
grep -Eq "^ratio edge-cpu / raw-producer-cpu per event, batched = $num \(aim: edge <= 4 us per event\)\$" <<<"$out" \
    || fail "no batched cpu ratio line"
grep -Eq "^ratio edge-cpu / raw-producer-cpu per event, single-event = $num \(aim: edge <= 30 us per request\)\$" <<<"$out" \
    || fail "no single-event cpu ratio line"
ok "bench-ingest printed the edge's cpu per request and per event beside the raw producer's"

# A pid that cannot be read is a usage error, not a run without figures.
true & gone=$!; wait "$gone" || true
set +e; "$bin" --url "$IT_URL" --edge-pid "$gone" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "bench-ingest with a gone edge pid exited $rc, want 2"
ok "bench-ingest refuses an edge pid it cannot read"
