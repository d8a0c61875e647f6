#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The notify role's per-pod delivery rate, beside the raw limit of the same machine in the
# same run. Per concurrency C: fresh topics, a backlog of inventory outcomes written BEFORE
# the worker starts (it-notify-gen: --orders orders, about 1.53 status changes each), then
# one notify worker with one endpoint (SHOPSTREAM_NOTIFY_CONCURRENCY=C, the other settings
# at their defaults) drains it into nb-receiver (HTTPS, keep-alive, 204 to every POST). The
# rate is the receiver's: from the first POST it saw to the last. The worker's CPU is read
# from /proc between those two points (its start-up and Kafka join are not counted), and
# its /metrics shopstream_notify_deliveries_total must agree with the receiver's count.
# Then nb-post, libcurl multi alone with the worker's request options, POSTs the same
# number of bodies of the same mean size to the same receiver at the same concurrency:
# the raw limit, timed the same way.
#
#   bench/notify/run.sh [--orders 13000] [--concurrency "4 16"] [--h2] [--port 18443]
#                       [--metrics-port 18444] [--window N]
# --window sets SHOPSTREAM_NOTIFY_WINDOW (default: unset, the role's 1000).
# --h2: the receiver offers HTTP/2 by ALPN (libcurl multiplexes the C requests on one
# connection); without it, HTTP/1.1 keep-alive (C connections).
# Environment: SHOPSTREAM_BUILD_DIR, SHOPSTREAM_PG_DSN, SHOPSTREAM_KAFKA_BROKERS
# (deploy/local/env.sh sets them). NB_KEEP=1 keeps the logs, certificates and counts.
set -euo pipefail
bin=${SHOPSTREAM_BUILD_DIR:?}
dsn=${SHOPSTREAM_PG_DSN:?}
brokers=${SHOPSTREAM_KAFKA_BROKERS:?}
orders=13000 concs="4 16" h2="" port=18443 metrics_port=18444 window=""
while [ $# -gt 0 ]; do
    case "$1" in
        --orders) orders=$2; shift 2 ;;
        --concurrency) concs=$2; shift 2 ;;
        --h2) h2=--h2; shift ;;
        --port) port=$2; shift 2 ;;
        --metrics-port) metrics_port=$2; shift 2 ;;
        --window) window=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
for b in workers/shopstream-worker tools/admin/shopstream-admin tests/integration/notify/it-notify-gen \
         bench/notify/nb-receiver bench/notify/nb-post; do
    [ -x "$bin/$b" ] || { echo "missing $bin/$b (build first)" >&2; exit 1; }
done
run=nb$$_$(date +%s)
tmp=$(mktemp -d)
pids=()
cleanup() {
    local rc=$? p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${NB_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
        echo "kept: logs $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
url=https://127.0.0.1:$port

# A CA and a certificate for 127.0.0.1 signed by it (as tests/integration/notify does):
# libcurl verifies the peer and the host name, as it does in production.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 2 \
    -subj "/CN=shopstream-bench-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$tmp/srv.key" -out "$tmp/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$tmp/srv.ext"
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
    -out "$tmp/srv.pem" -days 2 -extfile "$tmp/srv.ext" 2>/dev/null
printf 'bench-notify-secret-0123456789\n' >"$tmp/ep.secret"

: >"$tmp/watch.pid"
"$bin/bench/notify/nb-receiver" --port "$port" --cert "$tmp/srv.pem" --key "$tmp/srv.key" $h2 \
    --cpu-pid-file "$tmp/watch.pid" >"$tmp/receiver.out" 2>"$tmp/receiver.log" &
pids+=($!)
counters() { curl -sf --cacert "$tmp/ca.pem" "$url/${1:-count}"; }
field() { sed -n "s/.*\b$1=\([-0-9.]*\).*/\1/p" <<<"$2"; }
for _ in $(seq 50); do counters >/dev/null 2>&1 && break; sleep 0.1; done
counters >/dev/null || { echo "the receiver did not start" >&2; exit 1; }

echo "notify bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), libcurl $(curl-config --version 2>/dev/null | cut -d' ' -f2 || echo '?'), receiver ${h2:+h2 + }http/1.1, $(date -u +%FT%TZ)"
for c in $concs; do
    prefix=bench.$run.c$c.
    "$bin/tools/admin/shopstream-admin" create-topics --brokers "$brokers" --prefix "$prefix" --partitions 4 \
        >"$tmp/topics-c$c.log" 2>&1
    # The backlog first: the worker finds it all waiting, as after an outage of the endpoint.
    "$bin/tests/integration/notify/it-notify-gen" --brokers "$brokers" --topic "${prefix}inventory.v1" \
        --from 0 --to "$orders" >"$tmp/expected-c$c.txt"
    n=$(wc -l <"$tmp/expected-c$c.txt")
    counters reset >/dev/null
    SHOPSTREAM_PG_DSN="$dsn" SHOPSTREAM_KAFKA_GROUP_ID="bench-$run-c$c" SHOPSTREAM_TOPIC_PREFIX="$prefix" \
    SHOPSTREAM_KAFKA_BROKERS="$brokers" SHOPSTREAM_WORKER_HTTP_PORT="$metrics_port" \
    SHOPSTREAM_NOTIFY_ENDPOINTS="bench=$url/hook" SHOPSTREAM_NOTIFY_SECRET_BENCH_FILE="$tmp/ep.secret" \
    SHOPSTREAM_NOTIFY_CA_FILE="$tmp/ca.pem" SHOPSTREAM_NOTIFY_CONCURRENCY="$c" \
        env ${window:+SHOPSTREAM_NOTIFY_WINDOW=$window} "$bin/workers/shopstream-worker" --role notify >>"$tmp/worker-c$c.log" 2>&1 &
    w=$!   # env execs the worker: the same pid
    pids+=("$w")
    echo "$w" >"$tmp/watch.pid"   # before its first POST: the join alone takes longer
    deadline=$(( $(date +%s) + 600 ))
    while :; do
        got=$(counters)
        [ "$(field requests "$got")" -ge "$n" ] && break
        kill -0 "$w" 2>/dev/null || { echo "c$c: the worker exited; see $tmp/worker-c$c.log" >&2; exit 1; }
        [ "$(date +%s)" -ge "$deadline" ] && { echo "c$c: the receiver had $(field requests "$got") of $n" >&2; exit 1; }
        sleep 0.05
    done
    curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics-c$c.txt" || echo "warning: c$c: no /metrics" >&2
    metric() { awk -v r="result=\"$1\"" '/^shopstream_notify_deliveries_total\{/ && index($0, r) { s += $NF } END { print s + 0 }' "$tmp/metrics-c$c.txt"; }
    delivered=$(metric delivered) failed=$(metric failed)
    kill -TERM "$w"; wait "$w" || echo "warning: c$c: the worker exited $? on SIGTERM" >&2
    : >"$tmp/watch.pid"
    req=$(field requests "$got") bytes=$(field bytes "$got")
    w_ms=$(( $(field last_ms "$got") - $(field first_ms "$got") ))
    w_cpu=$(field cpu_s "$got")
    [ "$delivered" = "$req" ] ||
        echo "warning: c$c: the receiver counted $req POSTs, the worker's metrics $delivered delivered, $failed failed" >&2
    body=$(( bytes / req ))

    counters reset >/dev/null
    "$bin/bench/notify/nb-post" --url "$url/hook" --ca "$tmp/ca.pem" --requests "$req" --concurrency "$c" \
        --body-bytes "$body" >"$tmp/post-c$c.out" 2>"$tmp/post-c$c.log" ||
        { echo "c$c: nb-post failed: $(cat "$tmp/post-c$c.log")" >&2; exit 1; }
    got=$(counters)
    r_req=$(field requests "$got")
    r_ms=$(( $(field last_ms "$got") - $(field first_ms "$got") ))
    r_cpu=$(sed -n 's/.*cpu \([0-9.]*\) us per request.*/\1/p' "$tmp/post-c$c.out")
    awk -v c="$c" -v n="$req" -v wms="$w_ms" -v wcpu="$w_cpu" -v rn="$r_req" -v rms="$r_ms" -v rcpu="$r_cpu" \
        -v body="$body" -v win="${window:+, window $window}" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        wr = n * 1000 / (wms > 0 ? wms : 1); rr = rn * 1000 / (rms > 0 ? rms : 1)
        printf "notify: one worker, 1 endpoint, concurrency %d%s: %d deliveries in %d ms: %.0f/s, worker cpu %.1f us per delivery; raw libcurl multi, same receiver and concurrency: %d in %d ms: %.0f/s, cpu %.1f us per request; ratio %.2f (rate), %.2f (cpu); body %d bytes, load %s\n",
               c, win, n, wms, wr, wcpu * 1e6 / n, rn, rms, rr, rcpu, wr / rr, (wcpu * 1e6 / n) / (rcpu > 0 ? rcpu : 1), body, load }'
done
